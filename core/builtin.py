"""Core's own contributions, registered through the same hooks as any plugin."""

from __future__ import annotations
