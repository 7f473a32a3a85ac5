"""Calendar feeds: a scope's deadlines as an RFC 5545 calendar (VEVENT, or VTODO on request).

One all-day event per open milestone and per target due date of the scope's live obligations
(cancelled ones stay, with STATUS:CANCELLED, so subscribed clients drop them). An owner's
calendar also has one event per report due day (报送日): the progress reports that owner has
not sent yet for the obligations in scope it is assigned to (services/reports.py's
``report_days``, as the session's day sees them). The body is a
pure function of the database: events are ordered, DTSTAMP is the event's LAST-MODIFIED, and
nothing reads the wall clock, so an unchanged scope gives byte-identical bytes and the ETag
can be a hash of them.

The calendar header (properties and VTIMEZONE) is built with icalendar; the events are
written here directly, because icalendar needs about 3 s to build and serialise 5,000 events
with their alarms and a feed must be served in a fraction of that. Tests parse the output
with icalendar and with an independent parser.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from importlib import import_module
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from .. import audit
from ..clock import LOCAL_TZ
from ..controls import one_line
from ..errors import Conflict, NotFound, UserError
from ..i18n import LANGUAGES, catalog, language, t
from ..labels import level_label
from ..models import (
    LEVEL_ORDER,
    Assignment,
    Escalation,
    Milestone,
    Obligation,
    Owner,
    Plan,
    Region,
    Report,
    Role,
    State,
    Sweep,
    Target,
    TargetStatus,
)
from ..settings import CalendarSettings, get_settings
from .base import actor, now, require_coordinator, require_writer, snapshot, today
from .owners import resolve_owner
from .regions import resolve_region

# Bump when the output format changes, so stored validators are not reused for new bytes.
FORMAT_VERSION = 1
BULK_EVALUATION = 50  # never-swept targets beyond this are evaluated in one batched pass
FEED_ROLES = (Role.lead, Role.participant, Role.implementer)
# Labels are English msgids; the Chinese lives in locale/zh/calendar.toml.
STATE_LABELS = {
    State.open: "not started",
    State.in_progress: "in progress",
    State.submitted: "close-out requested",
    State.closed: "closed",
    State.cancelled: "cancelled",
}
STATUS_LABELS = {
    "met": "met",
    "on_track": "on track",
    "at_risk": "at risk",
    "off_track": "off track",
    "missed": "missed",
    "no_data": "no data",
    "stale": "stale data",
}
SEPARATORS = {"zh": "、", "en": ", "}
COMPARATORS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "eq": "=", "le": "≤", "ge": "≥"}
# Goals that are a direction or a relative change rather than a threshold.
RELATIVE = {
    "trend_down": "{name} falling",
    "trend_up": "{name} rising",
    "eliminate": "{name} eliminated",
    "decrease_pct": "{name} down {value}%",
    "increase_pct": "{name} up {value}%",
}


def _tr(lang: str, msgid: str, /, **values: object) -> str:
    """``t()`` in a given language: a feed's language is its own, not the process's."""
    text = _label(lang, msgid)
    return text.format(**values) if values else text


@lru_cache(maxsize=1024)
def _label(lang: str, msgid: str) -> str:
    # Core's catalog is loaded once per process; feeds look the same labels up thousands of times.
    return catalog().get(msgid, msgid) if lang == "zh" else msgid


def _pick(lang: str, zh: str | None, en: str | None) -> str:
    return (en or zh or "") if lang == "en" else (zh or en or "")


# Scope -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """Which obligations a calendar shows, stored canonically (ids and codes, not spellings)."""

    owner_id: int | None = None
    role: str | None = None
    region: str | None = None  # GB/T 2260 code; sub-regions included
    domain: str | None = None
    plan: str | None = None  # plan key
    lang: str = "zh"
    name: str | None = None  # calendar name; derived from the scope when empty

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Scope:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


def resolve_scope(
    *,
    session: Session,
    owner: str | None = None,
    role: str | None = None,
    region: str | None = None,
    domain: str | None = None,
    plan: str | None = None,
    lang: str | None = None,
    name: str | None = None,
) -> Scope:
    """Turn command-line spellings (aliases, region names) into a canonical scope."""
    if role is not None and role not in FEED_ROLES:
        raise UserError(
            t(
                "--role: must be one of {choices}, not {value!r}",
                choices=", ".join(FEED_ROLES),
                value=role,
            )
        )
    if role is not None and owner is None:
        raise UserError(t("--role: only meaningful with --owner"))
    if lang is not None and lang not in LANGUAGES:
        raise UserError(
            t(
                "--lang: must be one of {choices}, not {value!r}",
                choices=", ".join(LANGUAGES),
                value=lang,
            )
        )
    if domain is not None and not domain.strip():
        raise UserError(t("--domain: must not be empty"))
    owner_row = resolve_owner(session=session, ref=owner) if owner else None
    region_row = resolve_region(session=session, ref=region) if region else None
    if plan is not None and session.exec(select(Plan.id).where(Plan.key == plan)).first() is None:
        raise NotFound(t("--plan: unknown plan {key!r}", key=plan))
    return Scope(
        owner_id=owner_row.id if owner_row else None,
        role=role,
        region=region_row.code if region_row else None,
        domain=domain.strip() if domain else None,
        plan=plan,
        lang=lang or language(),
        name=(name or "").strip() or None,
    )


def scope_label(*, session: Session, scope: Scope) -> str:
    """What a person calls the scope, in the scope's language (also the default name)."""
    lang, parts = scope.lang, []
    if scope.owner_id is not None:
        owner = session.get(Owner, scope.owner_id)
        label = _pick(lang, owner.name, owner.name_en) if owner else f"#{scope.owner_id}"
        parts.append(
            {
                Role.lead: _tr(lang, "{owner} (lead)", owner=label),
                Role.participant: _tr(lang, "{owner} (participant)", owner=label),
                Role.implementer: _tr(lang, "{owner} (implementer)", owner=label),
            }.get(scope.role, label)
        )
    if scope.region:
        region = session.exec(select(Region).where(Region.code == scope.region)).first()
        parts.append(_pick(lang, region.name, region.name_en) if region else scope.region)
    if scope.domain:
        parts.append(_tr(lang, "domain {domain}", domain=scope.domain))
    if scope.plan:
        parts.append(_tr(lang, "plan {plan}", plan=scope.plan))
    return " · ".join(parts) or _tr(lang, "all obligations")


