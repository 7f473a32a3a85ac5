"""Progress reports (进展报送): who reports what for which period, what is due and missing,
and the traffic lights (红黄绿灯) that follow from them. docs/reports.md tells the rules.

A report is made by an owner assigned to the obligation for one period of the obligation's
reporting calendar (core/reporting.py). A resubmission for the same obligation, owner and
period supersedes the earlier report, which stays as history. The leads' reports are the
obligation's own; the other owners' reports go to the lead.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from .. import audit, queries, visibility
from ..clock import local_midnight, to_local_date
from ..columns import instant
from ..controls import check_text
from ..errors import PermissionDenied, UserError
from ..i18n import t
from ..models import (
    Assignment,
    Evidence,
    Milestone,
    Obligation,
    Owner,
    Plan,
    Report,
    Role,
    Target,
    UserRole,
)
from ..reporting import (
    MONTHS,
    Calendar,
    Period,
    ReportSettings,
    check_frequency,
    due_periods,
    frequency_label,
    parse_period,
    period_containing,
    periods_between,
    periods_spanned,
)
from ..settings import get_settings
from .base import actor, now, require_coordinator, require_writer, snapshot, today
from .obligations import CLOSED_STATES, get_obligation
from .owners import resolve_owner

_CLOSED = [s.value for s in CLOSED_STATES]
# What says whether, and on which calendar, an obligation owes reports.
_OWING_COLUMNS = (
    Obligation.id,
    Obligation.code,
    Obligation.title,
    Obligation.title_en,
    Obligation.plan_id,
    Obligation.created_at,
    Obligation.report_frequency,
)
_CHUNK = 900


def clean_text(value: str | None, *, what: str, required: bool = False) -> str | None:
    """A person's text, stripped; refused with a control character in it."""
    value = (check_text(value, what) or "").strip()
    if required and not value:
        raise UserError(t("{what}: must not be empty", what=what))
    return value or None


def visible(session: Session) -> Any:
    """Reports recorded by the end of the session's day (``visibility``): those after it do
    not exist as of then."""
    return text(visibility.report_visible()).bindparams(seen_at=visibility.seen_at(today(session)))


# Calendars ----------------------------------------------------------------------------------
def plan_keys(session: Session) -> dict[int, str]:
    """{plan id: key}, read once per session (an import checks thousands of obligations)."""
    if "_plan_keys" not in session.info:
        session.info["_plan_keys"] = dict(session.exec(select(Plan.id, Plan.key)).all())
    return session.info["_plan_keys"]


def settings_of(session: Session) -> ReportSettings:
    """``[reports]`` of duban.toml, looked up once per session (thousands of obligations ask)."""
    if "_report_settings" not in session.info:
        session.info["_report_settings"] = get_settings().reports
    return session.info["_report_settings"]


def calendar_of(session: Session, ob: Obligation) -> Calendar:
    plan = plan_keys(session).get(ob.plan_id) if ob.plan_id else None
    return settings_of(session).calendar(plan, ob.report_frequency)


def start_of(ob_created: datetime, plan_issued: date | None) -> date:
    """Where the time-proportional progress starts: the plan's issue date, else creation."""
    return plan_issued or to_local_date(ob_created)


def report_period(*, session: Session, ob: Obligation, as_of: date) -> str:
    """The period an owner would report for now: the latest ended one (or the current one
    for an obligation that does not report on a calendar)."""
    calendar = calendar_of(session, ob)
    frequency = calendar.frequency if calendar.frequency != "none" else "monthly"
    current = period_containing(as_of, frequency)
    return (current if calendar.frequency == "none" else current.previous()).label


def set_frequency(*, session: Session, ref: str | int, frequency: str | None) -> Obligation:
    """An obligation's own reporting frequency (None: its plan's)."""
    require_coordinator(session)
    ob = get_obligation(session=session, ref=ref)
    if frequency is not None:
        check_frequency(frequency)
    before = snapshot(ob)
    ob.report_frequency = frequency
    ob.updated_at = now(session)
    session.add(ob)
    session.flush()
    audit.record(
        session,
        "obligation.report_frequency",
        "obligation",
        ob.id,
        before=before,
        after=snapshot(ob),
    )
    return ob


# Lights -------------------------------------------------------------------------------------
def lights(*, session: Session, as_of: date) -> queries.Lights:
    dialect = session.get_bind().dialect.name
    return queries.Lights(
        dialect=dialect,
        settings=settings_of(session),
        plan_ids={key: pid for pid, key in plan_keys(session).items()},
        as_of=as_of,
    )


