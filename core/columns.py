"""Column values as the bare drivers return them (``queries.Lean``), turned into what the
ORM gives: SQLite keeps dates and instants as ISO text and JSON as text."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any


def day(value: Any) -> date:
    """A date column: ISO text on SQLite, a date on PostgreSQL."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def instant(value: Any) -> datetime | None:
    """A UTC instant column (naive ISO text on SQLite, aware on PostgreSQL) as aware UTC,
    as ``models.UTCDateTime`` reads it."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def document(value: Any) -> Any:
    """A JSON column: text on SQLite, already parsed on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value