def _where(session: Session, scope: Scope) -> list[Any]:
    """SQL conditions on Obligation for the scope."""
    where: list[Any] = []
    if scope.owner_id is not None:
        clause = [Assignment.obligation_id == Obligation.id, Assignment.owner_id == scope.owner_id]
        if scope.role:
            clause.append(Assignment.role == scope.role)
        where.append(sa.exists().where(*clause))
    if scope.region:
        path = session.exec(select(Region.path).where(Region.code == scope.region)).first()
        if path is None:  # the region is gone: nothing is in scope
            where.append(sa.false())
        else:
            where.append(
                Obligation.region_id.in_(
                    select(Region.id).where(
                        sa.or_(Region.path == path, Region.path.startswith(path + "/"))
                    )
                )
            )
    if scope.domain:
        where.append(Obligation.domain == scope.domain)
    if scope.plan:
        where.append(Obligation.plan_id.in_(select(Plan.id).where(Plan.key == scope.plan)))
    return where


# Fingerprint and Last-Modified -----------------------------------------------------------
def _evaluation() -> Any:
    """The target evaluation module, imported lazily: feeds only need it for targets no sweep
    has recorded a status for yet."""
    try:
        return import_module("duban.core.services.evaluation")
    except ImportError:
        return None


def _max(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


@dataclass(frozen=True)
class Fingerprint:
    digest: str
    latest: datetime | None  # the latest timestamped change in scope (whole seconds)
    swept: datetime | None  # when the last sweep recorded target statuses


def fingerprint(*, session: Session, scope: Scope) -> Fingerprint:
    """A cheap digest of everything a scope's calendar is built from, and its latest change.

    Counts and id sums notice rows entering or leaving the scope, sequences and versions
    notice edits even under an ``--as-of`` clock, and the timestamps give Last-Modified:
    closed obligations and done milestones still count, so a deadline that disappears moves
    it forward. Target statuses change only with a sweep, so the last sweep stands for them.
    Reading it costs a few aggregate queries instead of building the body.
    """
    where, conn = _where(session, scope), session.connection()
    ob_ids = select(Obligation.id).where(*where)
    ob = conn.execute(
        select(
            sa.func.count(Obligation.id),
            sa.func.sum(Obligation.id),
            sa.func.sum(Obligation.version),
            sa.func.max(Obligation.updated_at),
            sa.func.sum(sa.case((Obligation.state == State.closed, 1), else_=0)),
        ).where(*where)
    ).one()
    ms = conn.execute(
        select(
            sa.func.count(Milestone.id),
            sa.func.sum(Milestone.id),
            sa.func.sum(Milestone.sequence),
            sa.func.count(Milestone.done_on),
            sa.func.max(Milestone.updated_at),
        ).where(Milestone.obligation_id.in_(ob_ids))
    ).one()
    tg = conn.execute(
        select(
            sa.func.count(Target.id),
            sa.func.sum(Target.id),
            sa.func.sum(Target.sequence),
            sa.func.max(Target.updated_at),
        ).where(Target.obligation_id.in_(ob_ids))
    ).one()
    rank = sa.case(
        {level.value: rank + 1 for level, rank in LEVEL_ORDER.items()},
        value=Escalation.level,
        else_=0,
    )
    es = conn.execute(
        select(
            sa.func.count(Escalation.id),
            sa.func.count(Escalation.resolved_at),
            sa.func.sum(rank),
            sa.func.sum(sa.case((Escalation.resolved_at.is_(None), rank), else_=0)),
            sa.func.max(Escalation.opened_at),
            sa.func.max(Escalation.raised_at),
            sa.func.max(Escalation.resolved_at),
        ).where(Escalation.obligation_id.in_(ob_ids))
    ).one()
    sw = conn.execute(
        select(sa.func.count(Sweep.id), sa.func.max(Sweep.id), sa.func.max(Sweep.ran_at)).where(
            Sweep.dry_run.is_(False)
        )
    ).one()
    parts: list[Any] = [
        FORMAT_VERSION,
        scope.to_json(),
        get_settings().calendar,
        _policy_key(),
        *ob,
        *ms,
        *tg,
        *es,
    ]
    if tg[0]:
        parts += [*sw]
        if _evaluation() is not None:
            parts.append(today(session).isoformat())  # never-swept targets are evaluated live
    reported = None
    if scope.owner_id is not None:
        # Report due days: the owner's reports visible as of today, the calendar settings, and
        # the month (an obligation past its deadline keeps owing reports as months pass).
        from .reports import visible

        rp = conn.execute(
            select(
                sa.func.count(Report.id), sa.func.sum(Report.id), sa.func.max(Report.submitted_at)
            ).where(
                Report.owner_id == scope.owner_id,
                Report.obligation_id.in_(ob_ids),
                visible(session),
            )
        ).one()
        reported = rp[2]
        parts += [*rp, repr(_report_settings(session)), today(session).strftime("%Y-%m")]
    latest = _max(ob[3], ms[4], tg[3], es[4], es[5], es[6], reported)
    return Fingerprint(
        digest=hashlib.sha256(repr(parts).encode()).hexdigest()[:32],
        latest=_seconds(latest) if latest else None,
        swept=_seconds(sw[2]) if tg[0] and sw[2] else None,
    )


def _seconds(instant: datetime) -> datetime:
    """HTTP dates have whole seconds; validators compare on the same grain."""
    return instant.astimezone(UTC).replace(microsecond=0)


def _report_settings(session: Session) -> Any:
    from .reports import settings_of

    return settings_of(session)


def _policy_key() -> Any:
    from ..plugins import get_host

    return [get_settings().reminder_policy(None), get_host().implementers("duban_reminder_offsets")]


# Building --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Calendar:
    body: bytes
    etag: str  # hex digest of the body, without quotes
    events: int


# TEXT escaping (RFC 5545 3.3.11) in one pass; CR LF and LF both become "\n".
_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n", "\r": None})


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _line(name: str, value: str) -> bytes:
    """One content line, folded at 75 octets without splitting a UTF-8 character."""
    raw = f"{name}:{value}".encode()
    if len(raw) <= 75:
        return raw + b"\r\n"
    chunks, start, limit = [], 0, 75
    while len(raw) - start > limit:
        cut = start + limit
        while raw[cut] & 0xC0 == 0x80:  # continuation byte: step back to a character start
            cut -= 1
        chunks.append(raw[start:cut])
        start, limit = cut, 74  # continuation lines begin with a space
    chunks.append(raw[start:])
    return b"\r\n ".join(chunks) + b"\r\n"


@lru_cache(maxsize=4096)
def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@lru_cache(maxsize=8192)
def _day(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


@lru_cache(maxsize=64)
def _header(name: str, lang: str, refresh_minutes: int) -> bytes:
    """VCALENDAR properties and VTIMEZONE, up to (not including) END:VCALENDAR."""
    from icalendar import Calendar as ICalendar
    from icalendar import Timezone, vDuration

    ttl = timedelta(minutes=refresh_minutes)
    cal = ICalendar.new(
        prodid=f"-//duban//duban calendar//{lang.upper()}", name=name, calscale="GREGORIAN"
    )
    del cal["UID"]  # a VCALENDAR-level UID makes some clients merge every event into one
    cal.add("REFRESH-INTERVAL", vDuration(ttl), parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", vDuration(ttl))
    cal.add("X-WR-TIMEZONE", LOCAL_TZ.key)
    # Deadlines are dates (no TZID refers to it), but clients place floating times and show
    # the calendar's zone from it; written out to 2100 like every date duban accepts.
    cal.add_component(Timezone.from_tzid(LOCAL_TZ.key, last_date=date(2101, 1, 1)))
    body = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert body.endswith(end)
    return body[: -len(end)]


@lru_cache(maxsize=256)
def _trigger(offset: int, hour: int, todo: bool) -> bytes:
    """Days before the deadline's day, ringing at ``hour`` local time: T-30 -> -P29DT15H
    (a VTODO has no start: its alarms are relative to DUE)."""
    from icalendar import vDuration

    value = vDuration(timedelta(days=-offset, hours=hour)).to_ical().decode()
    return f"TRIGGER{';RELATED=END' if todo else ''}:{value}\r\n".encode()


@dataclass(slots=True)
class _Ob:
    id: int
    code: str | None
    title: str
    domain: str
    state: str
    version: int
    updated_at: datetime
    leads: list[str]
    participants: list[str]
    offsets: tuple[int, ...] = ()
    changed: datetime | None = None  # latest change to the obligation or anything shown of it
    # Encoded once per obligation, shared by its deadlines:
    head: list[str] = field(default_factory=list)  # DESCRIPTION lines about the obligation
    described: bytes = b""  # DESCRIPTION (with the targets' statuses) of its milestones
    categories: bytes = b""
    alarms: bytes = b""  # its VALARM blocks


def render(*, session: Session, scope: Scope, todo: bool = False) -> Calendar:
    """The scope's calendar: VEVENTs (or VTODOs with ``todo``) for its open deadlines."""
    lang, settings = scope.lang, get_settings().calendar
    live = select(Obligation.id).where(*_where(session, scope), Obligation.state != State.closed)
    obs = _obligations(session, scope, live)
    conn = session.connection()  # Core rows: the ORM layer would double the cost of 5,000 rows
    milestones = conn.execute(
        select(
            Milestone.id,
            Milestone.obligation_id,
            Milestone.title,
            Milestone.title_en,
            Milestone.due,
            Milestone.uid,
            Milestone.sequence,
            Milestone.updated_at,
        ).where(Milestone.obligation_id.in_(live), Milestone.done_on.is_(None))
    ).all()
    targets = conn.execute(
        select(
            Target.id,
            Target.obligation_id,
            Target.indicator,
            Target.name,
            Target.name_en,
            Target.comparator,
            Target.value,
            Target.unit,
            Target.due,
            Target.uid,
            Target.sequence,
            Target.updated_at,
        )
        .where(Target.obligation_id.in_(live))
        .order_by(Target.id)
    ).all()
    statuses = _statuses(session, live, [tg.id for tg in targets])
    escalations = _escalations(session, live)
    target_lines: dict[int, list[str]] = defaultdict(list)
    goals = {tg.id: _goal(lang, tg) for tg in targets}
    for tg in targets:
        ob = obs.get(tg.obligation_id)
        if ob is None:
            continue
        # Statuses are recorded anew by every sweep: they would move LAST-MODIFIED daily.
        ob.changed = _max(ob.changed, tg.updated_at)
        target_lines[ob.id].append(
            _tr(
                lang,
                "{target}: {status}",
                target=goals[tg.id],
                status=_status_label(lang, statuses.get(tg.id)),
            )
        )
    for ob_id, rows in escalations.items():
        if ob_id in obs:
            obs[ob_id].changed = _max(obs[ob_id].changed, *(r[3] for r in rows))
    for ob in obs.values():
        _prepare(lang, settings, todo, ob, target_lines.get(ob.id, []))

    items: list[tuple[date, str, bytes]] = []
    for ms in milestones:
        ob = obs.get(ms.obligation_id)
        if ob is None:
            continue
        title = _pick(lang, ms.title, ms.title_en)
        summary = (ob.code or "") + (title if title else ob.title)
        level = _level(escalations.get(ob.id, ()), "milestone", ms.id)
        items.append(
            _component(
                lang, todo, ob, ms.uid, ms.due, summary, level, ms.sequence, ms.updated_at, None
            )
        )
    for tg in targets:
        ob = obs.get(tg.obligation_id)
        if ob is None:
            continue
        status = statuses.get(tg.id)
        summary = (ob.code or "") + _tr(lang, "Target: {target}", target=goals[tg.id])
        level = _level(escalations.get(ob.id, ()), "target", tg.id)
        extra = _tr(lang, "Latest status: {status}", status=_status_label(lang, status))
        items.append(
            _component(
                lang, todo, ob, tg.uid, tg.due, summary, level, tg.sequence, tg.updated_at, extra
            )
        )
    if scope.owner_id is not None:
        items += _report_days(session, scope, settings, todo, obs)
    items.sort()  # by date, then UID (unique, so the bytes are never compared)
    name = scope.name or _tr(
        lang, "Deadlines: {scope}", scope=scope_label(session=session, scope=scope)
    )
    body = b"".join(
        [
            _header(one_line(name), lang, settings.refresh_minutes),
            *(item[2] for item in items),
            b"END:VCALENDAR\r\n",
        ]
    )
    return Calendar(body=body, etag=hashlib.sha256(body).hexdigest()[:32], events=len(items))


def _obligations(session: Session, scope: Scope, live: Any) -> dict[int, _Ob]:
    rows = (
        session.connection()
        .execute(
            select(
                Obligation.id,
                Obligation.code,
                Obligation.title,
                Obligation.title_en,
                Obligation.domain,
                Obligation.state,
                Obligation.version,
                Obligation.updated_at,
            ).where(Obligation.id.in_(live))
        )
        .all()
    )
    names: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for ob_id, role, name, name_en in (
        session.connection()
        .execute(
            select(Assignment.obligation_id, Assignment.role, Owner.name, Owner.name_en)
            .join(Owner, Owner.id == Assignment.owner_id)
            .where(
                Assignment.obligation_id.in_(live),
                Assignment.role.in_([Role.lead.value, Role.participant.value]),
            )
            .order_by(Assignment.obligation_id, Assignment.id)
        )
        .all()
    ):
        names[ob_id][role].append(_pick(scope.lang, name, name_en))
    lead, participant = Role.lead.value, Role.participant.value  # plain str: hashing is cheaper
    obs = {
        r.id: _Ob(
            id=r.id,
            code=r.code,
            title=_pick(scope.lang, r.title, r.title_en),
            domain=r.domain,
            state=r.state,
            version=r.version,
            updated_at=r.updated_at,
            leads=names[r.id][lead],
            participants=names[r.id][participant],
            changed=r.updated_at,
        )
        for r in rows
    }
    _assign_offsets(session, scope, obs, live)
    return obs


def _assign_offsets(session: Session, scope: Scope, obs: dict[int, _Ob], live: Any) -> None:
    """Alarm offsets from the reminder policy, for the feed owner's role (lead by default)."""
    from ..plugins import get_host

    roles: dict[int, str] = {}
    if scope.owner_id is not None and obs:
        for ob_id, role in (
            session.connection()
            .execute(
                select(Assignment.obligation_id, Assignment.role)
                .where(Assignment.owner_id == scope.owner_id, Assignment.obligation_id.in_(live))
                .order_by(Assignment.id)
            )
            .all()
        ):
            # An owner both leading and participating is reminded as a lead.
            if roles.get(ob_id) != Role.lead:
                roles[ob_id] = role
    per_obligation = bool(get_host().implementers("duban_reminder_offsets"))
    full: dict[int, Obligation] = {}
    if per_obligation and obs:
        # A plugin may look at anything in the obligation: give it the real row.
        full = {o.id: o for o in session.exec(select(Obligation).where(Obligation.id.in_(live)))}
    by_domain: dict[tuple[str, str], tuple[int, ...]] = {}
    policy = get_settings().reminder_policy
    for ob in obs.values():
        role = scope.role or roles.get(ob.id, Role.lead)
        if per_obligation:
            ob.offsets = _offsets(policy(full[ob.id]), role)
            continue
        key = (ob.domain, role)  # without plugins the policy depends on the domain alone
        if key not in by_domain:
            by_domain[key] = _offsets(policy(Obligation(title="", domain=ob.domain)), role)
        ob.offsets = by_domain[key]


def _offsets(policy: dict[str, Any], role: str) -> tuple[int, ...]:
    """Days before the deadline, latest reminder last (T-30, T-7, T-1, 0)."""
    offsets = policy.get(role) or policy.get(Role.lead) or ()
    return tuple(sorted({int(o) for o in offsets if int(o) >= 0}, reverse=True))


def _statuses(session: Session, live: Any, target_ids: list[int]) -> dict[int, str]:
    """Each target's latest status: the latest sweep's record, else a live evaluation."""
    order = sa.func.row_number().over(
        partition_by=TargetStatus.target_id,
        order_by=(TargetStatus.as_of.desc(), TargetStatus.sweep_id.desc()),
    )
    ranked = (
        select(TargetStatus.target_id, TargetStatus.status, order.label("n"))
        .where(TargetStatus.target_id.in_(select(Target.id).where(Target.obligation_id.in_(live))))
        .subquery()
    )
    found = dict(
        session.connection()
        .execute(select(ranked.c.target_id, ranked.c.status).where(ranked.c.n == 1))
        .all()
    )
    missing = [tid for tid in target_ids if tid not in found]
    module = _evaluation() if missing else None
    if module is not None:
        as_of = today(session)
        if len(missing) > BULK_EVALUATION:  # one batched pass beats per-target queries
            wanted = set(missing)
            found.update(
                {
                    tg.id: ev.status
                    for tg, ev in module.evaluate_all(session=session, as_of=as_of)
                    if tg.id in wanted
                }
            )
        else:
            for target in session.exec(select(Target).where(Target.id.in_(missing))):
                found[target.id] = module.evaluate(
                    session=session, target=target, as_of=as_of
                ).status
    return found


def _escalations(
    session: Session, live: Any
) -> dict[int, list[tuple[str, str, int, datetime | None]]]:
    """Per obligation: (level if open else "", subject type, subject id, latest timestamp)."""
    out: dict[int, list[tuple[str, str, int, datetime | None]]] = defaultdict(list)
    for row in (
        session.connection()
        .execute(
            select(
                Escalation.obligation_id,
                Escalation.level,
                Escalation.subject_type,
                Escalation.subject_id,
                Escalation.opened_at,
                Escalation.raised_at,
                Escalation.resolved_at,
            ).where(Escalation.obligation_id.in_(live))
        )
        .all()
    ):
        out[row.obligation_id].append(
            (
                row.level if row.resolved_at is None else "",
                row.subject_type,
                row.subject_id,
                _max(row.opened_at, row.raised_at, row.resolved_at),
            )
        )
    return out


def _level(
    rows: Iterable[tuple[str, str, int, datetime | None]], kind: str, item_id: int
) -> str | None:
    """The highest open level that concerns this deadline: escalations against the obligation
    as a whole, or against this very milestone or target."""
    best: str | None = None
    for level, subject_type, subject_id, _ in rows:
        if not level or (
            subject_type in ("milestone", "target")
            and (subject_type, subject_id) != (kind, item_id)
        ):
            continue
        if best is None or LEVEL_ORDER.get(level, -1) > LEVEL_ORDER.get(best, -1):
            best = level
    return best


def _goal(lang: str, tg: Any) -> str:
    from ..plugins import get_host

    name = _pick(lang, tg.name, tg.name_en)
    if not name:
        indicator = get_host().indicators().get(tg.indicator)
        name = _pick(lang, indicator.name, indicator.name_en) if indicator else tg.indicator
    if tg.comparator in RELATIVE:
        return _tr(lang, RELATIVE[tg.comparator], name=name, value=f"{tg.value or 0:g}")
    if tg.value is None:
        return name
    unit = tg.unit or ""
    value = f"{tg.value:g}" + (unit if unit == "%" or not unit else f" {unit}")
    return f"{name} {COMPARATORS.get(tg.comparator, tg.comparator)} {value}"


def _status_label(lang: str, status: str | None) -> str:
    return _label(
        lang, "not evaluated yet" if status is None else STATUS_LABELS.get(status, status)
    )


def _prepare(
    lang: str, settings: CalendarSettings, todo: bool, ob: _Ob, target_lines: list[str]
) -> None:
    """Encode what every deadline of an obligation shares."""
    ob.head = [
        ob.code + ob.title if ob.code else ob.title,
        _tr(lang, "Lead: {names}", names=SEPARATORS[lang].join(ob.leads)),
    ]
    if ob.participants:
        ob.head.append(
            _tr(lang, "Participants: {names}", names=SEPARATORS[lang].join(ob.participants))
        )
    ob.head.append(
        _tr(lang, "State: {state}", state=_label(lang, STATE_LABELS.get(ob.state, ob.state)))
    )
    lines = list(ob.head)
    if target_lines:
        limit = settings.max_target_lines
        lines += [_label(lang, "Targets:"), *("· " + line for line in target_lines[:limit])]
        if len(target_lines) > limit:
            lines.append(_tr(lang, "… and {count} more", count=len(target_lines) - limit))
    ob.described = _line("DESCRIPTION", _escape("\n".join(lines)))
    ob.categories = _line("CATEGORIES", _escape(ob.domain))
    if ob.state != State.cancelled:  # no reminders for what was called off
        ob.alarms = _alarms(lang, ob.offsets, settings.alarm_hour, todo)


@lru_cache(maxsize=256)
def _alarms(
    lang: str, offsets: tuple[int, ...], hour: int, todo: bool, report: bool = False
) -> bytes:
    """VALARM blocks. Clients announce an alarm with the event's title; a generic alarm text
    lets every deadline share the same blocks."""
    what = "Progress report reminder" if report else "Deadline reminder"
    text = _line("DESCRIPTION", _escape(_tr(lang, what)))
    return b"".join(
        b"BEGIN:VALARM\r\nACTION:DISPLAY\r\n"
        + text
        + _trigger(offset, hour, todo)
        + b"END:VALARM\r\n"
        for offset in offsets
    )


def _component(
    lang: str,
    todo: bool,
    ob: _Ob,
    uid: str,
    due: date,
    summary: str,
    level: str | None,
    sequence: int,
    updated_at: datetime,
    status_line: str | None,
) -> tuple[date, str, bytes]:
    """One VEVENT (or VTODO); a target's event adds its ``status_line`` to the DESCRIPTION."""
    cancelled = ob.state == State.cancelled
    if level:
        summary = _tr(
            lang,
            "[{level}] {title}",
            level=level_label(level, lang),
            title=summary,
        )
    described = (
        ob.described
        if status_line is None
        else _line("DESCRIPTION", _escape("\n".join([*ob.head, status_line])))
    )
    changed = _stamp(_max(updated_at, ob.changed) or updated_at)
    # SEQUENCE rises when the date moves (the row's own counter, bumped by touch()) and when
    # the obligation's state changes (its version), e.g. on cancellation.
    seq = max(sequence, 0) + max(ob.version - 1, 0)
    if todo:
        status = {State.in_progress: "IN-PROCESS", State.submitted: "IN-PROCESS"}.get(
            ob.state, "CANCELLED" if cancelled else "NEEDS-ACTION"
        )
        uid_line = _line("UID", _escape(uid.replace("@", "-todo@", 1)))
        dates = f"DUE;VALUE=DATE:{_day(due)}\r\n"
        tail = f"STATUS:{status}\r\n"
    else:
        uid_line = _line("UID", _escape(uid))
        dates = (
            f"DTSTART;VALUE=DATE:{_day(due)}\r\n"
            f"DTEND;VALUE=DATE:{_day(due + timedelta(days=1))}\r\n"
        )
        # TRANSPARENT: a deadline does not make anyone busy.
        tail = f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}\r\nTRANSP:TRANSPARENT\r\n"
    return (
        due,
        uid,
        b"".join(
            (
                b"BEGIN:VTODO\r\n" if todo else b"BEGIN:VEVENT\r\n",
                uid_line,
                f"DTSTAMP:{changed}\r\nLAST-MODIFIED:{changed}\r\nSEQUENCE:{seq}\r\n{dates}".encode(),
                _line("SUMMARY", _escape(summary)),
                described,
                ob.categories,
                tail.encode(),
                ob.alarms,
                b"END:VTODO\r\n" if todo else b"END:VEVENT\r\n",
            )
        ),
    )


def _report_days(
    session: Session, scope: Scope, settings: CalendarSettings, todo: bool, obs: dict[int, _Ob]
) -> list[tuple[date, str, bytes]]:
    """One event per day the scope's owner has progress reports due: the periods it has not
    reported yet, per obligation in scope it is assigned to (in the scope's role)."""
    from .reports import report_days

    assert scope.owner_id is not None
    lang = scope.lang
    days = report_days(
        session=session,
        as_of=today(session),
        owner_id=scope.owner_id,
        roles=[scope.role] if scope.role else None,
        within=select(Obligation.id).where(*_where(session, scope)),
    )
    reports = _report_settings(session)
    alarms = _alarms(lang, reports.remind_before, settings.alarm_hour, todo, True)
    categories = _line("CATEGORIES", _escape(_label(lang, "progress report")))
    limit = settings.max_report_lines
    out = []
    for (_, due), owing in days.items():
        periods = sorted({o.period for o in owing})
        summary = _tr(
            lang,
            "Progress reports due: {periods} ({count})",
            periods=SEPARATORS[lang].join(periods),
            count=len(owing),
        )
        lines = [
            _tr(lang, "Report by {day} on:", day=due.isoformat()),
            *(
                "· "
                + _tr(
                    lang,
                    "{task} ({period})",
                    task=(o.code or "") + _pick(lang, o.title, o.title_en),
                    period=o.period,
                )
                for o in owing[:limit]
            ),
        ]
        if len(owing) > limit:
            lines.append(_tr(lang, "… and {count} more", count=len(owing) - limit))
        changed = _stamp(
            max(
                (obs[o.obligation_id].changed for o in owing if o.obligation_id in obs),
                default=None,
            )
            or datetime.combine(due, datetime.min.time(), UTC)
        )
        uid = f"report-{scope.owner_id}-{_day(due)}@duban"
        if todo:
            head = f"UID:{uid.replace('@', '-todo@', 1)}\r\nDTSTAMP:{changed}\r\n"
            dates, tail = f"DUE;VALUE=DATE:{_day(due)}\r\n", "STATUS:NEEDS-ACTION\r\n"
        else:
            head = f"UID:{uid}\r\nDTSTAMP:{changed}\r\n"
            dates = (
                f"DTSTART;VALUE=DATE:{_day(due)}\r\n"
                f"DTEND;VALUE=DATE:{_day(due + timedelta(days=1))}\r\n"
            )
            tail = "STATUS:CONFIRMED\r\nTRANSP:TRANSPARENT\r\n"
        kind = b"VTODO" if todo else b"VEVENT"
        out.append(
            (
                due,
                uid,
                b"".join(
                    (
                        b"BEGIN:" + kind + b"\r\n",
                        f"{head}LAST-MODIFIED:{changed}\r\nSEQUENCE:0\r\n{dates}".encode(),
                        _line("SUMMARY", _escape(summary)),
                        _line("DESCRIPTION", _escape("\n".join(lines))),
                        categories,
                        tail.encode(),
                        alarms,
                        b"END:" + kind + b"\r\n",
                    )
                ),
            )
        )
    return out


# Changing deadlines ----------------------------------------------------------------------
def touch(item: Milestone | Target, *, session: Session) -> None:
    """Record that a deadline's event changed (its date, title, value or done state).

    Every service that edits a milestone's due/title/done_on or a target's due/value calls
    this, so subscribed calendars see a higher SEQUENCE and a newer LAST-MODIFIED.
    """
    item.sequence = (item.sequence or 0) + 1
    item.updated_at = now(session)
    session.add(item)


def move_milestone(*, session: Session, milestone_id: int, due: date) -> Milestone:
    """Move a milestone to a new due date (a coordinator's decision; audited)."""
    require_coordinator(session)
    ms = session.get(Milestone, milestone_id)
    if ms is None:
        raise NotFound(t("unknown milestone #{id}", id=milestone_id))
    if ms.done_on is not None:
        raise Conflict(
            t(
                "milestone #{id} was done on {day}; a done milestone is not moved",
                id=ms.id,
                day=ms.done_on.isoformat(),
            )
        )
    if ms.due == due:
        raise UserError(
            t("--due: milestone #{id} is already due on {day}", id=ms.id, day=due.isoformat())
        )
    before = snapshot(ms)
    ms.due = due
    touch(ms, session=session)
    session.flush()
    audit.record(session, "milestone.move", "milestone", ms.id, before=before, after=snapshot(ms))
    return ms


def mark_milestone_done(*, session: Session, milestone_id: int, on: date) -> Milestone:
    """Record that a milestone was done on ``on`` (business time, claimed by the actor; never
    after today); when it was recorded is the real clock's (system time)."""
    ms = session.get(Milestone, milestone_id)
    if ms is None:
        raise NotFound(t("unknown milestone #{id}", id=milestone_id))
    require_writer(session, ms.obligation_id)
    if on > today(session):
        raise UserError(
            t("--on: {day} is after today; a milestone is done on or before today", day=on)
        )
    if ms.done_on is not None:
        raise Conflict(
            t("milestone #{id} is already done (on {day})", id=ms.id, day=ms.done_on.isoformat())
        )
    before = snapshot(ms)
    ms.done_on, ms.done_at, ms.done_by = on, now(session), actor(session)
    touch(ms, session=session)
    session.flush()
    audit.record(session, "milestone.done", "milestone", ms.id, before=before, after=snapshot(ms))
    return ms