def all_lights(*, session: Session, as_of: date) -> dict[int, str | None]:
    """The light of every obligation, in one statement."""
    lt = lights(session=session, as_of=as_of)
    return dict(queries.Lean.of_session(session).rows(lt.table(), **lt.params))  # type: ignore[arg-type]


# Reporting ----------------------------------------------------------------------------------
def _reporter(session: Session, ob: Obligation, owner_ref: str | None) -> tuple[Owner, str]:
    """The owner a report is made for and its role; members report only for their own."""
    user = require_writer(session, ob.id)
    roles = dict(
        session.exec(
            select(Assignment.owner_id, Assignment.role)
            .where(Assignment.obligation_id == ob.id)
            .order_by(Assignment.id.desc())
        ).all()
    )
    leads = session.exec(
        select(Assignment.owner_id)
        .where(Assignment.obligation_id == ob.id, Assignment.role == Role.lead)
        .order_by(Assignment.id)
    ).all()
    if owner_ref:
        owner = resolve_owner(session=session, ref=owner_ref)
    elif user.role == UserRole.member:
        owner = session.get(Owner, user.owner_id)
    elif leads:
        owner = session.get(Owner, leads[0])
    else:
        raise UserError(t("--owner: obligation #{id} has no lead owner", id=ob.id))
    assert owner is not None
    if user.role == UserRole.member and owner.id != user.owner_id:
        raise PermissionDenied(
            t(
                "{user} is a member of another owner and cannot report for {owner}",
                user=user.name,
                owner=owner.name,
            )
        )
    if owner.id not in roles:
        raise UserError(
            t("--owner: {owner} is not assigned to obligation #{id}", owner=owner.name, id=ob.id)
        )
    role = Role.lead.value if owner.id in leads else roles[owner.id]
    return owner, role


def check_period(session: Session, ob: Obligation, raw: str, *, what: str = "--period") -> Period:
    """The period of ``raw``, of the obligation's frequency, begun by today."""
    period = parse_period(raw, what=what)
    calendar = calendar_of(session, ob)
    if calendar.frequency != "none" and period.frequency != calendar.frequency:
        raise UserError(
            t(
                "{what}: obligation #{id} reports {frequency}, not for {period}",
                what=what,
                id=ob.id,
                frequency=frequency_label(calendar.frequency),
                period=period.label,
            )
        )
    if period.start > today(session):
        raise UserError(
            t(
                "{what}: {period} has not begun yet (today is {today})",
                what=what,
                period=period.label,
                today=today(session).isoformat(),
            )
        )
    return period


def check_percent(value: float | int | None, *, what: str = "--percent") -> int | None:
    if value is None:
        return None
    if not 0 <= value <= 100 or float(value) != int(value):
        raise UserError(
            t("{what}: a whole number from 0 to 100, not {value!r}", what=what, value=value)
        )
    return int(value)


@dataclass
class Claim:
    """A milestone claimed done in a report, on a date, with evidence files or URLs."""

    milestone_id: int
    on: date
    evidence: Sequence[str] = ()


def add_report(
    *,
    session: Session,
    ref: str | int,
    period: str,
    progress: str,
    problems: str | None = None,
    next_steps: str | None = None,
    percent: float | int | None = None,
    owner: str | None = None,
    milestone_id: int | None = None,
    claim: Claim | None = None,
) -> Report:
    """Record a report; an earlier one of the same owner and period is superseded."""
    ob = get_obligation(session=session, ref=ref)
    reporter, role = _reporter(session, ob, owner)
    per = check_period(session, ob, period)
    texts = {
        "progress": clean_text(progress, what="--progress", required=True),
        "problems": clean_text(problems, what="--problems"),
        "next_steps": clean_text(next_steps, what="--next"),
    }
    claims: list[dict[str, Any]] = []
    if claim is not None:
        milestone_id = claim.milestone_id
        claims.append(_claim(session, ob, claim))
    elif milestone_id is not None:
        _milestone(session, ob, milestone_id)
    entry = Entry(
        ob.id,
        role,
        texts["progress"] or "",
        texts["problems"],
        texts["next_steps"],
        check_percent(percent),
        milestone_id,
        claims or None,
    )
    [new_id] = store_reports(session, reporter, per, [entry])
    made = session.get(Report, new_id)
    assert made is not None
    return made


def _milestone(session: Session, ob: Obligation, milestone_id: int) -> Milestone:
    ms = session.get(Milestone, milestone_id)
    if ms is None or ms.obligation_id != ob.id:
        raise UserError(
            t(
                "--milestone: #{mid} is not a milestone of obligation #{id}",
                mid=milestone_id,
                id=ob.id,
            )
        )
    return ms


