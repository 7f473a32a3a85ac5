"""Sections' classes month by month, from parameter readings or from classes recorded as
such, read as plain SQL through ``api.Lean``: target evaluation runs it on whatever
connection reads the targets (the bare driver for ``duban status``), the rules and panels on
their session's (``quality.monthly_classes``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from duban.core import api

from .gb3838 import CLASSES, Classification, classify
from .indicators import PARAM_CODES, SECTION_CLASS

if TYPE_CHECKING:
    from duban.core.api import Lean

SECTION_KIND = "water_section"
_PARAM_KEYS = tuple(PARAM_CODES)


def stored_class(rank: float) -> Classification:
    """A class recorded as such (no readings behind it)."""
    return Classification(CLASSES[min(max(round(rank), 1), len(CLASSES)) - 1], (), {}, {})


def classified(means: dict[str, float], lake: bool) -> Classification | None:
    try:
        return classify(means, lake=lake)
    except ValueError:  # only Table 2/3 items: no class, but still drinking-source limits
        return None


def group_members(db: Lean, site_id: int) -> list[tuple[int, bool]]:
    """(id, is a lake) of the section ``site_id`` and of the sections grouped under it (a
    lake's or a reach's members)."""
    key = db.one("SELECT key FROM site WHERE id = :id", id=site_id)
    found = []
    for sid, attrs in db.rows(
        "SELECT id, attrs FROM site WHERE kind = :kind ORDER BY id", kind=SECTION_KIND
    ):
        attrs = api.db_json(attrs) or {}
        if sid == site_id or (key is not None and attrs.get("group") == key):
            found.append((sid, attrs.get("water_body") == "lake"))
    return found


def monthly_classes(
    db: Lean, sections: Iterable[Any], first: date, last: date, *, as_of: date | None
) -> dict[int, dict[date, Classification]]:
    """Section -> month (its first day) -> class, for the months from ``first`` to ``last``
    (``sections``: anything with ``id`` and ``lake``), from the readings known as of
    ``as_of`` (None: as recorded today)."""
    lake = {s.id: s.lake for s in sections}
    if not lake:
        return {}
    ids = sorted(lake)
    source, params = ("measurement", {}) if as_of is None else api.readings_source(db, as_of)
    params |= {
        "first": api.month_start(first),
        "last": api.last_of_month(last),
        **{f"s{k}": sid for k, sid in enumerate(ids)},
    }
    window = (
        f"site_id IN ({', '.join(f':s{k}' for k in range(len(ids)))})"
        " AND period_start >= :first AND period_end <= :last"
    )
    keys = ", ".join(f":p{k}" for k in range(len(_PARAM_KEYS)))
    sums: dict[tuple[int, date], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for site_id, indicator, start, value in db.rows(
        f"SELECT site_id, indicator, period_start, value FROM {source} m"
        f" WHERE indicator IN ({keys}) AND {window}",
        **params,
        **{f"p{k}": key for k, key in enumerate(_PARAM_KEYS)},
    ):
        sums[(site_id, api.month_start(api.db_date(start)))][PARAM_CODES[indicator]].append(value)
    out: dict[int, dict[date, Classification]] = defaultdict(dict)
    for (site_id, month), values in sums.items():
        found = classified({code: sum(v) / len(v) for code, v in values.items()}, lake[site_id])
        if found is not None:
            out[site_id][month] = found
    for site_id, start, value in db.rows(
        f"SELECT site_id, period_start, value FROM {source} m WHERE indicator = :cls AND {window}",
        cls=SECTION_CLASS,
        **params,
    ):
        out[site_id].setdefault(api.month_start(api.db_date(start)), stored_class(value))
    return out
