"""Escalations: the ladder's levels, whom a step is addressed to, listing, acknowledging,
escalating by hand, and the written rectification report a summons calls for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from .. import audit
from ..clock import to_local_date
from ..config import section
from ..errors import Conflict, NotFound, PermissionDenied, UserError
from ..i18n import pick, t
from ..models import (
    LEVEL_ORDER,
    Assignment,
    Escalation,
    Level,
    Milestone,
    Obligation,
    Owner,
    Plan,
    Region,
    Role,
    Target,
    UserRole,
)
from .base import current_user, now, require_coordinator, snapshot, today
from .obligations import CLOSED_STATES, add_obligation, get_obligation
from .owners import resolve_owner

# Chinese and English names of each rung; the keys are what JSON output and duban.toml use.
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    Level.remind: ("提醒", "Reminder"),
    Level.supervise: ("督办", "Supervision notice"),
    Level.list: ("挂牌督办", "Public listing"),
    Level.summon: ("约谈", "Summons"),
    Level.freeze: ("区域限批", "Regional approval freeze"),
    Level.refer: ("移交问责", "Referral for accountability"),
}
FOLLOW_UP_DEFAULTS: dict[str, Any] = {"follow_up_days": 30, "follow_up_levels": [Level.summon.value]}
FOLLOW_UP_TITLE = ("书面整改报告", "Written rectification report")
MANUAL_RULE = "manual"


def level_label(level: str) -> str:
    zh, en = LEVEL_LABELS.get(level, (level, level))
    return pick(zh, en)


def parse_level(value: str, *, what: str = "--level") -> str:
    """A ladder key (``summon``) or its Chinese name (约谈); UserError otherwise."""
    value = value.strip()
    if value in LEVEL_ORDER:
        return value
    for key, (zh, en) in LEVEL_LABELS.items():
        if value in (zh, en):
            return key
    raise UserError(t("{what}: unknown level {value!r}; one of {choices}", what=what, value=value,
                      choices=", ".join(LEVEL_ORDER)))


def escalation_settings() -> dict[str, Any]:
    """``[escalation]`` of duban.toml, checked (follow-up days and the levels that call for one)."""
    cfg = section("escalation", FOLLOW_UP_DEFAULTS)
    days = cfg["follow_up_days"]
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise UserError(t("duban.toml [escalation] follow_up_days: must be a whole number of days "
                          "(1 or more), not {value!r}", value=days))
    levels = cfg["follow_up_levels"]
    if not isinstance(levels, list):
        raise UserError(t("duban.toml [escalation] follow_up_levels: must be a list of levels"))
    return {"follow_up_days": days,
            "follow_up_levels": {parse_level(str(v), what="duban.toml [escalation] follow_up_levels")
                                 for v in levels}}


# Addressing -------------------------------------------------------------------------------
def lead_owners(*, session: Session, obligation_ids: Iterable[int] | None = None) -> dict[int, int]:
    """{obligation id: its first lead owner's id}; every obligation when ``obligation_ids`` is None."""
    query = select(Assignment.obligation_id, Assignment.owner_id).where(Assignment.role == Role.lead)
    result: dict[int, int] = {}
    if obligation_ids is None:
        chunks: Iterable[Sequence[int] | None] = [None]
    else:
        ids = list(obligation_ids)
        chunks = [ids[i:i + 900] for i in range(0, len(ids), 900)]
    for chunk in chunks:
        q = query if chunk is None else query.where(Assignment.obligation_id.in_(chunk))
        for ob_id, owner_id in session.exec(q.order_by(Assignment.id.desc())).all():
            result[ob_id] = owner_id  # descending ids: the first assignment is written last
    return result


@dataclass
class Addressing:
    """Whom each rung goes to: the lead owner, a sub-region's people's government for a
    regional subject, and the head body (``Owner.parent_id``) for a summons."""

    owner_parent: dict[int, int | None]
    governments: dict[int, int]  # region id -> its government's owner id
    region_parent: dict[int, int | None]

    @classmethod
    def load(cls, session: Session) -> Addressing:
        owners = session.exec(select(Owner.id, Owner.parent_id, Owner.kind, Owner.region_id)).all()
        governments = {region_id: oid for oid, _, kind, region_id in owners
                       if kind == "government" and region_id is not None}
        regions = session.exec(select(Region.id, Region.parent_id)).all()
        return cls(owner_parent={oid: parent for oid, parent, _, _ in owners},
                   governments=governments, region_parent=dict(regions))

    def address(self, level: str, lead: int | None, region_id: int | None = None) -> int | None:
        owner = lead
        # A plan-wide target (the root region) stays with the lead department that owns it.
        if region_id is not None and self.region_parent.get(region_id) is not None:
            owner = self.governments.get(region_id, lead)
        if level == Level.summon and owner is not None:
            owner = self.owner_parent.get(owner) or owner
        return owner


# Reading ----------------------------------------------------------------------------------
def _obligation_label(ob: Obligation | None) -> str:
    if ob is None:
        return ""
    title = pick(ob.title, ob.title_en)
    return f"#{ob.id} {ob.code} {title}" if ob.code else f"#{ob.id} {title}"


def describe(*, session: Session, rows: Sequence[Escalation]) -> list[dict[str, Any]]:
    """The ``duban escalations`` shape of many escalations, looked up in bulk."""
    def load(model: Any, ids: set[int]) -> dict[int, Any]:
        found: dict[int, Any] = {}
        ids_list = sorted(i for i in ids if i is not None)
        for start in range(0, len(ids_list), 900):
            chunk = ids_list[start:start + 900]
            found.update({r.id: r for r in session.exec(select(model).where(model.id.in_(chunk))).all()})
        return found

    obligations = load(Obligation, {e.obligation_id for e in rows}
                       | {e.follow_up_id for e in rows if e.follow_up_id})
    milestones = load(Milestone, {e.subject_id for e in rows if e.subject_type == "milestone"})
    targets = load(Target, {e.subject_id for e in rows if e.subject_type == "target"})
    regions = load(Region, {e.region_id for e in rows if e.region_id}
                   | {e.subject_id for e in rows if e.subject_type == "region"})
    owners = load(Owner, {e.addressed_to_id for e in rows if e.addressed_to_id})
    out = []
    for e in rows:
        ob = obligations.get(e.obligation_id)
        label = _obligation_label(ob)
        if e.subject_type == "milestone" and e.subject_id in milestones:
            ms = milestones[e.subject_id]
            label = t("{obligation} · milestone due {due}", obligation=label, due=ms.due.isoformat())
        elif e.subject_type == "target" and e.subject_id in targets:
            tg = targets[e.subject_id]
            label = f"{label} · {pick(tg.name, tg.name_en) or tg.indicator}"
        elif e.subject_type == "region" and e.subject_id in regions:
            region = regions[e.subject_id]
            label = f"{pick(region.name, region.name_en)} · {label}"
        owner = owners.get(e.addressed_to_id)
        follow = obligations.get(e.follow_up_id) if e.follow_up_id else None
        out.append({
            "id": e.id,
            "level": e.level,
            "level_label": level_label(e.level),
            "subject": label.strip(),
            "subject_type": e.subject_type,
            "subject_id": e.subject_id,
            "obligation_id": e.obligation_id,
            "addressed_to": owner.name if owner else None,
            "reason": pick(e.reason, e.reason_en),
            "rule": e.rule,
            "condition": e.condition,
            "opened": e.opened_at.isoformat(),
            "opened_on": to_local_date(e.opened_at).isoformat(),
            "raised": e.raised_at.isoformat() if e.raised_at else None,
            "acknowledged": e.acknowledged_at.isoformat() if e.acknowledged_at else None,
            "acknowledged_by": e.acknowledged_by,
            "ack_note": e.ack_note,
            "resolved": e.resolved_at.isoformat() if e.resolved_at else None,
            "resolved_on": to_local_date(e.resolved_at).isoformat() if e.resolved_at else None,
            "resolve_reason": e.resolve_reason,
            "follow_up_id": e.follow_up_id,
            "follow_up_due": _first_due(session, follow) if follow else None,
            "manual": e.manual,
        })
    return out


def _first_due(session: Session, ob: Obligation) -> str | None:
    due = session.exec(select(Milestone.due).where(Milestone.obligation_id == ob.id)
                       .order_by(Milestone.due)).first()
    return due.isoformat() if due else None


def list_escalations(*, session: Session, level: str | None = None, owner: str | None = None,
                     open_only: bool = False, obligation_id: int | None = None) -> list[Escalation]:
    query = select(Escalation)
    if level:
        query = query.where(Escalation.level == parse_level(level))
    if owner:
        query = query.where(Escalation.addressed_to_id == resolve_owner(session=session, ref=owner).id)
    if open_only:
        query = query.where(Escalation.resolved_at.is_(None))
    if obligation_id is not None:
        query = query.where(Escalation.obligation_id == obligation_id)
    return list(session.exec(query.order_by(Escalation.id)).all())


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
    note = (note or "").strip()
    if not note:
        raise UserError(t("--note: say what is being done about escalation #{id}", id=esc.id))
    user = current_user(session)
    allowed = user is not None and (
        user.role == UserRole.coordinator
        or (user.role == UserRole.member and user.owner_id is not None
            and user.owner_id == esc.addressed_to_id))
    if not allowed:
        raise PermissionDenied(t("only a member of the body escalation #{id} is addressed to, or a "
                                 "coordinator, may acknowledge it", id=esc.id))
    if esc.resolved_at is not None:
        raise Conflict(t("escalation #{id} was resolved on {day}; nothing to acknowledge",
                         id=esc.id, day=to_local_date(esc.resolved_at).isoformat()))
    if esc.acknowledged_at is not None:
        raise Conflict(t("escalation #{id} was already acknowledged by {user} on {day}", id=esc.id,
                         user=esc.acknowledged_by, day=to_local_date(esc.acknowledged_at).isoformat()))
    before = snapshot(esc)
    esc.acknowledged_at = now(session)
    esc.acknowledged_by = user.name
    esc.ack_note = note
    session.add(esc)
    session.flush()
    audit.record(session, "escalation.ack", "escalation", esc.id, before=before, after=snapshot(esc))
    return esc


def escalate(*, session: Session, ref: str | int, level: str, reason: str) -> Escalation:
    """A coordinator escalates an obligation by hand; a second call may only climb the ladder.

    A hand-made escalation stays open until its obligation is closed or cancelled.
    """
    require_coordinator(session)
    level = parse_level(level)
    reason = (reason or "").strip()
    if not reason:
        raise UserError(t("--reason: say why obligation {ref} is escalated", ref=ref))
    ob = get_obligation(session=session, ref=ref)
    if ob.state in CLOSED_STATES:
        raise Conflict(t("obligation #{id} is {state}; it cannot be escalated", id=ob.id, state=t(ob.state)))
    settings = escalation_settings()
    lead = lead_owners(session=session, obligation_ids=[ob.id]).get(ob.id)
    addressed = Addressing.load(session).address(level, lead, ob.region_id)
    stamp = now(session)
    existing = session.exec(select(Escalation).where(
        Escalation.condition == f"obligation:{ob.id}:manual", Escalation.resolved_at.is_(None))).first()
    if existing is not None:
        if LEVEL_ORDER[level] <= LEVEL_ORDER[existing.level]:
            raise Conflict(t("obligation #{id} is already escalated by hand to {level} (#{esc}); the "
                             "ladder only climbs", id=ob.id, level=level_label(existing.level),
                             esc=existing.id))
        before = snapshot(existing)
        existing.level, existing.reason, existing.reason_en = level, reason, reason
        existing.addressed_to_id, existing.raised_at = addressed, stamp
        existing.acknowledged_at = existing.acknowledged_by = existing.ack_note = None
        session.add(existing)
        session.flush()
        audit.record(session, "escalation.raise", "escalation", existing.id, before=before,
                     after=snapshot(existing))
        esc = existing
    else:
        esc = Escalation(subject_type="obligation", subject_id=ob.id, obligation_id=ob.id,
                         condition=f"obligation:{ob.id}:manual", rule=MANUAL_RULE, level=level,
                         reason=reason, reason_en=reason, addressed_to_id=addressed,
                         region_id=ob.region_id, opened_at=stamp, manual=True)
        session.add(esc)
        session.flush()
        audit.record(session, "escalation.open", "escalation", esc.id, after=snapshot(esc))
    if level in settings["follow_up_levels"] and esc.follow_up_id is None:
        create_follow_up(session=session, escalation=esc, as_of=today(session),
                         days=settings["follow_up_days"])
    return esc


def create_follow_up(*, session: Session, escalation: Escalation, as_of: date, days: int) -> Obligation:
    """The written rectification report (书面整改报告) a summons calls for, led by the
    summoned body and due ``days`` after ``as_of``; linked from the escalation."""
    if escalation.follow_up_id is not None:
        return session.get(Obligation, escalation.follow_up_id)
    source = session.get(Obligation, escalation.obligation_id) if escalation.obligation_id else None
    lead_id = escalation.addressed_to_id
    if lead_id is None and source is not None:
        lead_id = lead_owners(session=session, obligation_ids=[source.id]).get(source.id)
    if lead_id is None:
        raise UserError(t("escalation #{id} is addressed to no one; a follow-up needs a lead owner",
                          id=escalation.id))
    lead = session.get(Owner, lead_id)
    region_id = escalation.region_id or (source.region_id if source else None)
    region = session.get(Region, region_id) if region_id else None
    zh, en = FOLLOW_UP_TITLE
    ob = add_obligation(
        session=session,
        title=f"{zh}：{source.title}" if source else zh,
        title_en=f"{en}: {source.title_en or source.title}" if source else en,
        body=escalation.reason, body_en=escalation.reason_en, leads=[lead.name],
        dues=[as_of + timedelta(days=days)], domain=source.domain if source else "general",
        region=region.code if region else None,
        plan=session.get(Plan, source.plan_id) if source and source.plan_id else None,
        attrs={"follow_up_of": escalation.id}, check_role=False,
    )
    before = snapshot(escalation)
    escalation.follow_up_id = ob.id
    session.add(escalation)
    session.flush()
    audit.record(session, "escalation.follow_up", "escalation", escalation.id, before=before,
                 after=snapshot(escalation))
    return ob
