"""Checked settings for escalation rules (``[rules."<key>"]`` in duban.toml), for core's rules
and the plugins' alike: a bad value is a ``UserError`` naming the file, the rule and the key,
in the one style of ``config.checked_number`` and its siblings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from .config import checked_date, checked_number, place
from .errors import UserError
from .i18n import t
from .models import LEVEL_ORDER


def rule_place(rule: str, key: str) -> str:
    """Where a rule's setting is written: ``duban.toml [rules."<rule>"] key``."""
    return place(f'rules."{rule}"', key)


def config_number(
    cfg: Mapping[str, Any], rule: str, key: str, minimum: float = 0, *, whole: bool = False
) -> float:
    """A number at least ``minimum`` (a whole one with ``whole``)."""
    return checked_number(cfg.get(key), where=rule_place(rule, key), minimum=minimum, whole=whole)


def config_count(cfg: Mapping[str, Any], rule: str, key: str, minimum: int = 0) -> int:
    """A whole number at least ``minimum``."""
    return int(
        checked_number(cfg.get(key), where=rule_place(rule, key), minimum=minimum, whole=True)
    )


def config_date(cfg: Mapping[str, Any], rule: str, key: str) -> date:
    """A date written 2025-12-31 (a TOML date or a string)."""
    return checked_date(cfg.get(key), where=rule_place(rule, key))


def config_level(cfg: Mapping[str, Any], rule: str, key: str = "level") -> str:
    """One of the ladder's levels (督办 … 移交问责), by its key."""
    value = cfg.get(key)
    if value not in LEVEL_ORDER:
        raise UserError(
            t(
                "{where}: unknown level {value!r}; one of {choices}",
                where=rule_place(rule, key),
                value=value,
                choices=", ".join(LEVEL_ORDER),
            )
        )
    return str(value)
