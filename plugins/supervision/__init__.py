"""Inspection and supervision: the rectification ledger and close-out."""

from __future__ import annotations
