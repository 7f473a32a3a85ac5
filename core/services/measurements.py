"""Measurements: recording readings, importing them in bulk, and reading a subject's series.

A reading is an indicator's value for one subject (``region:<code>`` or ``site:<key>``) over
one observed period. The unique (indicator, subject, period) key makes recording and
importing idempotent: the same reading again changes nothing; a different value for the same
key is a correction and replaces the old one (audited). See docs/measurements.md.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, or_, select

from .. import audit, visibility
from ..controls import check_text, control_problem
from ..dates import period as parse_period  # periods in every form core/dates.py reads
from ..errors import NotFound, PermissionDenied, UserError
from ..i18n import t
from ..models import Evidence, Measurement, Region, Site, UserRole, UTCDateTime
from ..readings import Reading, below, rate_scale
from ..registry import Indicator
from ..tables import Column, Problems, Sheet, file_sha256, read_table
from .base import actor, current_user, now, require_coordinator, snapshot, today
from .regions import resolve_region

Progress = Callable[[int, int], None]

# Import files: the columns and the headers each may have (core/tables.py matches them).
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


# Indicators ------------------------------------------------------------------------------
def indicators() -> dict[str, Indicator]:
    from ..plugins import get_host

    return get_host().indicators()


def get_indicator(key: str, *, what: str = "--indicator") -> Indicator:
    """A registered indicator, or a UserError suggesting close keys."""
    key = key.strip()
    known = indicators()
    if key in known:
        return known[key]
    close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
    hint = (
        t("; did you mean {keys}?", keys=", ".join(close))
        if close
        else t("; `duban plugins` lists what is installed")
    )
    raise UserError(t("{what}: unknown indicator {key!r}", what=what, key=key) + hint)


def parse_number(text: Any, *, what: str) -> float:
    """A finite number; a trailing % is allowed (95.5%)."""
    if isinstance(text, bool):
        raise UserError(t("{what}: not a number: {value!r}", what=what, value=text))
    if isinstance(text, int | float):
        value = float(text)
    else:
        raw = str(text).strip().removesuffix("%").strip()
        try:
            value = float(raw)
        except ValueError:
            raise UserError(
                t("{what}: not a number: {value!r}", what=what, value=str(text))
            ) from None
    if not math.isfinite(value):
        raise UserError(t("{what}: not a finite number: {value!r}", what=what, value=str(text)))
    return value


def check_bounds(value: float, indicator: Indicator, *, what: str = "value") -> float:
    """``value`` if it lies within the indicator's bounds (a percentage in 0-100, ...)."""
    low, high = indicator.bounds
    if (low is not None and value < low) or (high is not None and value > high):
        raise UserError(
            t(
                "{what}: {value:g} is outside {low}..{high} for {indicator}",
                what=what,
                value=value,
                low="" if low is None else f"{low:g}",
                high="" if high is None else f"{high:g}",
                indicator=indicator.key,
            )
        )
    return value


def check_ratio(
    value: float | None, numerator: float | None, denominator: float | None, indicator: Indicator
) -> float:
    """The reading's value given its numerator and denominator (which must agree with it)."""
    if (numerator is None) != (denominator is None):
        raise UserError(t("numerator and denominator go together"))
    if numerator is None:
        if value is None:
            raise UserError(t("a value (or a numerator and a denominator) is required"))
        return check_bounds(value, indicator)
    if denominator <= 0 or numerator < 0:
        raise UserError(t("the denominator must be positive and the numerator not negative"))
    ratio = check_bounds(numerator / denominator * rate_scale(indicator), indicator)
    if value is None:
        return ratio
    # Published rates are rounded: accept half a unit of the last shown digit, or 0.5 %.
    if abs(value - ratio) > max(0.05, abs(ratio) * 0.005):
        raise UserError(
            t(
                "value {value:g} does not match numerator / denominator = {ratio:.4g}",
                value=value,
                ratio=ratio,
            )
        )
    return value


# Subjects --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Subject:
    key: str  # region:<code> | site:<key>
    region_id: int | None
    site_id: int | None
    name: str


def resolve_site(*, session: Session, ref: str, what: str = "--site") -> Site:
    """A site by key or exact name."""
    ref = ref.strip()
    found = session.exec(select(Site).where(or_(Site.key == ref, Site.name == ref))).first()
    if found is None:
        raise NotFound(t("{what}: unknown site {ref!r}", what=what, ref=ref))
    return found


