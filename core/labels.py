"""What a person reads for duban's codes: states, roles, ladder levels, lights, target
statuses, domains, audit actions, units, goals and scopes, in the current language.

The CLI's tables and the TUI's screens both label through here, so ``open`` reads 未启动
and ``lte 2 class`` reads 达到或优于II类 wherever it is shown. No ORM import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .i18n import catalog, language, pick, t, t_zh
from .vocabulary import Level, State

# The rungs of the ladder; the keys are what JSON output and duban.toml use.
LEVEL_NAMES: dict[str, str] = {
    Level.remind: "Reminder",
    Level.supervise: "Supervision",
    Level.list: "Public listing",
    Level.summon: "Summons",
    Level.freeze: "Regional approval freeze",
    Level.refer: "Referral for accountability",
}

_STATE_LABELS = {
    State.open: "Not started",
    State.in_progress: "In progress",
    State.submitted: "Submitted",
    State.closed: "Closed",
    State.cancelled: "Cancelled",
}

_ROLE_LABELS = {"lead": "Lead", "participant": "Participant", "implementer": "Implementer"}

_STATUS_LABELS = {
    "met": "Met",
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "missed": "Missed",
    "no_data": "No data",
    "stale": "Stale",
}

_LIGHT_LABELS = {"green": "green", "yellow": "yellow", "red": "red"}

_UNIT_LABELS = {
    "class": "quality class",
    "index": "index points",
    "t": "tonnes",
    "kWh": "kilowatt-hours",
}

_OWNER_KINDS = {
    "government": "People's government",
    "department": "Department",
    "judicial": "Judicial body",
    "enterprise": "Enterprise",
    "other": "Other",
}

# What an audit event is about (``audit_event.entity_type``); plugins record core's kinds.
_ENTITY_LABELS = {
    "obligation": "Obligation",
    "milestone": "Milestone",
    "target": "Target",
    "measurement": "Reading",
    "site": "Site",
    "region": "Region",
    "owner": "Owner",
    "user": "User",
    "plan": "Plan",
    "setting": "Setting",
    "escalation": "Escalation",
    "submission": "Close-out request",
    "evidence": "Evidence",
    "report": "Progress report",
    "feed": "Calendar feed",
    "notification": "Notification",
}

_ROMAN = ("", "I", "II", "III", "IV", "V", "VI")


def _label(table: Mapping[Any, str], key: str | None) -> str:
    return t(table[key]) if key is not None and key in table else (key or "")


def level_label(level: str | None, lang: str | None = None) -> str:
    """A rung's name in ``lang`` (default: the current language); a calendar feed or a
    follow-up's title names it in a language of its own."""
    if lang is None or level not in LEVEL_NAMES:
        return _label(LEVEL_NAMES, level)
    return t_zh(LEVEL_NAMES[level]) if lang == "zh" else LEVEL_NAMES[level]


def state_label(state: str | None) -> str:
    return _label(_STATE_LABELS, state)


def role_label(role: str | None) -> str:
    return _label(_ROLE_LABELS, role)


def status_label(status: str | None) -> str:
    return _label(_STATUS_LABELS, status)


def light_label(light: str | None) -> str:
    return _label(_LIGHT_LABELS, light)


def _registered(kind: str, key: str | None) -> str:
    # Domains and audit actions are named by whoever brings them (core's own through
    # core/builtin.py), through the plugins' ``duban_register_labels``.
    if not key:
        return ""
    from .plugins import get_host

    found = get_host().labels().get((kind, key))
    return found.label if found else key


def domain_label(domain: str | None) -> str:
    return _registered("domain", domain)


def action_label(action: str | None) -> str:
    return _registered("action", action)


def entity_label(kind: str | None) -> str:
    return _label(_ENTITY_LABELS, kind)


def owner_kind_label(kind: str | None) -> str:
    return _label(_OWNER_KINDS, kind)