def _claim(session: Session, ob: Obligation, claim: Claim) -> dict[str, Any]:
    """Mark the milestone done on ``claim.on`` with its evidence; what the report records."""
    from .calendar import touch
    from .closeout import evidence_rows

    ms = _milestone(session, ob, claim.milestone_id)
    if claim.on > today(session):
        raise UserError(
            t(
                "--on: {day} is after today ({today})",
                day=claim.on.isoformat(),
                today=today(session).isoformat(),
            )
        )
    evidence_ids = []
    for uri, sha in evidence_rows(claim.evidence) if claim.evidence else []:
        ev = Evidence(
            obligation_id=ob.id, uri=uri, sha256=sha, added_by=actor(session), added_at=now(session)
        )
        session.add(ev)
        session.flush()
        evidence_ids.append(ev.id)
        audit.record(session, "evidence.add", "evidence", ev.id, after=snapshot(ev))
    if ms.done_on is None:
        before = snapshot(ms)
        ms.done_on = claim.on
        touch(ms, session=session)
        session.flush()
        audit.record(
            session, "milestone.done", "milestone", ms.id, before=before, after=snapshot(ms)
        )
    return {"id": ms.id, "on": claim.on.isoformat(), "evidence": evidence_ids}


@dataclass
class Entry:
    """One report to store: the obligation, the reporting owner's role, what it says."""

    obligation_id: int
    role: str
    progress: str
    problems: str | None = None
    next_steps: str | None = None
    percent: int | None = None
    milestone_id: int | None = None
    claims: list[dict[str, Any]] | None = None


def store_reports(
    session: Session,
    owner: Owner,
    period: Period,
    entries: Sequence[Entry],
    source: str | None = None,
) -> list[int]:
    """Insert reports of one owner for one period (checked already), superseding that owner's
    current reports of the period on the same obligations; audited. Their ids, in order."""
    from ..audit import record_many
    from ..batch_writes import insert_many, update_many

    ids = [e.obligation_id for e in entries]
    earlier: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        earlier.update(
            session.connection()
            .execute(
                select(Report.obligation_id, Report.id).where(
                    Report.obligation_id.in_(ids[start : start + _CHUNK]),
                    Report.owner_id == owner.id,
                    Report.period == period.label,
                    Report.superseded_by_id.is_(None),
                )
            )
            .all()
        )
    stamp, who = now(session), actor(session)
    rows = [
        {
            "obligation_id": e.obligation_id,
            "milestone_id": e.milestone_id,
            "owner_id": owner.id,
            "role": e.role,
            "period": period.label,
            "period_end": period.end,
            "progress": e.progress,
            "problems": e.problems,
            "next_steps": e.next_steps,
            "percent": e.percent,
            "milestones": e.claims,
            "source": source,
            "submitted_by": who,
            "submitted_at": stamp,
            "superseded_by_id": None,
        }
        for e in entries
    ]
    new_ids = insert_many(session, Report, rows, returning=True)
    replaced = {
        earlier[e.obligation_id]: new_id
        for e, new_id in zip(entries, new_ids, strict=True)
        if e.obligation_id in earlier
    }
    update_many(
        session, Report, [{"id": old, "superseded_by_id": new} for old, new in replaced.items()]
    )
    superseded = {new: old for old, new in replaced.items()}
    record_many(
        session,
        [
            (
                "report.add",
                "report",
                new_id,
                None,
                {"id": new_id, **row, "owner": owner.name, "supersedes": superseded.get(new_id)},
            )
            for row, new_id in zip(rows, new_ids, strict=True)
        ],
    )
    session.expire_all()  # written around the ORM
    return new_ids


# Reading ------------------------------------------------------------------------------------
def list_reports(
    *,
    session: Session,
    period: str | None = None,
    owner: str | None = None,
    obligation: str | int | None = None,
    history: bool = False,
) -> list[dict[str, Any]]:
    """Visible reports, current ones only unless ``history`` (superseded ones too):
    ``report_rows.report_list`` on the session's connection."""
    from ..report_rows import report_list

    label = parse_period(period).label if period else None
    owner_id = resolve_owner(session=session, ref=owner).id if owner else None
    ob_id = get_obligation(session=session, ref=obligation).id if obligation is not None else None
    session.flush()  # the SQL runs on the connection: it sees what was flushed
    return report_list(
        queries.Lean.of_session(session),
        as_of=today(session),
        period=label,
        owner_id=owner_id,
        obligation_id=ob_id,
        history=history,
    )


