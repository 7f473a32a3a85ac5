"""``duban import water-readings FILE``: monitoring results in the layout monitoring stations
publish — one row per section and period, one column per GB 3838 parameter.

Columns: the section (断面, by key, code or name), the period (监测时间: 2024-06, 2024年6月,
2024-06-15 …), an optional note (备注), and one column per parameter under its code, Chinese or
English name (NH3-N, 氨氮, Ammonia nitrogen) or indicator key (water.param.nh3_n). Water
temperature columns are accepted and skipped. An empty cell is "not measured"; ``0.02L``
(below the detection limit 0.02) counts as half the limit, as the national assessment rules do.
The import is all-or-nothing; then the sections' classes and the rates are recomputed.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date
from pathlib import Path
from typing import Any

from duban.core import audit
from duban.core.errors import UserError
from duban.core.i18n import t
from duban.core.models import Measurement, Site
from duban.core.services.base import actor, now, require_coordinator, today
from duban.core.services.measurements import parse_period
from sqlalchemy import insert
from sqlmodel import Session, or_, select

from .gb3838 import UnknownParameter, parameter
from .indicators import PARAM_CODES, param_key
from .quality import refresh
from .sections import SECTION_KIND
from .tables import norm_header, read_table

SECTION_HEADERS = ("section", "site", "断面", "断面名称", "断面编码", "断面代码", "监测断面")
PERIOD_HEADERS = ("period", "month", "date", "监测时间", "时间", "月份", "监测月份", "采样时间", "采样日期")
NOTE_HEADERS = ("note", "备注")
SKIPPED = ("水温", "watertemperature", "temperature", "wt")
MAX_REPORTED = 20
SOURCE = "water-readings"


def _column_kinds(header: list[str], source: str) -> tuple[int, int, int | None, dict[int, str]]:
    """(section column, period column, note column, {column: indicator key})."""
    section = period = note = None
    params: dict[int, str] = {}
    seen: dict[str, str] = {}
    for i, raw in enumerate(header):
        name = norm_header(raw)
        if not name or name in SKIPPED:
            continue
        if name in SECTION_HEADERS:
            section = i
            continue
        if name in PERIOD_HEADERS:
            period = i
            continue
        if name in NOTE_HEADERS:
            note = i
            continue
        key = raw.strip() if raw.strip() in PARAM_CODES else None
        if key is None:
            try:
                key = param_key(parameter(raw).code)
            except UnknownParameter:
                raise UserError(t("{where}, column {column!r}: unknown parameter (GB 3838 codes such as "
                                  "NH3-N, TP, Mn or names such as 氨氮, 总磷)", where=f"{source}:1",
                                  column=raw)) from None
        if key in seen:
            raise UserError(t("{where}, column {column!r}: the same parameter as column {other!r}",
                              where=f"{source}:1", column=raw, other=seen[key]))
        seen[key] = raw
        params[i] = key
    if section is None or period is None:
        raise UserError(t("{where}: the section (断面) and period (监测时间) columns are required",
                          where=f"{source}:1"))
    if not params:
        raise UserError(t("{where}: no parameter columns", where=f"{source}:1"))
    return section, period, note, params


def _value(text: str, code: str) -> float:
    """A concentration; ``0.02L`` is below the detection limit 0.02 (counted as 0.01)."""
    raw = text.strip().replace(",", "")
    half = raw[-1:] in ("L", "l")
    value = float(raw[:-1] if half else raw)
    if not math.isfinite(value) or value < 0:
        raise ValueError(raw)
    if code == "pH" and value > 14:
        raise ValueError(raw)
    return value / 2 if half else value


def import_readings(*, session: Session, path: Path, dry_run: bool = False) -> dict[str, Any]:
    require_coordinator(session)
    source = str(path)
    header, body = read_table(path)
    section_col, period_col, note_col, params = _column_kinds(header, source)
    sites: dict[str, Site] = {}
    for site in session.exec(select(Site).where(Site.kind == SECTION_KIND)):
        for ref in (site.key, site.name, (site.attrs or {}).get("code")):
            if ref:
                sites.setdefault(str(ref), site)
    limit = today(session)
    errors: list[str] = []
    bad = 0
    readings: dict[tuple[str, str, date, date], dict[str, Any]] = {}
    periods: dict[str, tuple[date, date]] = {}

    def fail(number: int, column: str, message: str) -> None:
        nonlocal bad
        bad += 1
        if len(errors) < MAX_REPORTED:
            errors.append(t("row {row}, column {column!r}: {message}", row=number, column=column,
                            message=message))

    for number, cells in body:
        def cell(i: int, cells: list[str] = cells) -> str:
            return cells[i] if i < len(cells) else ""

        ref = cell(section_col)
        site = sites.get(ref) or sites.get(ref.removesuffix("断面")) or sites.get(ref + "断面")
        if site is None:
            fail(number, header[section_col], t("unknown section {ref!r}", ref=ref) if ref else t("empty"))
            continue
        raw_period = cell(period_col)
        period = periods.get(raw_period)
        if period is None:
            try:
                period = parse_period(raw_period, what="period")
            except UserError as exc:
                fail(number, header[period_col], str(exc).removeprefix("period: "))
                continue
            if period[0] > limit:
                fail(number, header[period_col], t("{value} has not begun yet", value=raw_period))
                continue
            periods[raw_period] = period
        note = cell(note_col) or None if note_col is not None else None
        for i, key in params.items():
            text = cell(i)
            if not text:
                continue
            try:
                value = _value(text, PARAM_CODES[key])
            except ValueError:
                fail(number, header[i], t("{value!r} is not a concentration (a number, not negative)",
                                          value=text))
                continue
            where = (key, f"site:{site.key}", *period)
            if where in readings:
                fail(number, header[i], t("given twice for {section} {period}", section=site.name,
                                          period=raw_period))
                continue
            readings[where] = {"indicator": key, "subject": where[1], "site_id": site.id,
                               "region_id": site.region_id, "period_start": period[0],
                               "period_end": period[1], "value": value, "note": note}
    if bad:
        more = [t("… and {n} more", n=bad - len(errors))] if bad > len(errors) else []
        raise UserError("\n  ".join([t("{path}: {n} bad value(s); nothing was imported:", path=source, n=bad),
                                     *errors, *more]))
    if not readings:
        raise UserError(t("{path}: no readings in the file", path=source))
    inserted, updated = _write(session, readings)
    first = min(k[2] for k in readings)
    derived = refresh(session=session, since=first)
    summary = {"file": source, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
               "readings": len(readings), "inserted": inserted, "updated": updated,
               "unchanged": len(readings) - inserted - updated, "derived": derived["written"],
               "dry_run": dry_run}
    if inserted or updated:
        audit.record(session, "import.water_readings", "measurement", None, after=summary)
    return summary


def _write(session: Session, readings: dict[tuple[str, str, date, date], dict[str, Any]]) -> tuple[int, int]:
    subjects = sorted({k[1] for k in readings})
    first, last = min(k[2] for k in readings), max(k[3] for k in readings)
    existing: dict[tuple[str, str, date, date], Measurement] = {}
    for start in range(0, len(subjects), 500):
        for m in session.exec(select(Measurement).where(
                Measurement.subject.in_(subjects[start:start + 500]),
                or_(*(Measurement.indicator == k for k in {k[0] for k in readings})),
                Measurement.period_start >= first, Measurement.period_end <= last)):
            existing[(m.indicator, m.subject, m.period_start, m.period_end)] = m
    who, stamp = actor(session), now(session)
    new_rows, updated = [], 0
    for key, row in readings.items():
        old = existing.get(key)
        if old is None:
            new_rows.append({**row, "source": SOURCE, "recorded_by": who, "recorded_at": stamp})
        elif (old.value, old.note) != (row["value"], row["note"]):
            old.value, old.note, old.source = row["value"], row["note"], SOURCE
            old.recorded_by, old.recorded_at = who, stamp
            session.add(old)
            updated += 1
    for start in range(0, len(new_rows), 5000):
        session.execute(insert(Measurement), new_rows[start:start + 5000])
    session.flush()
    return len(new_rows), updated
