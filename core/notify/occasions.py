"""What falls due: reminders for milestones and notices of escalation changes, to whom, in
which words.

A pass looks at a window of local dates ``[start, today]``. Occasions that fell on or after
``horizon`` (today minus ``catch_up_days``) are sent one by one; older ones (only after
downtime: the window then starts at the last pass) are folded into one digest per
recipient and channel. Everything is selected from indexed columns (``milestone.due``), so a
pass over a large database with nothing due costs a few index look-ups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from ..clock import to_local_date
from ..errors import UserError
from ..i18n import t
from ..models import (
    LEVEL_ORDER,
    Assignment,
    Escalation,
    Milestone,
    Obligation,
    Owner,
    OwnerRobot,
    Role,
    User,
    UserRole,
)
from ..services.obligations import CLOSED_STATES
from ..settings import get_settings
from .ledger import chunks, existing_keys
from .settings import Audience

# Above this many candidate due dates, one range query and a filter in Python beat an IN list.
_MAX_IN_DATES = 400
_CHUNK = 900


# Recipients -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """One way to reach a recipient: a channel and its address; for a chat robot, which one."""

    channel: str
    address: str  # as the ledger shows it: a robot's URL without its query (keys stay private)
    robot_id: int | None = None
    url: str = ""  # a robot's full URL: what pacing counts posts per
    preset: str = ""
    mentions: tuple[str, ...] = ()

    @property
    def slot(self) -> str:
        """The channel as ledger keys name it: each of an owner's robots is its own."""
        return self.channel if self.robot_id is None else f"{self.channel}:{self.robot_id}"


@dataclass(frozen=True)
class Recipient:
    """An owner (all its channels) or a user (the in-app inbox only)."""

    ref: str  # "owner:<id>" or "user:<name>": part of every ledger key
    name: str
    lang: str
    owner_id: int | None = None
    routes: tuple[Route, ...] = ()
    calendar: str | None = None  # the owner's calendar feed URL, linked from robot messages


def owner_recipients(
    session: Session, owners: Iterable[Owner], audience: Audience
) -> dict[int, Recipient]:
    """Each owner as a recipient on every channel it has an address for (robots: each one)."""
    owners = list(owners)
    robots: dict[int, list[OwnerRobot]] = defaultdict(list)
    if "webhook" in audience.channels:
        for chunk in chunks([o.id for o in owners]):
            for robot in session.exec(
                select(OwnerRobot).where(OwnerRobot.owner_id.in_(chunk)).order_by(OwnerRobot.id)
            ):
                robots[robot.owner_id].append(robot)
    out = {}
    for owner in owners:
        routes: list[Route] = []
        for channel in audience.channels:
            if channel == "email":
                if owner.email:
                    routes.append(Route(channel, owner.email))
            elif channel == "webhook":
                routes += [
                    Route(
                        channel,
                        r.url.split("?", 1)[0],
                        r.id,
                        r.url,
                        r.preset,
                        tuple(r.mentions or ()),
                    )
                    for r in robots[owner.id]
                ]
            elif channel == "inbox":
                routes.append(Route(channel, f"owner:{owner.id}"))
            else:  # a plugin's channel finds the owner's address itself
                routes.append(Route(channel, owner.name))
        out[owner.id] = Recipient(
            ref=f"owner:{owner.id}",
            name=owner.name,
            lang=audience.lang(owner.name, owner.name_en),
            owner_id=owner.id,
            routes=tuple(routes),
            calendar=audience.calendars.get(owner.name),
        )
    return out


def coordinator_recipients(session: Session, audience: Audience) -> list[Recipient]:
    if "inbox" not in audience.channels:
        return []
    users = session.exec(select(User).where(User.role == UserRole.coordinator).order_by(User.name))
    return [
        Recipient(
            ref=f"user:{u.name}",
            name=u.name,
            lang=audience.lang(u.name),
            routes=(Route("inbox", f"user:{u.name}"),),
        )
        for u in users
    ]


