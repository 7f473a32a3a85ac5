"""Escalations: the ladder's levels, whom a step is addressed to, listing, acknowledging,
escalating by hand, and the written rectification report a summons calls for."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from .. import audit, escalation_rows
from ..audit import record_many
from ..batch_writes import insert_many, update_many
from ..clock import to_local_date
from ..controls import check_text
from ..errors import Conflict, NotFound, PermissionDenied, UserError
from ..escalation_rows import parse_level
from ..i18n import t, t_zh
from ..labels import level_label
from ..models import (
    LEVEL_ORDER,
    Assignment,
    Escalation,
    EscalationChange,
    Level,
    Milestone,
    Obligation,
    Owner,
    Region,
    Role,
    State,
    UserRole,
)
from ..queries import Lean
from ..settings import get_settings
from .base import current_user, now, require_coordinator, snapshot, today
from .obligations import CLOSED_STATES, get_obligation, new_uid

FOLLOW_UP_TITLE = ("书面整改报告", "Written rectification report")
MANUAL_RULE = "manual"


# Addressing -------------------------------------------------------------------------------
_LEADS = select(Assignment.obligation_id, Assignment.owner_id).where(Assignment.role == Role.lead)


def lead_owners(*, session: Session, obligation_ids: Iterable[int] | None = None) -> dict[int, int]:
    """{obligation id: its first lead owner's id}; every obligation when ``obligation_ids`` is None."""
    query = _LEADS
    result: dict[int, int] = {}
    if obligation_ids is None:
        chunks: Iterable[Sequence[int] | None] = [None]
    else:
        ids = list(obligation_ids)
        chunks = [ids[i : i + 900] for i in range(0, len(ids), 900)]
    for chunk in chunks:
        q = query if chunk is None else query.where(Assignment.obligation_id.in_(chunk))
        for ob_id, owner_id in session.connection().execute(q.order_by(Assignment.id.desc())).all():
            result[ob_id] = owner_id  # descending ids: the first assignment is written last
    return result


def first_leads(*, session: Session) -> array[int]:
    """``lead_owners`` of every obligation as an array indexed by obligation id (0: none):
    eight bytes an obligation, where a dict of a million takes a hundred megabytes."""
    top = session.exec(select(func.max(Obligation.id))).one() or 0
    leads = array("q", bytes(8 * (top + 1)))
    rows = Lean.of_session(session).stream(
        "SELECT obligation_id, owner_id FROM assignment WHERE role = :role ORDER BY id DESC",
        role=Role.lead.value,
    )
    for ob_id, owner_id in rows:
        leads[ob_id] = owner_id  # descending ids: the first assignment is written last
    return leads


@dataclass
class Addressing:
    """Whom each rung goes to: the lead owner, or a sub-region's people's government for a
    regional subject; a summons is convened by the head body (``Owner.parent_id``)."""

    owner_parent: dict[int, int | None]
    governments: dict[int, int]  # region id -> its government's owner id
    region_parent: dict[int, int | None]

    @classmethod
    def load(cls, session: Session) -> Addressing:
        owners = session.exec(select(Owner.id, Owner.parent_id, Owner.kind, Owner.region_id)).all()
        governments = {
            region_id: oid
            for oid, _, kind, region_id in owners
            if kind == "government" and region_id is not None
        }
        regions = session.exec(select(Region.id, Region.parent_id)).all()
        return cls(
            owner_parent={oid: parent for oid, parent, _, _ in owners},
            governments=governments,
            region_parent=dict(regions),
        )

    def address(self, level: str, lead: int | None, region_id: int | None = None) -> int | None:
        """The body that must answer: the lead owner, or a sub-region's government for a
        regional subject; whatever the rung (who convenes is ``convener``)."""
        owner = lead
        # A plan-wide target (the root region) stays with the lead department that owns it.
        if region_id is not None and self.region_parent.get(region_id) is not None:
            owner = self.governments.get(region_id, lead)
        return owner

    def convener(self, level: str, addressed_to: int | None) -> int | None:
        """Who convenes a summons (约谈): the body above the one summoned; None otherwise."""
        if level != Level.summon or addressed_to is None:
            return None
        return self.owner_parent.get(addressed_to)


# Reading ----------------------------------------------------------------------------------
def describe(*, session: Session, rows: Sequence[Escalation]) -> list[dict[str, Any]]:
    """The ``duban escalations`` shape of many escalations (``escalation_rows.describe``)."""
    session.flush()  # the look-ups run on the connection: they see what was flushed
    return escalation_rows.describe(Lean.of_session(session), rows)


def as_of_then(
    *, session: Session, rows: Sequence[Escalation], cutoff: datetime
) -> list[Escalation]:
    """Copies of ``rows`` as they stood at ``cutoff`` (``escalation_rows.as_of_then``)."""
    session.flush()
    return escalation_rows.as_of_then(
        Lean.of_session(session), rows, cutoff, lambda e: Escalation(**e.model_dump())
    )


def get_escalation(*, session: Session, ref: str | int) -> Escalation:
    text = str(ref).strip().lstrip("#")
    found = session.get(Escalation, int(text)) if text.isdigit() else None
    if found is None:
        raise NotFound(t("unknown escalation {ref!r}", ref=str(ref)))
    return found


# Changing ---------------------------------------------------------------------------------
def acknowledge(*, session: Session, ref: str | int, note: str) -> Escalation:
    """The addressed body (one of its members) or a coordinator acknowledges receipt."""
    esc = get_escalation(session=session, ref=ref)
    note = (check_text(note, "--note") or "").strip()
    if not note:
        raise UserError(t("--note: say what is being done about escalation #{id}", id=esc.id))
    user = current_user(session)
    allowed = user is not None and (
        user.role == UserRole.coordinator
        or (
            user.role == UserRole.member
            and user.owner_id is not None
            and user.owner_id == esc.addressed_to_id
        )
    )
    if not allowed:
        raise PermissionDenied(
            t(
                "only a member of the body escalation #{id} is addressed to, or a "
                "coordinator, may acknowledge it",
                id=esc.id,
            )
        )
    if esc.resolved_at is not None:
        raise Conflict(
            t(
                "escalation #{id} was resolved on {day}; nothing to acknowledge",
                id=esc.id,
                day=to_local_date(esc.resolved_at).isoformat(),
            )
        )
    if esc.acknowledged_at is not None:
        raise Conflict(
            t(
                "escalation #{id} was already acknowledged by {user} on {day}",
                id=esc.id,
                user=esc.acknowledged_by,
                day=to_local_date(esc.acknowledged_at).isoformat(),
            )
        )
    before = snapshot(esc)
    esc.acknowledged_at = now(session)
    esc.acknowledged_by = user.name
    esc.ack_note = note
    session.add(esc)
    session.flush()
    audit.record(
        session, "escalation.ack", "escalation", esc.id, before=before, after=snapshot(esc)
    )
    return esc


def escalate(*, session: Session, ref: str | int, level: str, reason: str) -> Escalation:
    """A coordinator escalates an obligation by hand; a second call may only climb the ladder.

    A hand-made escalation stays open until its obligation is closed or cancelled.
    """
    require_coordinator(session)
    level = parse_level(level)
    reason = (check_text(reason, "--reason") or "").strip()
    if not reason:
        raise UserError(t("--reason: say why obligation {ref} is escalated", ref=ref))
    ob = get_obligation(session=session, ref=ref)
    if ob.state in CLOSED_STATES:
        raise Conflict(
            t("obligation #{id} is {state}; it cannot be escalated", id=ob.id, state=t(ob.state))
        )
    settings = get_settings().escalation
    lead = lead_owners(session=session, obligation_ids=[ob.id]).get(ob.id)
    addressing = Addressing.load(session)
    addressed = addressing.address(level, lead, ob.region_id)
    convener = addressing.convener(level, addressed)
    stamp = now(session)
    existing = session.exec(
        select(Escalation).where(
            Escalation.condition == f"obligation:{ob.id}:manual", Escalation.resolved_at.is_(None)
        )
    ).first()
    if existing is not None:
        if LEVEL_ORDER[level] <= LEVEL_ORDER[existing.level]:
            raise Conflict(
                t(
                    "obligation #{id} is already escalated by hand to {level} (#{esc}); the "
                    "ladder only climbs",
                    id=ob.id,
                    level=level_label(existing.level),
                    esc=existing.id,
                )
            )
        before = snapshot(existing)
        session.add(
            EscalationChange(
                escalation_id=existing.id,
                at=stamp,
                from_level=existing.level,
                to_level=level,
                from_addressed_to_id=existing.addressed_to_id,
            )
        )
        existing.level, existing.reason, existing.reason_en = level, reason, reason
        existing.addressed_to_id, existing.raised_at = addressed, stamp
        existing.convened_by_id = convener
        existing.acknowledged_at = existing.acknowledged_by = existing.ack_note = None
        session.add(existing)
        session.flush()
        audit.record(
            session,
            "escalation.raise",
            "escalation",
            existing.id,
            before=before,
            after=snapshot(existing),
        )
        esc = existing
    else:
        esc = Escalation(
            subject_type="obligation",
            subject_id=ob.id,
            obligation_id=ob.id,
            condition=f"obligation:{ob.id}:manual",
            rule=MANUAL_RULE,
            level=level,
            reason=reason,
            reason_en=reason,
            addressed_to_id=addressed,
            convened_by_id=convener,
            region_id=ob.region_id,
            opened_at=stamp,
            manual=True,
        )
        session.add(esc)
        session.flush()
        audit.record(session, "escalation.open", "escalation", esc.id, after=snapshot(esc))
    if level in settings.levels and esc.follow_up_id is None:
        create_follow_ups(
            session=session,
            days=settings.days,
            as_of=today(session),
            items=[
                FollowUp(
                    esc.id, ob.id, esc.addressed_to_id, esc.region_id, esc.reason, esc.reason_en
                )
            ],
        )
        session.refresh(esc)
    return esc


@dataclass(frozen=True)
class FollowUp:
    """A summons that calls for a written rectification report."""

    escalation_id: int
    obligation_id: int | None
    addressed_to_id: int | None
    region_id: int | None
    reason: str
    reason_en: str | None


def resolve_for_closed(*, session: Session, obligation: Obligation) -> list[int]:
    """Resolve the open escalations of an obligation just closed, in the caller's transaction
    (as the next sweep would, so a close-out leaves none open behind it)."""
    rows = session.exec(
        select(Escalation).where(
            Escalation.obligation_id == obligation.id, Escalation.resolved_at.is_(None)
        )
    ).all()
    stamp = now(session)
    reason = t_zh(
        "obligation #{id} was {state} by {day}",
        id=obligation.id,
        day=to_local_date(stamp).isoformat(),
        state=t_zh(obligation.state),
    )
    for esc in rows:
        before = snapshot(esc)
        esc.resolved_at, esc.resolve_reason = stamp, reason
        session.add(esc)
        session.flush()
        audit.record(
            session, "escalation.resolve", "escalation", esc.id, before=before, after=snapshot(esc)
        )
    return [esc.id for esc in rows]


def create_follow_ups(
    *,
    session: Session,
    items: Sequence[FollowUp],
    as_of: date,
    days: int,
    events: list[tuple[str, str, Any, Any, Any]] | None = None,
) -> dict[int, int]:
    """The written rectification reports (书面整改报告) summonses call for: one obligation per
    escalation, led by the summoned body, due ``days`` after ``as_of``, linked from the
    escalation. Written in bulk (a sweep may summon thousands); returns {escalation: obligation}.

    Audited here, unless ``events`` is given: then the obligations' events are appended to it
    and the caller records the escalations' new ``follow_up_id`` in its own events."""
    if not items:
        return {}
    sources = {
        row.id: row
        for row in _chunked(
            session,
            select(
                Obligation.id,
                Obligation.title,
                Obligation.title_en,
                Obligation.plan_id,
                Obligation.seq,
                Obligation.code,
                Obligation.domain,
                Obligation.region_id,
            ),
            Obligation.id,
            {i.obligation_id for i in items if i.obligation_id},
        )
    }
    missing = [i.obligation_id for i in items if i.addressed_to_id is None and i.obligation_id]
    leads = lead_owners(session=session, obligation_ids=missing) if missing else {}
    levels = dict(
        _chunked(
            session,
            select(Escalation.id, Escalation.level),
            Escalation.id,
            {i.escalation_id for i in items},
        )
    )
    # At most one open follow-up per obligation and level: a later summons of the same task
    # is linked to the report already asked for.
    reuse = _open_follow_ups(session, {i.obligation_id for i in items if i.obligation_id})
    zh, en = FOLLOW_UP_TITLE
    stamp, due = now(session), as_of + timedelta(days=days)
    planned: list[tuple[FollowUp, int, dict[str, Any]]] = []
    links: dict[int, int] = {}  # escalation -> a follow-up's id, or -n for the n-th planned
    for item in items:
        key = (item.obligation_id, levels.get(item.escalation_id))
        if item.obligation_id and key in reuse:
            links[item.escalation_id] = reuse[key]
            continue
        src = sources.get(item.obligation_id)
        lead = item.addressed_to_id or leads.get(item.obligation_id)
        if lead is None:
            raise UserError(
                t(
                    "escalation #{id} is addressed to no one; a follow-up needs a lead owner",
                    id=item.escalation_id,
                )
            )
        planned.append(
            (
                item,
                lead,
                {
                    # Its source's place in the plan: listed in code order right after it.
                    "plan_id": src.plan_id if src else None,
                    "seq": src.seq if src else 0,
                    "title": _follow_up_title(zh, src, item.escalation_id, key[1], "zh"),
                    "title_en": _follow_up_title(en, src, item.escalation_id, key[1], "en"),
                    "body": item.reason,
                    "body_en": item.reason_en,
                    "domain": src.domain if src else "general",
                    "region_id": item.region_id or (src.region_id if src else None),
                    "state": State.open.value,
                    "reopened": 0,
                    "version": 1,
                    "attrs": {"follow_up_of": item.escalation_id},
                    # One written report, due once: no monthly progress reports on it.
                    "report_frequency": "none",
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            )
        )
        links[item.escalation_id] = -len(planned)
        if item.obligation_id:
            reuse[key] = -len(planned)
    ids = (
        insert_many(session, Obligation, [row for _, _, row in planned], returning=True)
        if planned
        else []
    )
    made = {esc: ids[-ref - 1] if ref < 0 else ref for esc, ref in links.items()}
    insert_many(
        session,
        Assignment,
        [
            {"obligation_id": ob_id, "owner_id": lead, "role": Role.lead.value}
            for ob_id, (_, lead, _) in zip(ids, planned, strict=True)
        ],
    )
    insert_many(
        session,
        Milestone,
        [
            {
                "obligation_id": ob_id,
                "title": row["title"],
                "title_en": row["title_en"],
                "due": due,
                "done_on": None,
                "uid": new_uid(),
                "sequence": 0,
                "updated_at": stamp,
            }
            for ob_id, (_, _, row) in zip(ids, planned, strict=True)
        ],
    )
    update_many(
        session,
        Escalation,
        [{"id": esc, "follow_up_id": ob_id} for esc, ob_id in made.items()],
    )
    names = dict(
        _chunked(session, select(Owner.id, Owner.name), Owner.id, {lead for _, lead, _ in planned})
    )
    made_events = [
        (
            "obligation.add",
            "obligation",
            ob_id,
            None,
            {
                "id": ob_id,
                **row,
                "leads": [names.get(lead)],
                "participants": [],
                "dues": [due.isoformat()],
            },
        )
        for ob_id, (_, lead, row) in zip(ids, planned, strict=True)
    ]
    if events is None:
        made_events += [
            (
                "escalation.follow_up",
                "escalation",
                esc,
                {"follow_up_id": None},
                {"follow_up_id": ob_id},
            )
            for esc, ob_id in made.items()
        ]
        record_many(session, made_events)
    else:
        events.extend(made_events)
    return made


def _open_follow_ups(session: Session, obligation_ids: set[int]) -> dict[tuple[int, str], int]:
    """{(obligation, level): its open follow-up report} for these obligations."""
    follow_up = aliased(Obligation)
    rows = _chunked(
        session,
        select(Escalation.obligation_id, Escalation.level, Escalation.follow_up_id)
        .join(follow_up, follow_up.id == Escalation.follow_up_id)
        .where(follow_up.state.notin_(list(CLOSED_STATES))),
        Escalation.obligation_id,
        obligation_ids,
    )
    return {(ob, level): fu for ob, level, fu in rows}


def _follow_up_title(label: str, src: Any, escalation_id: int, level: str | None, lang: str) -> str:
    """A follow-up's title names its task (code and title), the rung and the escalation, so
    that no two read alike."""
    rung = level_label(level, lang)
    if src is None:
        return (
            f"{label}（{rung} #{escalation_id}）"
            if lang == "zh"
            else f"{label} ({rung} #{escalation_id})"
        )
    title = src.title if lang == "zh" else src.title_en or src.title
    code = f"{src.code} " if src.code else ""
    if lang == "zh":
        return f"{label}：{code}{title}（{rung} #{escalation_id}）"
    return f"{label}: {code}{title} ({rung} #{escalation_id})"


def _chunked(session: Session, query: Any, column: Any, ids: Iterable[int]) -> list[Any]:
    wanted, rows = sorted(ids), []
    for start in range(0, len(wanted), 900):
        rows.extend(session.exec(query.where(column.in_(wanted[start : start + 900]))).all())
    return rows
