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

import math
import re
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from duban.core import api
from duban.core.api import Site, UserError, t

from .gb3838 import UnknownParameter, parameter
from .indicators import PARAM_CODES, param_key
from .quality import refresh
from .sections import SECTION_KIND

COLUMNS = (
    api.Column(
        "section",
        ("断面", "section", "site", "断面名称", "断面编码", "断面代码", "监测断面"),
        required=True,
    ),
    api.Column(
        "period",
        ("监测时间", "period", "month", "date", "时间", "月份", "监测月份", "采样时间", "采样日期"),
        required=True,
    ),
    api.Column("note", ("备注", "note")),
)
SKIPPED = ("水温", "watertemperature", "temperature", "wt")
SOURCE = "water-readings"


def _parameters(sheet: api.Sheet) -> dict[int, str]:
    """{column: indicator key} of the parameter columns (every column but the section,
    period and note, and water temperature, which is skipped)."""
    params: dict[int, str] = {}
    seen: dict[str, str] = {}
    known = set(sheet.columns.values())
    for i, raw in enumerate(sheet.header):
        if i in known or not raw or api.norm_header(raw) in SKIPPED:
            continue
        where = sheet.where(sheet.header_row, i)
        key = raw.strip() if raw.strip() in PARAM_CODES else None
        if key is None:
            try:
                key = param_key(parameter(raw).code)
            except UnknownParameter:
                sheet.close()
                raise UserError(
                    t(
                        "{where}, column {column!r}: unknown parameter (GB 3838 codes such as "
                        "NH3-N, TP, Mn or names such as 氨氮, 总磷)",
                        where=where,
                        column=raw,
                    )
                ) from None
        if key in seen:
            sheet.close()
            raise UserError(
                t(
                    "{where}, column {column!r}: the same parameter as column {other!r}",
                    where=where,
                    column=raw,
                    other=seen[key],
                )
            )
        seen[key] = raw
        params[i] = key
    if not params:
        sheet.close()
        raise UserError(t("{where}: no parameter columns", where=sheet.where(sheet.header_row)))
    return params


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


def import_readings(
    *, session: Session, path: Path, dry_run: bool = False, sheet: str | None = None
) -> dict[str, Any]:
    api.require_coordinator(session)
    table = api.read_table(path, COLUMNS, sheet=sheet, ignore_unknown=True)
    params = _parameters(table)
    header = table.header
    section_col, period_col = table.columns["section"], table.columns["period"]
    note_col = table.columns.get("note")
    sites: dict[str, Site] = {}
    for site in session.exec(select(Site).where(Site.kind == SECTION_KIND)):
        for ref in (site.key, site.name, (site.attrs or {}).get("code")):
            if ref:
                sites.setdefault(str(ref), site)
    limit = api.today(session)
    problems = api.Problems(table)
    readings: dict[tuple[str, str, date, date], dict[str, Any]] = {}
    periods: dict[str, tuple[date, date]] = {}
    for number, cells in table.rows:

        def cell(i: int, cells: list[Any] = cells) -> str:
            return api.cell_text(cells[i]) if i < len(cells) else ""

        ref = cell(section_col)
        site = sites.get(ref) or sites.get(ref.removesuffix("断面")) or sites.get(ref + "断面")
        if site is None:
            problems.add(
                number,
                header[section_col],
                t("unknown section {ref!r}", ref=ref) if ref else t("empty"),
                section_col,
            )
            continue
        # A sampling time (2024-06-15 10:30) counts for its day.
        raw_period = re.sub(r"[ T]\d{1,2}:\d{2}(:\d{2})?$", "", cell(period_col))
        period = periods.get(raw_period)
        if period is None:
            try:
                period = api.parse_period(raw_period, what="period")
            except UserError as exc:
                problems.add(
                    number, header[period_col], str(exc).removeprefix("period: "), period_col
                )
                continue
            if period[0] > limit:
                problems.add(
                    number,
                    header[period_col],
                    t("{value} has not begun yet", value=raw_period),
                    period_col,
                )
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
                problems.add(
                    number,
                    header[i],
                    t("{value!r} is not a concentration (a number, not negative)", value=text),
                    i,
                )
                continue
            where = (key, f"site:{site.key}", *period)
            if where in readings:
                problems.add(
                    number,
                    header[i],
                    t("given twice for {section} {period}", section=site.name, period=raw_period),
                    i,
                )
                continue
            readings[where] = api.site_reading(
                key, site.key, site.id, site.region_id, period, value, note=note
            )
    problems.check()
    if not readings:
        raise UserError(t("{path}: no readings in the file", path=table.source))
    inserted, updated = api.upsert_readings(session=session, rows=readings.values(), source=SOURCE)
    first = min(k[2] for k in readings)
    derived = refresh(session=session, since=first)
    summary = {
        "file": str(path),
        "sha256": api.file_sha256(path),
        "readings": len(readings),
        "inserted": inserted,
        "updated": updated,
        "unchanged": len(readings) - inserted - updated,
        "derived": derived["written"],
        "dry_run": dry_run,
    }
    if inserted or updated:
        api.audit_record(session, "import.water_readings", "measurement", None, after=summary)
    return summary