# Occurrences ------------------------------------------------------------------------------
@dataclass
class Due:
    """One occasion for one recipient on one route, not yet rendered."""

    key: str
    subject: str
    occasion: str
    route: Route
    fall: date
    digest: bool
    recipient: Recipient
    context: dict[str, Any]
    superseded: bool = False

    @property
    def channel(self) -> str:
        return self.route.channel

    @property
    def address(self) -> str:
        return self.route.address


def ledger_key(subject: str, recipient: str, occasion: str, channel: str) -> str:
    return f"{subject}|{recipient}|{occasion}|{channel}"


def occasion_name(offset: int) -> str:
    return "due" if offset == 0 else f"T-{offset}"


def overdue_name(n: int, every: int) -> str:
    return f"overdue-week-{n}" if every == 7 else f"overdue-{n}x{every}d"


def _policy(ob: Obligation | None) -> dict[str, Any]:
    policy = get_settings().reminder_policy(ob)
    where = f"[reminders.{ob.domain}]" if ob is not None else "[reminders]"
    for role in Role:
        offsets = policy.get(role.value, [])
        if not isinstance(offsets, list) or not all(
            isinstance(k, int) and not isinstance(k, bool) and 0 <= k <= 3660 for k in offsets
        ):
            raise UserError(
                t(
                    "duban.toml {where} {key}: expected a list of whole days >= 0, not {value!r}",
                    where=where,
                    key=role.value,
                    value=offsets,
                )
            )
    every = policy.get("overdue_every", 0)
    if not isinstance(every, int) or isinstance(every, bool) or every < 0:
        raise UserError(
            t(
                "duban.toml {where} overdue_every: expected whole days >= 0, not {value!r}",
                where=where,
                value=every,
            )
        )
    return policy