def resolve_subject(
    *, session: Session, region: str | None = None, site: str | None = None
) -> Subject:
    """``--region`` or ``--site`` (exactly one) as a subject."""
    if bool(region) == bool(site):
        raise UserError(t("give exactly one of --region and --site"))
    if site:
        row = resolve_site(session=session, ref=site)
        return Subject(f"site:{row.key}", row.region_id, row.id, row.name)
    reg = resolve_region(session=session, ref=region or "")
    return Subject(f"region:{reg.code}", reg.id, None, reg.name)


def subject_from_key(*, session: Session, subject: str) -> Subject:
    kind, _, key = subject.partition(":")
    if kind == "region":
        return resolve_subject(session=session, region=key)
    if kind == "site":
        return resolve_subject(session=session, site=key)
    raise UserError(t("subject must be region:<code> or site:<key>, not {value!r}", value=subject))


def _require_recorder(session: Session, region_id: int | None) -> None:
    """Coordinators record anything; a member records for its owner's region and below."""
    user = current_user(session)
    if user is not None and user.role == UserRole.coordinator:
        return
    if user is not None and user.role == UserRole.member and user.owner_id and region_id:
        from ..models import Owner

        owner = session.get(Owner, user.owner_id)
        home = session.get(Region, owner.region_id) if owner and owner.region_id else None
        here = session.get(Region, region_id)
        if home and here and (here.path == home.path or here.path.startswith(home.path + "/")):
            return
    if user is None or user.role != UserRole.member:
        require_coordinator(session)
    raise PermissionDenied(
        t("{user} may record readings only for its owner's region", user=user.name)
    )