def unit_label(unit: str | None) -> str:
    """A unit in words where it has any (``class`` 类, ``t`` 吨); symbols (%, mg/L) as they are."""
    return _label(_UNIT_LABELS, unit)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def goal_text(comparator: str, value: float | None, unit: str | None = "") -> str:
    """A target's goal in words: 不低于97.3%, 达到或优于II类, 下降, 下降10%."""
    number = _number(value)
    if unit == "class" and value is not None and float(value).is_integer():
        roman = _ROMAN[int(value)] if 0 < int(value) < len(_ROMAN) else number
        if comparator in ("lte", "le"):
            return t("class {value} or better", value=roman)
        if comparator == "eq":
            return t("class {value}", value=roman)
    words = unit_label(unit)
    gap = " " if words and unit != "%" and language() == "en" else ""
    amount = f"{number}{gap}{words}"
    phrases = {
        "gte": "at least {value}",
        "ge": "at least {value}",
        "gt": "above {value}",
        "lte": "at most {value}",
        "le": "at most {value}",
        "lt": "below {value}",
        "eq": "equal to {value}",
        "decrease_pct": "down {value}",
        "increase_pct": "up {value}",
        "trend_down": "falling",
        "trend_up": "rising",
        "eliminate": "eliminated",
    }
    if comparator.endswith("_pct"):
        amount = f"{number}%"
    phrase = phrases.get(comparator)
    if phrase is None:
        return f"{comparator} {amount}".strip()
    return t(phrase, value=amount) if "{value}" in phrase else t(phrase)


def scope_label(scope: Mapping[str, Any] | None) -> str:
    """A target's scope by its name (湖南省, 长江干流湖南段), never ``region:430000``."""
    if not scope:
        return ""
    return str(
        pick(scope.get("name"), scope.get("name_en")) or scope.get("code") or scope.get("key") or ""
    )


def labels_to_keys(kind: str) -> dict[str, str]:
    """Every spelling a person may type for a state, level, role, light or domain (key,
    English, Chinese) -> key."""
    found: dict[str, str] = {}
    if kind == "domain":
        from .plugins import get_host

        for (label_kind, key), label in get_host().labels().items():
            if label_kind == "domain":
                for spelling in (key, label.name, label.name_en):
                    found[spelling.casefold()] = key
        return found
    tables: dict[str, Mapping[Any, str]] = {
        "state": _STATE_LABELS,
        "level": LEVEL_NAMES,
        "role": _ROLE_LABELS,
        "light": _LIGHT_LABELS,
    }
    for key, english in tables[kind].items():
        for spelling in (str(key), english, catalog().get(english, english)):
            found[spelling.casefold()] = str(key)
    return found


_OCCASION = re.compile(
    r"^(?:T-(?P<before>\d+)|overdue-week-(?P<week>\d+)|overdue-(?P<nth>\d+)x\d+d)$"
)


def occasion_label(occasion: str | None) -> str:
    """Why a reminder was sent: ``T-7`` 到期前7天, ``overdue-week-2`` 逾期第2周."""
    if occasion in ("due", "overdue"):
        return t({"due": "due day", "overdue": "overdue"}[occasion])
    found = _OCCASION.match(occasion or "")
    if found is None:
        return occasion or ""
    if found["before"]:
        return t("{n} days before due", n=int(found["before"]))
    if found["week"]:
        return t("overdue, week {n}", n=int(found["week"]))
    return t("overdue, reminder {n}", n=int(found["nth"]))


def route_text(alternative: dict[str, Any]) -> str:
    """The alternative route of a target in words (比2020年提高5个百分点 / ≥ 75%)."""
    comparator, value = alternative["comparator"], alternative.get("value")
    year, unit = alternative.get("baseline_year"), alternative.get("unit") or ""
    number = f"{value:g}" if isinstance(value, int | float) else str(value)
    if comparator.endswith(("_pp", "_pct")):
        up = comparator.startswith("increase")
        points = comparator.endswith("_pp")
        if year:
            if points:
                return (
                    t("{value} percentage points above {year}", value=number, year=year)
                    if up
                    else t("{value} percentage points below {year}", value=number, year=year)
                )
            return (
                t("{value}% above {year}", value=number, year=year)
                if up
                else t("{value}% below {year}", value=number, year=year)
            )
        if points:
            return (
                t("{value} percentage points above the baseline", value=number)
                if up
                else t("{value} percentage points below the baseline", value=number)
            )
        return (
            t("{value}% above the baseline", value=number)
            if up
            else t("{value}% below the baseline", value=number)
        )
    sign = {"gte": "≥", "lte": "≤", "eq": "="}.get(comparator, comparator)
    return f"{sign} {number}{unit}"