def _occasions(
    due: date, roles: Iterable[str], policy: Mapping[str, Any], start: date, today: date
) -> Iterator[tuple[str, date]]:
    """(occasion, fell on) for every occasion of a milestone in ``[start, today]``."""
    offsets = sorted({k for role in roles for k in policy.get(role, [])}, reverse=True)
    for k in offsets:
        fall = due - timedelta(days=k)
        if start <= fall <= today:
            yield occasion_name(k), fall
    every = policy.get("overdue_every", 0)
    if every and due < today:
        first = max(1, -(-(start - due).days // every))
        for n in range(first, (today - due).days // every + 1):
            yield overdue_name(n, every), due + timedelta(days=n * every)


def _live_domains(session: Session) -> dict[str, Obligation]:
    """One live obligation per domain, to learn each domain's policy (plugins answer per domain)."""
    live = Obligation.state.notin_([s.value for s in CLOSED_STATES])
    domains = session.exec(select(Obligation.domain).where(live).distinct()).all()
    return {
        d: session.exec(select(Obligation).where(Obligation.domain == d, live).limit(1)).one()
        for d in domains
    }


def _candidate_milestones(
    session: Session, start: date, today: date, policies: Iterable[Mapping[str, Any]]
) -> list[Any]:
    """(id, obligation_id, due, domain) of pending milestones of live obligations that may
    have an occasion in ``[start, today]``: plain rows, no ORM objects (there may be many)."""
    policies = list(policies)
    pending = or_(Milestone.done_on.is_(None), Milestone.done_on > today)
    live = Obligation.state.notin_([s.value for s in CLOSED_STATES])
    base = (
        select(Milestone.id, Milestone.obligation_id, Milestone.due, Obligation.domain)
        .join(Obligation, Obligation.id == Milestone.obligation_id)
        .where(pending, live)
    )
    max_offset = max(
        (k for p in policies for role in Role for k in p.get(role.value, [])), default=-1
    )
    found: dict[int, Any] = {}
    if max_offset >= 0:
        # Offsets: an occasion on day f belongs to a milestone due on f + k, k in [0, max].
        for m in session.exec(
            base.where(Milestone.due >= start, Milestone.due <= today + timedelta(days=max_offset))
        ):
            found[m.id] = m
    everies = {p.get("overdue_every", 0) for p in policies} - {0}
    if everies:
        earliest = session.exec(
            select(func.min(Milestone.due))
            .join(Obligation, Obligation.id == Milestone.obligation_id)
            .where(pending, live)
        ).one()
        if earliest is not None and earliest < today:
            # Overdue occasions fall every n days after the due date: only milestones due
            # n, 2n, 3n... days before a day of the window can have one.
            days: set[date] = set()
            for every in everies:
                day = start
                while day <= today and len(days) <= _MAX_IN_DATES:
                    back = day - timedelta(days=every)
                    while back >= earliest:
                        days.add(back)
                        back -= timedelta(days=every)
                    day += timedelta(days=1)
            if len(days) > _MAX_IN_DATES:
                rows = session.exec(base.where(Milestone.due >= earliest, Milestone.due < today))
            else:
                ordered = sorted(days)
                rows = (
                    m
                    for chunk in chunks(ordered)
                    for m in session.exec(base.where(Milestone.due.in_(chunk)))
                )
            for m in rows:
                found.setdefault(m.id, m)
    return sorted(found.values(), key=lambda m: (m.due, m.id))


def _plugins_answer_offsets() -> bool:
    from ..plugins import get_host

    host = get_host()
    return any(
        host.plugins.get(name) is not None and host.plugins[name].status == "ok"
        for name in host.implementers("duban_reminder_offsets")
    )


def plan_reminders(
    session: Session,
    *,
    today: date,
    start: date,
    horizon: date,
    audience: Audience,
) -> list[Due]:
    """Milestone reminders with an occasion in ``[start, today]`` that the ledger does not hold
    yet, per recipient and channel. Of several occasions of one milestone for one recipient
    and channel, all but the latest are marked ``superseded`` ("due today" makes "due
    tomorrow" moot); occasions before ``horizon`` are marked ``digest``."""
    _policy(None)  # a bad [reminders] is named as such, not as the first domain's
    reps = _live_domains(session)
    if not reps:
        return []
    domain_policy = {d: _policy(ob) for d, ob in reps.items()}
    rows = _candidate_milestones(session, start, today, domain_policy.values())
    if not rows:
        return []
    ob_ids = sorted({r.obligation_id for r in rows})
    roles: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    policies: dict[int, dict[str, Any]] = {}
    per_obligation = _plugins_answer_offsets()
    for chunk in chunks(ob_ids):
        for ob_id, owner_id, role in session.exec(
            select(Assignment.obligation_id, Assignment.owner_id, Assignment.role).where(
                Assignment.obligation_id.in_(chunk)
            )
        ):
            roles[ob_id][owner_id].add(role)
        if per_obligation:  # a plugin may answer per obligation: ask it about each
            for ob in session.exec(select(Obligation).where(Obligation.id.in_(chunk))):
                policies[ob.id] = _policy(ob)
    owner_ids = sorted({o for per in roles.values() for o in per})
    recipients = owner_recipients(
        session,
        (
            o
            for chunk in chunks(owner_ids)
            for o in session.exec(select(Owner).where(Owner.id.in_(chunk)))
        ),
        audience,
    )
    # Keys first (strings and tuples); objects and words only for the few that are new.
    items: list[tuple[str, Any, int, str, date, Route]] = []
    latest: dict[tuple[int, int, str], date] = {}
    for m in rows:
        policy = policies.get(m.obligation_id) or domain_policy[m.domain]
        subject = f"milestone:{m.id}:{m.due.isoformat()}"
        for owner_id, owner_roles in sorted(roles[m.obligation_id].items()):
            rcpt = recipients[owner_id]
            for occasion, fall in _occasions(m.due, owner_roles, policy, start, today):
                for route in rcpt.routes:
                    items.append(
                        (
                            ledger_key(subject, rcpt.ref, occasion, route.slot),
                            m,
                            owner_id,
                            occasion,
                            fall,
                            route,
                        )
                    )
                    slot = (m.id, owner_id, route.slot)
                    if fall >= horizon and fall > latest.get(slot, date.min):
                        latest[slot] = fall
    known = existing_keys(session, (item[0] for item in items))
    new = [item for item in items if item[0] not in known]
    milestones: dict[int, Milestone] = {}
    obligations: dict[int, Obligation] = {}
    for chunk in chunks(sorted({item[1].id for item in new})):
        for ms, ob in session.exec(
            select(Milestone, Obligation)
            .join(Obligation, Obligation.id == Milestone.obligation_id)
            .where(Milestone.id.in_(chunk))
        ):
            milestones[ms.id], obligations[ob.id] = ms, ob
    levels = open_levels(session, obligations)
    out: list[Due] = []
    for key, m, owner_id, occasion, fall, route in new:
        owner_roles = roles[m.obligation_id][owner_id]
        ctx = {
            "kind": "reminder",
            "obligation": obligations[m.obligation_id],
            "milestone": milestones[m.id],
            "roles": sorted(owner_roles, key=lambda r: list(Role).index(Role(r))),
            "level": levels.get(m.obligation_id),
        }
        digest = fall < horizon
        out.append(
            Due(
                key,
                f"milestone:{m.id}:{m.due.isoformat()}",
                occasion,
                route,
                fall,
                digest,
                recipients[owner_id],
                ctx,
                superseded=not digest and fall < latest[(m.id, owner_id, route.slot)],
            )
        )
    return out


def plan_report_reminders(
    session: Session,
    *,
    today: date,
    start: date,
    horizon: date,
    audience: Audience,
) -> list[Due]:
    """催报: reminders ``[reports] remind_before`` days before a report due day, to each lead
    owner with reports still outstanding for it (as today sees them), one message per owner,
    due day and channel, listing them all. Superseded and digested as ``plan_reminders``'s;
    on most days no due day is near and nothing is read."""
    from ..services.reports import report_days, settings_of

    settings = settings_of(session)
    due_days = {c.due_day for c in settings.calendars()}
    falls: dict[date, list[tuple[str, date]]] = defaultdict(list)
    for k in settings.remind_before:
        fall = start
        while fall <= today:
            day = fall + timedelta(days=k)
            if day.day in due_days:
                falls[day].append((occasion_name(k), fall))
            fall += timedelta(days=1)
    if not falls:
        return []
    owed = report_days(session=session, as_of=today, roles=[Role.lead.value], days=falls)
    if not owed:
        return []
    owners = sorted({owner_id for owner_id, _ in owed})
    recipients = owner_recipients(
        session,
        (
            o
            for chunk in chunks(owners)
            for o in session.exec(select(Owner).where(Owner.id.in_(chunk)))
        ),
        audience,
    )
    items: list[tuple[str, str, int, date, str, date, Route]] = []
    latest: dict[tuple[date, int, str], date] = {}
    for (owner_id, day), _ in sorted(owed.items()):
        rcpt, subject = recipients[owner_id], f"report-due:{day.isoformat()}"
        for occasion, fall in falls[day]:
            for route in rcpt.routes:
                key = ledger_key(subject, rcpt.ref, occasion, route.slot)
                items.append((key, subject, owner_id, day, occasion, fall, route))
                slot = (day, owner_id, route.slot)
                if fall >= horizon and fall > latest.get(slot, date.min):
                    latest[slot] = fall
    known = existing_keys(session, (item[0] for item in items))
    out: list[Due] = []
    for key, subject, owner_id, day, occasion, fall, route in items:
        if key in known:
            continue
        digest = fall < horizon
        ctx = {"kind": "report", "due": day, "owing": owed[(owner_id, day)]}
        out.append(
            Due(
                key,
                subject,
                occasion,
                route,
                fall,
                digest,
                recipients[owner_id],
                ctx,
                superseded=not digest and fall < latest[(day, owner_id, route.slot)],
            )
        )
    return out


def plan_escalations(
    session: Session,
    *,
    now: datetime,
    since: datetime,
    horizon: datetime,
    audience: Audience,
    coordinators: bool,
) -> list[Due]:
    """Escalations opened, raised or resolved in ``[since, now]``: to the addressed body and
    to every coordinator's inbox."""
    rows = session.exec(
        select(Escalation)
        .where(
            or_(
                Escalation.opened_at.between(since, now),
                Escalation.raised_at.between(since, now),
                Escalation.resolved_at.between(since, now),
            )
        )
        .order_by(Escalation.id)
    ).all()
    if not rows:
        return []
    coords = coordinator_recipients(session, audience) if coordinators else []
    owners = owner_recipients(
        session,
        session.exec(
            select(Owner).where(
                Owner.id.in_({e.addressed_to_id for e in rows if e.addressed_to_id})
            )
        ),
        audience,
    )
    obligations = {
        o.id: o
        for o in session.exec(
            select(Obligation).where(
                Obligation.id.in_({e.obligation_id for e in rows if e.obligation_id})
            )
        )
    }
    dues = next_dues(session, obligations)
    out: list[Due] = []
    for esc in rows:
        # The level it opened at is gone once raised: then "raised" tells the news.
        opened = esc.opened_at if esc.raised_at is None else None
        events = [("opened", opened), ("raised", esc.raised_at), ("resolved", esc.resolved_at)]
        for event, at in events:
            if at is None or not since <= at <= now:
                continue
            at = at.astimezone(UTC)
            occasion = f"{event}:{esc.level}"
            subject = f"escalation:{esc.id}"
            ctx = {
                "kind": "escalation",
                "escalation": esc,
                "event": event,
                "obligation": obligations.get(esc.obligation_id or 0),
                "addressed_to": owners.get(esc.addressed_to_id or 0),
                "due": dues.get(esc.obligation_id or 0),
            }
            targets = [owners[esc.addressed_to_id]] if esc.addressed_to_id in owners else []
            for rcpt in [*targets, *coords]:
                for route in rcpt.routes:
                    out.append(
                        Due(
                            ledger_key(subject, rcpt.ref, occasion, route.slot),
                            subject,
                            occasion,
                            route,
                            to_local_date(at),
                            at < horizon,
                            rcpt,
                            ctx,
                        )
                    )
    return out


def open_levels(session: Session, obligation_ids: Iterable[int]) -> dict[int, str]:
    """The highest escalation level open on each obligation (reminders name it)."""
    levels: dict[int, str] = {}
    for chunk in chunks(sorted(obligation_ids)):
        for ob_id, level in session.exec(
            select(Escalation.obligation_id, Escalation.level).where(
                Escalation.obligation_id.in_(chunk), Escalation.resolved_at.is_(None)
            )
        ):
            if LEVEL_ORDER.get(level, -1) > LEVEL_ORDER.get(
                levels.get(
                    ob_id,
                ),
                -1,
            ):
                levels[ob_id] = level
    return levels


def next_dues(session: Session, obligation_ids: Iterable[int]) -> dict[int, date]:
    """Each obligation's earliest milestone not done (escalation notices name it)."""
    found: dict[int, date] = {}
    for chunk in chunks(sorted(obligation_ids)):
        found.update(
            session.exec(
                select(Milestone.obligation_id, func.min(Milestone.due))
                .where(Milestone.obligation_id.in_(chunk), Milestone.done_on.is_(None))
                .group_by(Milestone.obligation_id)
            ).all()
        )
    return found
