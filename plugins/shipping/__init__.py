"""Ship pollutant receipt chain, shore power and tank washing."""

from __future__ import annotations
