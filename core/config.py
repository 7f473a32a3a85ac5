"""``duban.toml``: thresholds and settings changeable without code.

Looked up in ``DUBAN_CONFIG``, else ``./duban.toml``, else the user config directory.
Every key has a default in code; the file only overrides. See docs/configuration.md.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import UserError
from .i18n import t

DEFAULT_REMINDERS: dict[str, Any] = {
    "lead": [30, 7, 1, 0],  # days before the due date; 0 is the due day
    "participant": [7],
    "implementer": [7],
    "overdue_every": 7,  # then weekly while overdue (leads and participants)
}


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


@lru_cache(maxsize=8)
def _load(path: str | None) -> dict[str, Any]:
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


def load_config() -> dict[str, Any]:
    """The parsed ``duban.toml`` (an empty dict when there is none)."""
    path = config_path()
    return _load(str(path) if path else None)


def section(name: str, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """``[name]`` of the config over ``defaults``; dotted names reach into tables."""
    node: Any = load_config()
    for part in name.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return {**(defaults or {}), **(node if isinstance(node, dict) else {})}


def rule_settings(key: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """A rule's thresholds: ``[rules."<key>"]`` over the rule's own defaults."""
    rules = load_config().get("rules", {})
    return {**defaults, **(rules.get(key, {}) if isinstance(rules, dict) else {})}


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


def reminder_policy(obligation: Any = None) -> dict[str, Any]:
    """Reminder offsets for an obligation: a plugin's answer for its domain, else
    ``[reminders.<domain>]``, else ``[reminders]``, else the defaults."""
    base = section("reminders", DEFAULT_REMINDERS)
    base = {k: v for k, v in base.items() if k in DEFAULT_REMINDERS or k == "quiet_hours"}
    if obligation is not None:
        from .plugins import get_host

        answer = get_host().first("duban_reminder_offsets", obligation=obligation)
        if answer:
            base = {**base, **answer}
        domain_cfg = section(f"reminders.{getattr(obligation, 'domain', '')}")
        base = {**base, **{k: v for k, v in domain_cfg.items() if k in DEFAULT_REMINDERS}}
    return base