# What is due ------------------------------------------------------------------------------
@dataclass
class Owed:
    """An obligation's report for one period, owed by its lead(s)."""

    obligation_id: int
    code: str | None
    title: str
    title_en: str | None
    leads: list[int]
    period: Period
    due: date
    received: Any = None  # the leads' latest report for the period (a row with its columns)

    @property
    def missing(self) -> bool:
        return self.received is None

    def late(self, as_of: date) -> bool:
        """Not in by its due day (received after it, or still missing after it)."""
        if self.received is None:
            return as_of > self.due
        return self.received.submitted_at >= _day_after(self.due)


@lru_cache(maxsize=256)
def _day_after(day: date) -> datetime:
    """The instant the day after ``day`` begins: a report submitted before it was in by ``day``."""
    return local_midnight(day + timedelta(days=1))


@dataclass
class _Live:
    id: int
    code: str | None
    title: str
    title_en: str | None
    start: date
    calendar: Calendar


def _live(session: Session, owner_id: int | None = None) -> list[_Live]:
    """Live obligations with their reporting calendar and start (only ``owner_id``'s leads)."""
    return list(_live_rows(session, owner_id))


def _live_rows(session: Session, owner_id: int | None = None) -> Iterator[_Live]:
    """``_live``'s obligations in id order, read as they are used (a million need not be
    held at once)."""
    for ob_id, start, calendar, (code, title, title_en) in _started(
        session, owner_id, ("code", "title", "title_en")
    ):
        yield _Live(ob_id, code, title, title_en, start, calendar)


def _started(
    session: Session, owner_id: int | None = None, more: tuple[str, ...] = ()
) -> Iterator[tuple[int, date, Calendar, tuple[Any, ...]]]:
    """Live obligations in id order (only ``owner_id``'s leads): (id, start, reporting
    calendar, the columns ``more``)."""
    settings = settings_of(session)
    plans = {
        pid: (key, issued)
        for pid, key, issued in session.exec(select(Plan.id, Plan.key, Plan.issued_on)).all()
    }
    # Plain values through the bare driver. Obligations loaded together share their creation
    # instant and sit together in id order: a start is worked out when the instant changes.
    sql = (
        f"SELECT {', '.join(('id', 'plan_id', 'created_at', 'report_frequency', *more))}"
        f" FROM obligation WHERE state NOT IN ({', '.join(repr(s) for s in _CLOSED)})"
    )
    params: dict[str, Any] = {}
    if owner_id is not None:
        sql += (
            " AND id IN (SELECT obligation_id FROM assignment"
            " WHERE owner_id = :owner AND role = :lead)"
        )
        params.update(owner=owner_id, lead=Role.lead.value)
    calendars: dict[tuple[int | None, str | None], Calendar] = {}  # a few, shared by all rows
    since: tuple[Any, date | None] | None = None
    start = date.min
    lean = queries.Lean.of_session(session)
    for row in lean.stream(sql + " ORDER BY id", **params):
        ob_id, plan_id, created, own = row[:4]
        key, issued = plans.get(plan_id, (None, None))
        calendar = calendars.get((plan_id, own))
        if calendar is None:
            calendar = calendars[(plan_id, own)] = settings.calendar(key, own)
        if since != (created, issued):
            since, start = (created, issued), start_of(instant(created), issued)
        yield ob_id, start, calendar, row[4:]


def _paged(session: Session, statement: Any, key: Any) -> Iterator[Any]:
    """The rows of ``statement`` (ordered by ``key``, the first column) read in pages of
    20,000 after the last key seen: a million rows are never held at once, and no cursor
    stays open across the sweep's savepoints."""
    last = None
    while True:
        page = statement if last is None else statement.where(key > last)
        rows = session.connection().execute(page.limit(20_000)).all()
        yield from rows
        if len(rows) < 20_000:
            return
        last = rows[-1][0]


def _leads(session: Session) -> dict[int, list[int]]:
    """{obligation id: its lead owners' ids}, through the bare driver (plain integers, 100k
    rows and more)."""
    found: dict[int, list[int]] = {}
    lean = queries.Lean.of_session(session)
    for ob_id, owner_id in lean.rows(
        "SELECT obligation_id, owner_id FROM assignment WHERE role = :role ORDER BY id",
        role=Role.lead.value,
    ):
        found.setdefault(ob_id, []).append(owner_id)
    return found


