"""The Yangtze ten-year fishing ban: fisher resettlement, patrols, illegal-fishing cases."""

from __future__ import annotations
