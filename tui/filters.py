"""The obligations filter line: ``衡阳 overdue domain:water level:list light:red sort:-due``.

Free words are a full-text search (``duban.core.search``: codes, titles, bodies,
milestones, targets, owners, reports), ranked; ``key:value`` (or ``key=value``) tokens set one field;
the bare word ``overdue`` (逾期) keeps overdue obligations. Keys have Chinese aliases.
Dashboard doors and plugin panels (``PanelRow.filter``) speak the same language.
"""

from __future__ import annotations

import re

from duban.core import names
from duban.core.errors import UserError
from duban.core.filters import ObligationFilter
from duban.core.i18n import language, t

from .text import labels_to_keys

SORTS = ("code", "due", "title", "state", "level", "id")
KEYS = (
    "owner",
    "role",
    "region",
    "domain",
    "has",
    "lacks",
    "state",
    "level",
    "light",
    "due",
    "sort",
)
_ALIASES = {
    "单位": "owner",
    "角色": "role",
    "地区": "region",
    "领域": "domain",
    "标记": "has",
    "无标记": "lacks",
    "状态": "state",
    "级别": "level",
    "亮灯": "light",
    "到期": "due",
    "排序": "sort",
}
_OVERDUE_WORDS = {"overdue", "逾期"}
_SORT_ALIASES = {"编号": "code", "到期": "due", "标题": "title", "状态": "state", "级别": "level"}
_TOKEN = re.compile(r'(?:(?P<key>[^\s:=：]+)[:=：])?(?P<value>"[^"]*"|\S+)')


# The one filter model (core/filters.py): what the table shows is what ``duban list`` lists.
Query = ObligationFilter


def _quote(value: str) -> str:
    return f'"{value}"' if " " in value else value


def parse(line: str) -> ObligationFilter:
    """Parse a filter line; raise UserError naming the offending token."""
    words: list[str] = []
    values: dict[str, object] = {}
    for match in _TOKEN.finditer(line or ""):
        raw_key, value = match["key"], match["value"].strip('"')
        if raw_key is None:
            if value.casefold() in _OVERDUE_WORDS:
                values["overdue"] = True
            else:
                words.append(value)
            continue
        key = _ALIASES.get(raw_key, raw_key.casefold())
        if key not in KEYS:
            raise UserError(
                t("filter: unknown key {key!r} (one of {keys})", key=raw_key, keys=", ".join(KEYS))
            )
        if key == "domain":
            values[key] = labels_to_keys(key).get(value.casefold(), value)
        elif key in ("state", "level", "role", "light"):
            spellings = labels_to_keys(key)
            spelled = spellings.get(value.casefold())
            if spelled is None:
                raise names.not_found(
                    t("filter: {key}:{value} is not a known {key}", key=key, value=value),
                    value,
                    spellings,
                )
            values[key] = spelled
        elif key == "due":
            if not value.isdigit():
                raise UserError(t("filter: due:{value} must be a number of days", value=value))
            values["due_days"] = int(value)
        elif key == "sort":
            name = _SORT_ALIASES.get(value.lstrip("-"), value.lstrip("-"))
            if name not in SORTS:
                raise UserError(
                    t(
                        "filter: sort:{value} must be one of {choices}",
                        value=value,
                        choices=", ".join(SORTS),
                    )
                )
            values["sort"], values["descending"] = name, value.startswith("-")
        else:
            values[key] = value
    return ObligationFilter(text=" ".join(words) or None, **values)  # type: ignore[arg-type]


_SPOKEN = {key: alias for alias, key in _ALIASES.items()}
_LABELLED = ("role", "domain", "state", "level", "light")


def spoken(line: str) -> str:
    """``line`` as the current language writes it (``domain:water`` -> ``领域:水环境``); it
    parses to the same query. Plugin marks (``has:ledger``) and sort keys stay codes."""
    if language() != "zh":
        return line
    from duban.core import labels

    label = {
        "role": labels.role_label,
        "domain": labels.domain_label,
        "state": labels.state_label,
        "level": labels.level_label,
        "light": labels.light_label,
    }
    out = []
    for match in _TOKEN.finditer(line):
        key, value = match["key"], match["value"]
        if key is None:
            out.append(t("overdue") if value.casefold() in _OVERDUE_WORDS else value)
            continue
        name = _ALIASES.get(key, key.casefold())
        if name in _LABELLED and not value.startswith('"'):
            value = _quote(label[name](value))
        out.append(f"{_SPOKEN.get(name, key)}:{value}")
    return " ".join(out)


def unparse(query: ObligationFilter) -> str:
    """The filter line that parses back to ``query`` (what a door puts in the filter bar)."""
    parts = [query.text] if query.text else []
    for key in ("owner", "role", "region", "domain", "has", "lacks", "state", "level", "light"):
        value = getattr(query, key)
        if value:
            parts.append(f"{key}:{_quote(value)}")
    if query.due_days is not None:
        parts.append(f"due:{query.due_days}")
    if query.overdue:
        parts.append("overdue")
    if query.sort != "code" or query.descending:
        parts.append(f"sort:{'-' if query.descending else ''}{query.sort}")
    return " ".join(parts)