def _latest_lead_reports(session: Session) -> Iterator[tuple[int, date]]:
    """(obligation id, the end of the latest period its leads reported for (visible)), in
    obligation id order."""
    from sqlalchemy import func

    return _paged(
        session,
        select(Report.obligation_id, func.max(Report.period_end))
        .where(Report.role == Role.lead, visible(session))
        .group_by(Report.obligation_id)
        .order_by(Report.obligation_id),
        Report.obligation_id,
    )


def overdue_reports(*, session: Session, as_of: date) -> list[tuple[int, Period, date, date, int]]:
    """Obligations whose latest due period's report is not in (the leads', visible): the
    obligation's id, the period owed and its due day, the due day of the first period
    unreported since, and how many periods that makes."""
    latest = _latest_lead_reports(session)
    pending = next(latest, None)
    owing = []
    # The period each calendar owes now and its due day: the same for every obligation on it.
    # Keyed by plain values: hashing a dataclass for every row cost more than the rest.
    dues: dict[tuple[str, int], tuple[Period, date]] = {}
    # (first due day, periods) per calendar and the start or last report: obligations
    # started together share them.
    spans: dict[tuple[str, int, date | None, date | None], tuple[date, int]] = {}
    for ob_id, start, cal, _ in _started(session):
        frequency, day = cal.frequency, cal.due_day
        if frequency == "none":
            continue
        owes = dues.get((frequency, day))
        if owes is None:
            period = due_periods(as_of, frequency, day, 1)[0]
            owes = dues[frequency, day] = (period, period.due(day))
        due, due_day = owes
        if due.end < start:
            continue  # the obligation did not exist yet during that period
        while pending is not None and pending[0] < ob_id:  # both in obligation id order
            pending = next(latest, None)
        reported = pending[1] if pending is not None and pending[0] == ob_id else None
        if reported is not None and reported >= due.end:
            continue
        key = (frequency, day, reported, start if reported is None else None)
        span = spans.get(key)
        if span is None:
            if reported is None:
                first = period_containing(start, frequency)
            else:
                first = period_containing(reported, frequency).following()
            span = spans[key] = (first.due(day), periods_spanned(first, due))
        owing.append((ob_id, due, due_day, *span))
    return owing


def owed_for(
    *,
    session: Session,
    as_of: date,
    period: Period | None = None,
    owner_id: int | None = None,
) -> list[Owed]:
    """Each live obligation's report for ``period`` (of its frequency), or for its latest
    ended period, with the leads' current report for it if any. ``owner_id``: only the
    obligations that owner leads."""
    settings = settings_of(session)
    plans = {
        pid: (key, issued)
        for pid, key, issued in session.exec(select(Plan.id, Plan.key, Plan.issued_on)).all()
    }
    # The period each frequency owes. An obligation owes it once it has started by the
    # period's end: its plan's issue date, else its creation before the next day began (one
    # comparison in SQL per frequency, rather than a local date worked out per row).
    owing = (
        {period.frequency: period}
        if period is not None
        else {f: period_containing(as_of, f).previous() for f in MONTHS}
    )
    frequencies = list(owing)
    params: dict[str, Any] = {
        f"b{i}": local_midnight(owing[f].end + timedelta(days=1)) for i, f in enumerate(frequencies)
    }
    begun = "".join(f", created_at < :b{i}" for i in range(len(frequencies)))
    sql = (
        "SELECT id, code, title, title_en, plan_id, report_frequency" + begun + " FROM obligation"
        f" WHERE state NOT IN ({', '.join(repr(s) for s in _CLOSED)})"
    )
    if owner_id is not None:
        sql += (
            " AND id IN (SELECT obligation_id FROM assignment"
            " WHERE owner_id = :owner AND role = :lead)"
        )
        params.update(owner=owner_id, lead=Role.lead.value)
    # Plain values through the bare driver: one row per live obligation (100k and more).
    rows = queries.Lean.of_session(session).rows(sql + " ORDER BY id", **params)
    leads = _leads(session)
    # What each (plan, own frequency) owes, worked out once: (period, due day, begun column).
    owes: dict[tuple[int | None, str | None], tuple[Period, date, int, date | None] | None] = {}
    owed: list[Owed] = []
    for row in rows:
        ob_id, code, title, title_en, plan_id, own = row[:6]
        key = (plan_id, own)
        if key not in owes:
            plan, issued = plans.get(plan_id, (None, None))
            cal = settings.calendar(plan, own)
            per = owing.get(cal.frequency)
            owes[key] = (
                (per, per.due(cal.due_day), 6 + frequencies.index(cal.frequency), issued)
                if per is not None
                else None
            )
        found = owes[key]
        if found is None:
            continue
        per, due, column, issued = found
        if not (issued <= per.end if issued is not None else row[column]):
            continue  # the obligation did not exist yet during that period
        owed.append(Owed(ob_id, code, title, title_en, leads.get(ob_id, []), per, due))
    wanted = {o.obligation_id for o in owed}
    labels = sorted({o.period.label for o in owed})
    received: dict[tuple[int, str], Any] = {}
    columns = (
        Report.obligation_id,
        Report.period,
        Report.role,
        Report.percent,
        Report.progress,
        Report.problems,
        Report.next_steps,
        Report.submitted_at,
    )
    for start in range(0, len(labels), _CHUNK):
        for report in (
            session.connection()
            .execute(  # rows, not ORM objects: there may be 100k
                select(*columns)
                .where(
                    Report.period.in_(labels[start : start + _CHUNK]),
                    Report.role == Role.lead,
                    visible(session),
                )
                .order_by(Report.submitted_at, Report.id)
            )
            .all()
        ):
            if report.obligation_id in wanted:
                received[(report.obligation_id, report.period)] = report  # the latest wins
    for o in owed:
        o.received = received.get((o.obligation_id, o.period.label))
    return owed


