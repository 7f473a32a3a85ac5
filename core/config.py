"""``duban.toml``: finding and parsing the file, and the checks every setting passes.

Looked up in ``DUBAN_CONFIG``, else ``./duban.toml``, else the user config directory.
Every key has a default in code; the file only overrides. What it sets is read through
``settings.get_settings()``, the one typed object. See docs/configuration.md.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from .errors import UserError
from .i18n import t


def config_path() -> Path | None:
    env = os.environ.get("DUBAN_CONFIG")
    if env:
        return Path(env)
    local = Path("duban.toml")
    if local.is_file():
        return local
    from platformdirs import user_config_path

    user = user_config_path("duban", appauthor=False) / "duban.toml"
    return user if user.is_file() else None


def read_config(path: Path | None) -> dict[str, Any]:
    """The parsed file at ``path`` (an empty dict for None)."""
    if path is None:
        return {}
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise UserError(
            t("{path}: cannot read: {why}", path=path, why=exc.strerror or exc)
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(t("{path}: not valid TOML: {why}", path=path, why=exc)) from None


# Checked values: every bad setting is one line naming the file, the table and the key.
def place(table: str, key: str) -> str:
    """Where a setting is written, as messages name it: ``duban.toml [table] key``."""
    return f"duban.toml [{table}] {key}"


def checked_number(value: Any, *, where: str, minimum: float = 0, whole: bool = False) -> Any:
    """``value`` if it is a number at least ``minimum`` (a whole one, as an int, with
    ``whole``); else a UserError naming ``where``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value < minimum
        or (whole and not float(value).is_integer())
    ):
        message = (
            "{where}: must be a whole number, at least {minimum}, not {value!r}"
            if whole
            else "{where}: must be a number, at least {minimum}, not {value!r}"
        )
        raise UserError(t(message, where=where, minimum=minimum, value=value))
    return int(value) if whole else value


def checked_date(value: Any, *, where: str) -> date:
    """A date written 2025-12-31 (a TOML or YAML date, or a string)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise UserError(
            t("{where}: not a date (YYYY-MM-DD): {value!r}", where=where, value=value)
        ) from None


def checked_time(value: Any, *, where: str) -> time:
    """A local time written HH:MM."""
    try:
        hour, minute = (int(part) for part in str(value).strip().split(":"))
        return time(hour, minute)
    except ValueError:
        raise UserError(
            t("{where}: must be a time HH:MM, not {value!r}", where=where, value=value)
        ) from None
