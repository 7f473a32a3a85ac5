"""Waste sorting, harmless treatment and rural collection."""

from __future__ import annotations