# Due days -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Owing:
    """One report an owner owes on a due day: which obligation, in which role, for which period."""

    obligation_id: int
    code: str | None
    title: str
    title_en: str | None
    role: str
    period: str


def report_days(
    *,
    session: Session,
    as_of: date,
    owner_id: int | None = None,
    roles: Sequence[str] | None = None,
    within: Any = None,
    days: Iterable[date] | None = None,
) -> dict[tuple[int, date], list[Owing]]:
    """{(owner id, due day): what it owes that day}: the reports owners have not sent for the
    live obligations they are assigned to (``roles``: only in these), as a read as of
    ``as_of`` sees them (obligations and reports recorded by then). Every period of an
    obligation's calendar counts, from the one it starts in to the one holding the later of
    its last deadline and ``as_of``; ``none`` reports on no calendar. ``owner_id``: one
    owner's; ``within``: obligations of this id subquery; ``days``: only these due days."""
    from sqlalchemy import func

    seen = visibility.seen_at(as_of)
    wanted_days = set(days) if days is not None else None
    cond = [
        Obligation.state.notin_(_CLOSED),
        text(visibility.obligation_visible()).bindparams(seen_at=seen),
    ]
    if within is not None:
        cond.append(Obligation.id.in_(within))
    held: list[Any] = []
    if owner_id is not None:
        held.append(Assignment.owner_id == owner_id)
    if roles is not None:
        held.append(Assignment.role.in_(list(roles)))
    if held:
        cond.append(Obligation.id.in_(select(Assignment.obligation_id).where(*held)))
    ids = select(Obligation.id).where(*cond)
    conn = session.connection()
    assigned: dict[int, dict[int, str]] = {}
    for ob_id, who, role in conn.execute(
        select(Assignment.obligation_id, Assignment.owner_id, Assignment.role)
        .where(Assignment.obligation_id.in_(ids), *held)
        .order_by(Assignment.id)
    ).all():
        owners = assigned.setdefault(ob_id, {})
        if owners.get(who) != Role.lead:  # an owner both leading and participating leads
            owners[who] = role
    if not assigned:
        return {}
    settings = settings_of(session)
    plans = {
        pid: (key, issued)
        for pid, key, issued in session.exec(select(Plan.id, Plan.key, Plan.issued_on)).all()
    }
    last: dict[int, date] = {}
    for model in (Milestone, Target):
        for ob_id, due in conn.execute(
            select(model.obligation_id, func.max(model.due))
            .where(model.obligation_id.in_(ids))
            .group_by(model.obligation_id)
        ).all():
            if due is not None and due > last.get(ob_id, date.min):
                last[ob_id] = due
    obs = []
    calendars: dict[tuple[int | None, str | None], Calendar] = {}
    for ob_id, code, title, title_en, plan_id, created, own in conn.execute(
        select(*_OWING_COLUMNS).where(*cond).order_by(Obligation.id)
    ).all():
        if ob_id not in assigned:
            continue
        key, issued = plans.get(plan_id, (None, None))
        calendar = calendars.get((plan_id, own))
        if calendar is None:  # a few, shared by all rows
            calendar = calendars[(plan_id, own)] = settings.calendar(key, own)
        if calendar.frequency == "none":
            continue
        cap = max(last.get(ob_id, as_of), as_of)
        obs.append((ob_id, code, title, title_en, calendar, start_of(created, issued), cap))
    if not obs:
        return {}
    # Each calendar's periods and due days once, from the earliest start to the latest cap;
    # with ``days``, only the few periods due on them.
    first, final = min(o[5] for o in obs), max(o[6] for o in obs)
    series: dict[Calendar, tuple[list[tuple[Period, date]], list[date], list[date]]] = {}
    for cal in {o[4] for o in obs}:
        dues = [(p, p.due(cal.due_day)) for p in periods_between(first, final, cal.frequency)]
        if wanted_days is not None:
            dues = [(p, due) for p, due in dues if due in wanted_days]
        series[cal] = (dues, [p.end for p, _ in dues], [p.start for p, _ in dues])
    reported: set[tuple[int, int, str]] = set()
    query = select(Report.obligation_id, Report.owner_id, Report.period).where(
        text(visibility.report_visible()).bindparams(seen_at=seen)
    )
    if owner_id is not None:
        query = query.where(Report.owner_id == owner_id)
    if within is not None:
        query = query.where(Report.obligation_id.in_(within))
    if wanted_days is not None:
        labels = {p.label for dues, _, _ in series.values() for p, _ in dues}
        query = query.where(Report.period.in_(sorted(labels) or [""]))
    reported.update(tuple(row) for row in conn.execute(query))  # type: ignore[misc]
    found: dict[tuple[int, date], list[Owing]] = {}
    for ob_id, code, title, title_en, cal, start, cap in obs:
        dues, ends, starts = series[cal]
        for p, due in dues[bisect_left(ends, start) : bisect_right(starts, cap)]:
            for who, role in assigned[ob_id].items():
                if (ob_id, who, p.label) not in reported:
                    found.setdefault((who, due), []).append(
                        Owing(ob_id, code, title, title_en, role, p.label)
                    )
    return found


