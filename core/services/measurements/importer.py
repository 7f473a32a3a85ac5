"""Importing readings in bulk from a .csv or .xlsx file, all or nothing (docs/measurements.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ... import audit
from ...controls import control_problem
from ...dates import period as parse_period  # periods in every form core/dates.py reads
from ...errors import UserError
from ...i18n import t
from ...models import Measurement, Region, Site, UTCDateTime
from ...spreadsheet_reader import Column, Problems, Sheet, file_sha256, read_table
from ..base import actor, now, require_coordinator, today
from .indicators import check_ratio, indicators, parse_number
from .recording import check_period

Progress = Callable[[int, int], None]

# Import files: the columns and the headers each may have (core/spreadsheet_reader.py matches
# them).
COLUMNS = (
    Column("indicator", ("指标", "indicator"), required=True),
    Column("region", ("地区", "region")),
    Column("site", ("站点", "site")),
    Column("period", ("时间", "period"), required=True),
    Column("value", ("数值", "value")),
    Column("numerator", ("分子", "numerator")),
    Column("denominator", ("分母", "denominator")),
    Column("source", ("来源", "source")),
    Column("note", ("备注", "note")),
)
BATCH = 10_000


class _Bad(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def _columns(sheet: Sheet) -> None:
    """A reading needs a value (or its numerator and denominator) and a region or site."""
    found = sheet.columns
    missing = []
    if "value" not in found and not {"numerator", "denominator"} <= set(found):
        missing.append("value")
    if "region" not in found and "site" not in found:
        missing.append("region/site")
    if missing:
        sheet.close()
        raise UserError(
            t(
                "{where}: missing column(s): {names}",
                where=sheet.where(sheet.header_row),
                names=", ".join(missing),
            )
        )


class _Lookups:
    """Everything a row refers to, loaded once."""

    def __init__(self, session: Session) -> None:
        self.indicators = indicators()
        self.regions: dict[str, tuple[int, str]] = {}
        short: dict[str, list[tuple[int, str]]] = {}
        for rid, code, name, name_en in session.execute(
            sa.select(Region.id, Region.code, Region.name, Region.name_en)
        ):
            for ref in (code, name, name_en):
                if ref:
                    self.regions[ref] = (rid, code)
            short.setdefault(re.sub(r"(省|市|县|区|自治州|自治县)$", "", name), []).append(
                (rid, code)
            )
        for name, hits in short.items():  # 长沙 = 长沙市 when unambiguous
            if len(hits) == 1:
                self.regions.setdefault(name, hits[0])
        self.sites: dict[str, tuple[int, int | None, str]] = {}
        for sid, key, name, region_id in session.execute(
            sa.select(Site.id, Site.key, Site.name, Site.region_id)
        ):
            self.sites[key] = (sid, region_id, key)
            self.sites.setdefault(name, (sid, region_id, key))
        self.periods: dict[Any, tuple[date, date]] = {}


def _row_parser(
    cols: dict[str, int], look: _Lookups, as_of: date, iso: bool
) -> Callable[[list[Any], int], tuple]:
    """A function turning one file row into a staging tuple, or raising ``_Bad``.

    Built once per file with the column positions fixed; subjects and periods are resolved
    once per distinct text. ``iso``: dates as ISO text (what SQLite stores) for the driver.
    """
    width = max(cols.values()) + 1
    at = {col.key: cols.get(col.key) for col in COLUMNS}
    subjects: dict[tuple[str, Any], tuple[str, int | None, int | None]] = {}
    periods: dict[Any, tuple[Any, Any]] = {}

    def text(row: list[Any], key: str) -> Any:
        i = at[key]
        if i is None:
            return None
        value = row[i]
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def number(row: list[Any], key: str) -> float | None:
        raw = text(row, key)
        if raw is None:
            return None
        if type(raw) in (str, float, int):
            try:
                value = float(raw)
            except ValueError:
                pass
            else:
                if value - value == 0:  # finite: not nan, not inf
                    return value
        try:
            return parse_number(raw, what=key)
        except UserError as exc:
            raise _Bad(key, str(exc).removeprefix(f"{key}: ")) from None

    def subject(kind: str, raw: Any) -> tuple[str, int | None, int | None]:
        found = subjects.get((kind, raw))
        if found is None:
            if kind == "site":
                hit = look.sites.get(str(raw))
                if hit is None:
                    raise _Bad("site", t("unknown site {ref!r}", ref=raw))
                found = (f"site:{hit[2]}", hit[1], hit[0])
            else:
                ref = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw)
                hit = look.regions.get(ref)
                if hit is None:
                    raise _Bad("region", t("unknown region {ref!r}", ref=raw))
                found = (f"region:{hit[1]}", hit[0], None)
            subjects[(kind, raw)] = found
        return found

    def period(raw: Any) -> tuple[Any, Any]:
        found = periods.get(raw)
        if found is None:
            try:
                first, last = parse_period(raw, what="period")
                check_period(first, last, what="period", as_of=as_of)
            except UserError as exc:
                raise _Bad("period", str(exc).removeprefix("period: ")) from None
            found = periods[raw] = (first.isoformat(), last.isoformat()) if iso else (first, last)
        return found

    def parse(row: list[Any], line: int) -> tuple:
        if len(row) < width:
            row = [*row, *([None] * (width - len(row)))]
        key = text(row, "indicator")
        if key is None:
            raise _Bad("indicator", t("empty"))
        ind = look.indicators.get(str(key))
        if ind is None:
            raise _Bad("indicator", t("unknown indicator {key!r}", key=key))
        region, site = text(row, "region"), text(row, "site")
        if (region is None) == (site is None):
            raise _Bad("region", t("give exactly one of region and site"))
        subj, region_id, site_id = (
            subject("site", site) if site is not None else subject("region", region)
        )
        raw_period = text(row, "period")
        if raw_period is None:
            raise _Bad("period", t("empty"))
        start, end = period(raw_period)
        value, num, den = number(row, "value"), number(row, "numerator"), number(row, "denominator")
        try:
            value = check_ratio(value, num, den, ind)
        except UserError as exc:
            raise _Bad("value", str(exc).removeprefix("value: ")) from None
        source, note = text(row, "source"), text(row, "note")
        for key, cell in (("source", source), ("note", note)):
            problem = None if cell is None else control_problem(str(cell))
            if problem is not None:
                raise _Bad(key, problem)
        return (
            line,
            ind.key,
            subj,
            region_id,
            site_id,
            start,
            end,
            value,
            num,
            den,
            None if source is None else str(source),
            None if note is None else str(note),
        )

    return parse


_STAGE = "duban_measurement_import"


def _stage_table() -> sa.Table:
    return sa.Table(
        _STAGE,
        sa.MetaData(),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("indicator", sa.String(64)),
        sa.Column("subject", sa.String(80)),
        sa.Column("region_id", sa.Integer),
        sa.Column("site_id", sa.Integer),
        sa.Column("period_start", sa.Date),
        sa.Column("period_end", sa.Date),
        sa.Column("value", sa.Float),
        sa.Column("numerator", sa.Float),
        sa.Column("denominator", sa.Float),
        sa.Column("source", sa.String),
        sa.Column("note", sa.String),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


def _insert_many(raw: Any, sql: str, rows: list[tuple]) -> None:
    cursor = raw.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def import_measurements(
    *,
    session: Session,
    path: Path,
    progress: Progress | None = None,
    dry_run: bool = False,
    sheet: str | None = None,
) -> dict[str, Any]:
    """Import readings from a .csv or .xlsx file (docs/measurements.md). All or nothing.

    Rows are checked and staged in a temporary table, then merged with two set-based
    statements: corrections update changed rows, new keys are inserted; identical rows are
    left alone, so importing the same file twice changes nothing.
    """
    require_coordinator(session)
    if not path.is_file():
        raise UserError(t("{path}: no such file", path=path))
    table = read_table(path, COLUMNS, sheet=sheet)
    _columns(table)
    cols, total = table.columns, table.total
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    parse = _row_parser(cols, _Lookups(session), today(session), iso=sqlite)
    stage = _stage_table()
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {_STAGE}"))
    stage.create(conn)
    # Rows go to the staging table through the driver: SQLAlchemy's per-row parameter
    # handling would cost more than everything else together on a million rows.
    marks = ", ".join(["?" if sqlite else "%s"] * len(stage.c))
    insert_sql = f"INSERT INTO {_STAGE} VALUES ({marks})"
    raw = conn.connection.driver_connection
    problems = Problems(table)
    count = 0
    batch: list[tuple] = []
    for line, row in table.rows:
        count += 1
        try:
            parsed = parse(row, line)
        except _Bad as exc:
            position = cols.get(exc.column)
            header = table.header[position] if position is not None else exc.column
            problems.add(line, header, exc.reason, position)
            continue
        if problems:
            continue  # the file is rejected; keep checking to report every bad row
        batch.append(parsed)
        if len(batch) >= BATCH:
            _insert_many(raw, insert_sql, batch)
            batch = []
            if progress:
                progress(count, total)
    if batch and not problems:
        _insert_many(raw, insert_sql, batch)
    if progress:
        progress(count, total)
    if not problems:
        for first, last in conn.execute(
            sa.select(sa.func.min(stage.c.line), sa.func.max(stage.c.line))
            .group_by(stage.c.indicator, stage.c.subject, stage.c.period_start, stage.c.period_end)
            .having(sa.func.count() > 1)
            .order_by(sa.func.min(stage.c.line))
        ):
            problems.add(
                last,
                None,
                t("the same indicator, subject and period as row {first}", first=first),
            )
    problems.check()
    if count == 0:
        raise UserError(t("{path}: no readings in the file", path=table.source))
    updated, inserted = _merge(session, conn, stage)
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {_STAGE}"))
    summary = {
        "file": str(path),
        **({"sheet": table.name} if table.name else {}),
        "sha256": file_sha256(path),
        "rows": count,
        "inserted": inserted,
        "updated": updated,
        "unchanged": count - inserted - updated,
    }
    if (inserted or updated) and not dry_run:
        audit.record(session, "import.measurements", "measurement", None, after=summary)
    return summary


def _merge(session: Session, conn: sa.Connection, stage: sa.Table) -> tuple[int, int]:
    m = Measurement.__table__
    same_key = sa.and_(
        m.c.indicator == stage.c.indicator,
        m.c.subject == stage.c.subject,
        m.c.period_start == stage.c.period_start,
        m.c.period_end == stage.c.period_end,
    )
    changed = sa.or_(
        m.c.value != stage.c.value,
        *(
            m.c[k].is_distinct_from(stage.c[k])
            for k in ("numerator", "denominator", "source", "note")
        ),
    )
    who, stamp = actor(session), now(session)
    updated = conn.execute(
        sa.update(m)
        .where(same_key, changed)
        .values(
            value=stage.c.value,
            numerator=stage.c.numerator,
            denominator=stage.c.denominator,
            source=stage.c.source,
            note=stage.c.note,
            recorded_by=who,
            recorded_at=stamp,
        ),
        execution_options={"preserve_rowcount": True},
    ).rowcount
    names = [
        "indicator",
        "subject",
        "region_id",
        "site_id",
        "period_start",
        "period_end",
        "value",
        "numerator",
        "denominator",
        "source",
        "note",
    ]
    new_rows = (
        sa.select(
            *(stage.c[n] for n in names),
            sa.literal(who, sa.String),
            sa.literal(stamp, UTCDateTime()),
        )
        .where(~sa.exists(sa.select(sa.literal(1)).where(same_key).correlate(stage)))
        .order_by(stage.c.indicator, stage.c.subject, stage.c.period_start, stage.c.period_end)
    )
    # Inserting in the unique index's order keeps the B-tree writes sequential.
    # psycopg reports no rowcount for INSERT .. SELECT unless asked to keep it.
    inserted = conn.execute(
        sa.insert(m).from_select([*names, "recorded_by", "recorded_at"], new_rows),
        execution_options={"preserve_rowcount": True},
    ).rowcount
    return updated, inserted
