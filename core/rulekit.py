"""Checked settings for escalation rules (``[rules."<key>"]`` in duban.toml): a bad value is a
``UserError`` naming the file, the rule and the key. See also ``config_level`` and
``config_count`` in core/rules.py, which core's own rules use."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from .errors import UserError
from .i18n import t


def _where(rule: str, key: str) -> str:
    return f'duban.toml [rules."{rule}"] {key}'


def config_number(
    cfg: Mapping[str, Any], rule: str, key: str, minimum: float = 0, *, whole: bool = False
) -> float:
    """A number at least ``minimum`` (a whole one with ``whole``)."""
    value = cfg.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value < minimum
        or (whole and not float(value).is_integer())
    ):
        raise UserError(
            t(
                "{where}: must be a number, at least {minimum}, not {value!r}",
                where=_where(rule, key),
                minimum=minimum,
                value=value,
            )
        )
    return value


def config_date(cfg: Mapping[str, Any], rule: str, key: str) -> date:
    """A date written 2025-12-31 (a TOML date or a string)."""
    value = cfg.get(key)
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise UserError(
            t("{where}: not a date (YYYY-MM-DD): {value!r}", where=_where(rule, key), value=value)
        ) from None