# Evidence --------------------------------------------------------------------------------
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(?://)?")


def add_evidence(
    *,
    session: Session,
    ref: str,
    obligation_id: int | None = None,
    note: str | None = None,
    what: str = "--evidence",
) -> Evidence:
    """A local file (fingerprinted with sha256) or an http(s) URL, as an Evidence row."""
    check_text(note, "--note")
    ref = (check_text(ref, what, single_line=True) or "").strip()
    scheme = _SCHEME.match(ref)
    if scheme and len(scheme[1]) > 1:  # "C:\..." is a Windows drive, not a scheme
        if scheme[1].lower() not in ("http", "https") or not re.match(
            r"^https?://[^\s/]+", ref, re.I
        ):
            raise UserError(
                t("{what}: only http(s) URLs are accepted, not {value!r}", what=what, value=ref)
            )
        uri, digest = ref, None
    else:
        path = Path(ref).expanduser()
        if not path.is_file():
            raise UserError(t("{what}: no such file: {path}", what=what, path=ref))
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        uri, digest = str(path.resolve()), sha.hexdigest()
    evidence = Evidence(
        obligation_id=obligation_id,
        uri=uri,
        sha256=digest,
        note=note,
        added_by=actor(session),
        added_at=now(session),
    )
    session.add(evidence)
    session.flush()
    audit.record(session, "evidence.add", "evidence", evidence.id, after=snapshot(evidence))
    return evidence


# Recording one reading ------------------------------------------------------------------
def _check_period(start: date, end: date, *, what: str, as_of: date) -> None:
    if end < start:
        raise UserError(t("{what}: the period ends before it starts", what=what))
    if start > as_of:
        raise UserError(
            t(
                "{what}: the period starts {start}, after today ({today}): "
                "a reading cannot precede what it observes",
                what=what,
                start=start.isoformat(),
                today=as_of.isoformat(),
            )
        )


def record(
    *,
    session: Session,
    indicator: str,
    value: float | None,
    subject: str,
    period_start: date,
    period_end: date,
    source: str | None = None,
    evidence: str | None = None,
    note: str | None = None,
    numerator: float | None = None,
    denominator: float | None = None,
) -> Measurement:
    """Record (or correct) one reading; the same reading again changes nothing."""
    ind = get_indicator(indicator, what="indicator")
    subj = subject_from_key(session=session, subject=subject)
    _require_recorder(session, subj.region_id)
    if value is not None:
        value = parse_number(value, what="VALUE")
    value = check_ratio(value, numerator, denominator, ind)
    _check_period(period_start, period_end, what="--at", as_of=today(session))
    source = (check_text(source, "--source") or "").strip() or None
    note = (check_text(note, "--note") or "").strip() or None
    existing = session.exec(
        select(Measurement).where(
            Measurement.indicator == ind.key,
            Measurement.subject == subj.key,
            Measurement.period_start == period_start,
            Measurement.period_end == period_end,
        )
    ).first()
    fields = {
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "source": source,
        "note": note,
    }
    if (
        existing is not None
        and not evidence
        and all(getattr(existing, k) == v for k, v in fields.items())
    ):
        return existing
    evidence_id = add_evidence(session=session, ref=evidence).id if evidence else None
    stamp = now(session)
    if existing is None:
        row = Measurement(
            indicator=ind.key,
            subject=subj.key,
            region_id=subj.region_id,
            site_id=subj.site_id,
            period_start=period_start,
            period_end=period_end,
            recorded_by=actor(session),
            recorded_at=stamp,
            evidence_id=evidence_id,
            **fields,
        )
        session.add(row)
        session.flush()
        audit.record(session, "measurement.record", "measurement", row.id, after=snapshot(row))
        return row
    before = snapshot(existing)
    for key, val in fields.items():
        setattr(existing, key, val)
    existing.recorded_by, existing.recorded_at = actor(session), stamp
    if evidence_id is not None:
        existing.evidence_id = evidence_id
    session.add(existing)
    session.flush()
    audit.record(
        session,
        "measurement.correct",
        "measurement",
        existing.id,
        before=before,
        after=snapshot(existing),
    )
    return existing


# Importing -------------------------------------------------------------------------------
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
                _check_period(first, last, what="period", as_of=as_of)
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


# Reading a series ------------------------------------------------------------------------
def recorded_by(*, session: Session, as_of: date) -> datetime | None:
    """The instant a read as of ``as_of`` sees readings at (``visibility``), or None when no
    reading was recorded after it: then the plain record is that read's snapshot."""
    seen = visibility.seen_at(as_of)
    later = session.execute(
        sa.text(visibility.readings_recorded_after()).bindparams(
            sa.bindparam("seen_at", seen, type_=UTCDateTime())
        )
    ).first()
    return seen if later is not None else None


def _visible(seen: datetime) -> Any:
    return sa.text(visibility.reading_visible()).bindparams(
        sa.bindparam("seen_at", seen, type_=UTCDateTime())
    )


def series(
    *,
    session: Session,
    indicator: str,
    region_id: int | None = None,
    site_id: int | None = None,
    until: date,
) -> list[Measurement]:
    """A subject's readings with ``period_end <= until`` recorded by the end of that day
    (``visibility``), oldest first.

    For a region, periods the region has no reading of its own are filled by aggregating
    the readings below it (sub-regions and sites) per the indicator's ``aggregation``; for
    each period the highest available level is used, so a city and its counties are never
    counted twice. Aggregated readings are unsaved ``Measurement`` objects (``id`` None).
    """
    m = Measurement
    base = select(m).where(m.indicator == indicator, m.period_end <= until)
    seen = recorded_by(session=session, as_of=until)
    if seen is not None:
        base = base.where(_visible(seen))
    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None:
            raise NotFound(t("unknown site #{id}", id=site_id))
        return list(
            session.exec(
                base.where(m.subject == f"site:{site.key}").order_by(m.period_end, m.period_start)
            ).all()
        )
    region = session.get(Region, region_id) if region_id is not None else None
    if region is None:
        raise NotFound(t("unknown region #{id}", id=region_id))
    subject = f"region:{region.code}"
    own = list(
        session.exec(base.where(m.subject == subject).order_by(m.period_end, m.period_start)).all()
    )
    ind = indicators().get(indicator)
    how = ind.aggregation if ind else "latest"
    if how == "latest":
        return own
    under = Region.path.startswith(region.path + "/")
    cols = (m.period_start, m.period_end, m.value, m.numerator, m.denominator)
    region_rows = session.execute(
        sa.select(Region.path, *cols)
        .join(Region, Region.id == m.region_id)
        .where(m.indicator == indicator, m.period_end <= until, under)
        .where(*([] if seen is None else [_visible(seen)]))
    )
    site_rows = session.execute(
        sa.select(Region.path + "/site:" + Site.key, *cols)
        .join(Site, Site.id == m.site_id)
        .join(Region, Region.id == Site.region_id)
        .where(m.indicator == indicator, m.period_end <= until, or_(Region.id == region.id, under))
        .where(*([] if seen is None else [_visible(seen)]))
    )
    have = {(r.period_start, r.period_end) for r in own}
    derived = [
        Measurement(
            indicator=indicator,
            subject=subject,
            region_id=region.id,
            period_start=r.period_start,
            period_end=r.period_end,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            note=t("aggregated from {n} readings below {name}", n=n, name=region.name),
        )
        for r, n in below(
            how, ind, [(p, Reading(*r)) for p, *r in (*region_rows, *site_rows)], have
        )
    ]
    return sorted(own + derived, key=lambda r: (r.period_end, r.period_start))