def _owner_names(session: Session) -> dict[int, str]:
    return dict(session.connection().execute(select(Owner.id, Owner.name)).all())


def missing(
    *, session: Session, as_of: date, period: str | None = None, owner: str | None = None
) -> list[dict[str, Any]]:
    """Reports not received from the leads: for ``period``, or each obligation's latest
    ended period; ``owner``: only the obligations it leads."""
    per = parse_period(period) if period else None
    owner_id = resolve_owner(session=session, ref=owner).id if owner else None
    names = _owner_names(session)
    return [
        {
            "obligation": o.obligation_id,
            "code": o.code,
            "title": o.title,
            "leads": [names[i] for i in o.leads],
            "period": o.period.label,
            "due": o.due.isoformat(),
            "late": o.late(as_of),
        }
        for o in owed_for(session=session, as_of=as_of, period=per, owner_id=owner_id)
        if o.missing
    ]


def pending_for(*, session: Session, owner_id: int, as_of: date) -> list[Owed]:
    """待报送: the obligations ``owner_id`` leads whose latest ended period is unreported."""
    return [o for o in owed_for(session=session, as_of=as_of, owner_id=owner_id) if o.missing]


def _report_text(r: Any) -> dict[str, Any]:
    if r is None:
        return {"percent": None, "progress": None, "problems": None, "next_steps": None}
    return {
        "percent": r.percent,
        "progress": r.progress,
        "problems": r.problems,
        "next_steps": r.next_steps,
        "submitted_at": r.submitted_at.isoformat(),
    }


def consolidated(*, session: Session, period: str, as_of: date) -> dict[str, Any]:
    """The 调度 summary of a period: per obligation its leads, light, percent and the
    reports' text (the participants' too); per lead owner what was due, received, late
    and missing."""
    per = parse_period(period)
    owed = owed_for(session=session, as_of=as_of, period=per)
    names = _owner_names(session)
    lights = all_lights(session=session, as_of=as_of) if owed else {}
    latest: dict[tuple[int, int], Report] = {}
    for r in session.exec(
        select(Report)
        .where(Report.period == per.label, Report.role != Role.lead, visible(session))
        .order_by(Report.submitted_at, Report.id)
    ):
        latest[(r.obligation_id, r.owner_id)] = r  # a resubmission replaces the earlier
    others: dict[int, list[dict[str, Any]]] = {}
    for (ob_id, owner_id), r in latest.items():
        others.setdefault(ob_id, []).append(
            {"owner": names.get(owner_id), "role": r.role, **_report_text(r)}
        )
    tasks = []
    tally: dict[tuple[int, bool, bool], int] = {}  # (lead, received, late): how many
    due_days: dict[date, str] = {}  # a few due days, spelt once
    for o in owed:  # once per obligation (100k): the task's dict written out in one go
        late = o.late(as_of)
        due = due_days.get(o.due) or due_days.setdefault(o.due, o.due.isoformat())
        r = o.received
        if r is None:
            task = {
                "id": o.obligation_id,
                "code": o.code,
                "title": o.title,
                "lead": [names[i] for i in o.leads],
                "light": lights.get(o.obligation_id),
                "due": due,
                "received": False,
                "late": late,
                "percent": None,
                "progress": None,
                "problems": None,
                "next_steps": None,
                "others": others.get(o.obligation_id, []),
            }
        else:
            task = {
                "id": o.obligation_id,
                "code": o.code,
                "title": o.title,
                "lead": [names[i] for i in o.leads],
                "light": lights.get(o.obligation_id),
                "due": due,
                "received": True,
                "late": late,
                "percent": r.percent,
                "progress": r.progress,
                "problems": r.problems,
                "next_steps": r.next_steps,
                "submitted_at": r.submitted_at.isoformat(),
                "others": others.get(o.obligation_id, []),
            }
        tasks.append(task)
        for lead in o.leads:
            key = (lead, r is not None, late)
            tally[key] = tally.get(key, 0) + 1
    per_owner: dict[int, dict[str, int]] = {}
    for (lead, received, late), n in tally.items():
        counts = per_owner.setdefault(lead, {"due": 0, "received": 0, "late": 0, "missing": 0})
        counts["due"] += n
        counts["received" if received else "missing"] += n
        counts["late"] += n if late else 0
    return {
        "period": per.label,
        "as_of": as_of.isoformat(),
        "tasks": tasks,
        "owners": [
            {"owner": names[oid], **counts}
            for oid, counts in sorted(per_owner.items(), key=lambda kv: names[kv[0]])
        ],
    }


def reporting_status(*, session: Session, as_of: date) -> list[dict[str, Any]]:
    """Per lead owner, for each obligation's latest ended period: how many reports were due,
    received, late and missing (the coordinators' "who has reported" view)."""
    names = _owner_names(session)
    counts: dict[int, dict[str, Any]] = {}
    for o in owed_for(session=session, as_of=as_of):
        late = o.late(as_of)
        for lead in o.leads:
            c = counts.setdefault(
                lead, {"owner": names[lead], "due": 0, "received": 0, "late": 0, "missing": 0}
            )
            c["due"] += 1
            c["received" if o.received else "missing"] += 1
            c["late"] += late
    return sorted(counts.values(), key=lambda c: (-c["missing"], -c["late"], c["owner"]))


def urge(*, session: Session, owner: str, as_of: date) -> int:
    """催报: tell an owner now which reports it has not sent, on every channel it is reached
    on (core/notify: inbox, e-mail, its robots), once a day at most; delivered by the next
    notification pass. The number of reports it is reminded of."""
    from ..notify.ledger import insert_ledger
    from ..notify.occasions import owner_recipients

    require_coordinator(session)
    who = resolve_owner(session=session, ref=owner)
    pending = pending_for(session=session, owner_id=who.id, as_of=as_of)
    if not pending:
        raise UserError(t("{owner} has no report outstanding", owner=who.name))
    subject = t("Please report: {n} progress report(s) outstanding", n=len(pending))
    text = "\n".join(
        t(
            "{code} {title}: report for {period} due {due}",
            code=o.code or f"#{o.obligation_id}",
            title=o.title,
            period=o.period.label,
            due=o.due.isoformat(),
        )
        for o in pending
    )
    stamp = now(session)
    recipient = owner_recipients(session, [who], get_settings().notify.audience)[who.id]
    rows = [
        {
            "key": f"reports:{as_of.isoformat()}|{recipient.ref}|urge|{route.slot}",
            "channel": route.channel,
            "owner_id": who.id,
            "robot_id": route.robot_id,
            "recipient": route.address,
            "subject": subject,
            "occasion": "urge",
            "payload": {"subject": subject, "text": text, "html": None, "data": {}},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": stamp,
            "created_at": stamp,
        }
        for route in recipient.routes
    ]
    if not insert_ledger(session, rows):
        raise UserError(t("{owner} was already reminded today", owner=who.name))
    audit.record(
        session,
        "report.urge",
        "owner",
        who.id,
        after={"obligations": [o.obligation_id for o in pending], "day": as_of.isoformat()},
    )
    return len(pending)
