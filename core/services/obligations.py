"""Obligations: creating them, their assignments and milestones, and how one is shown."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from .. import audit, queries, visibility
from ..controls import check_text
from ..errors import Conflict, NotFound, UserError
from ..i18n import t
from ..models import (
    Assignment,
    Escalation,
    Milestone,
    Obligation,
    Owner,
    Plan,
    Region,
    Role,
    Site,
    State,
    StateChange,
    Target,
)
from .base import now, require_coordinator, require_writer, snapshot
from .owners import resolve_owner
from .regions import resolve_region

CLOSED_STATES = (State.closed, State.cancelled)


def new_uid() -> str:
    return f"{uuid.uuid4()}@duban"


def get_obligation(*, session: Session, ref: str | int) -> Obligation:
    """An obligation by id, or by code when that code is unique (``refs.obligation_id``)."""
    from ..refs import obligation_id

    session.flush()  # the look-up runs on the connection: it sees what was flushed
    found = session.get(Obligation, obligation_id(queries.Lean.of_session(session), ref))
    assert found is not None
    return found


def check_obligation(
    *,
    title: str,
    title_en: str | None = None,
    body: str | None = None,
    body_en: str | None = None,
    code: str | None = None,
    domain: str = "general",
    state: str = State.open,
) -> str:
    """The checks on an obligation's own fields, ``duban add``'s and the importers';
    returns the title as stored."""
    title = (check_text(title, "title") or "").strip()
    if not title:
        raise UserError(t("the title must not be empty"))
    check_text(title_en, "title_en")
    check_text(body, "body")
    check_text(body_en, "body_en")
    check_text(code, "code", single_line=True)
    check_text(domain, "domain", single_line=True)
    if state not in State.__members__:
        raise UserError(t("unknown state {value!r}", value=state))
    return title


def add_obligation(
    *,
    session: Session,
    title: str,
    leads: Sequence[str | Owner],
    participants: Sequence[str | Owner] = (),
    implementers: Sequence[str | Owner] = (),
    dues: Sequence[date] = (),
    domain: str = "general",
    region: str | None = None,
    code: str | None = None,
    body: str | None = None,
    title_en: str | None = None,
    body_en: str | None = None,
    plan: Plan | None = None,
    parent: Obligation | None = None,
    seq: int = 0,
    state: str = State.open,
    attrs: dict | None = None,
    check_role: bool = True,
) -> Obligation:
    """Create an obligation with its owners (names, or rows already resolved) and
    milestones (one per due date)."""
    if check_role:
        require_coordinator(session)
    title = check_obligation(
        title=title,
        title_en=title_en,
        body=body,
        body_en=body_en,
        code=code,
        domain=domain,
        state=state,
    )
    if not leads:
        raise UserError(t("--lead: an obligation needs at least one lead owner"))

    def resolved(refs: Sequence[str | Owner], what: str) -> list[Owner]:
        return [
            o if isinstance(o, Owner) else resolve_owner(session=session, ref=o, what=what)
            for o in refs
        ]

    owners = {
        Role.lead: resolved(leads, "--lead"),
        Role.participant: resolved(participants, "--participant"),
        Role.implementer: resolved(implementers, "--implementer"),
    }
    region_row = resolve_region(session=session, ref=region) if region else None
    stamp = now(session)
    ob = Obligation(
        plan_id=plan.id if plan else (parent.plan_id if parent else None),
        code=code,
        seq=seq,
        title=title,
        title_en=title_en,
        body=body,
        body_en=body_en,
        domain=domain,
        region_id=region_row.id if region_row else None,
        parent_id=parent.id if parent else None,
        state=state,
        attrs=attrs,
        created_at=stamp,
        updated_at=stamp,
    )
    session.add(ob)
    session.flush()
    for role, rows in owners.items():
        for owner in {o.id: o for o in rows}.values():  # an owner named twice is assigned once
            session.add(Assignment(obligation_id=ob.id, owner_id=owner.id, role=role))
    for due in sorted(set(dues)):
        session.add(
            Milestone(obligation_id=ob.id, title=title, due=due, uid=new_uid(), updated_at=stamp)
        )
    session.flush()
    audit.record(
        session,
        "obligation.add",
        "obligation",
        ob.id,
        after={
            **snapshot(ob),
            "leads": [o.name for o in owners[Role.lead]],
            "participants": [o.name for o in owners[Role.participant]],
            "dues": [d.isoformat() for d in sorted(set(dues))],
        },
    )
    return ob


def add_milestone(
    *,
    session: Session,
    obligation: Obligation,
    due: date,
    title: str | None = None,
    title_en: str | None = None,
    done_on: date | None = None,
    recurrence: str | None = None,
    check_role: bool = True,
) -> Milestone:
    if check_role:
        require_writer(session, obligation.id)
    check_text(title, "title")
    check_text(title_en, "title_en")
    ms = Milestone(
        obligation_id=obligation.id,
        title=title or obligation.title,
        title_en=title_en,
        due=due,
        done_on=done_on,
        recurrence=recurrence,
        uid=new_uid(),
        updated_at=now(session),
    )
    session.add(ms)
    session.flush()
    audit.record(session, "milestone.add", "milestone", ms.id, after=snapshot(ms))
    return ms


def set_state(
    *,
    session: Session,
    obligation: Obligation,
    state: str,
    expected_version: int | None = None,
    action: str = "obligation.state",
    changes: dict[str, Any] | None = None,
) -> Obligation:
    """Move an obligation to ``state`` (optimistic locking on ``version``), recording the
    change in ``state_change`` for reads as of an earlier date; ``changes``: other columns
    set in the same step (one audit event). Every change of state goes through here."""
    if expected_version is not None and expected_version != obligation.version:
        raise Conflict(
            t(
                "obligation #{id} was changed by someone else; reload and try again",
                id=obligation.id,
            )
        )
    before = snapshot(obligation)
    stamp = now(session)
    if state != obligation.state:
        session.add(
            StateChange(
                obligation_id=obligation.id, at=stamp, from_state=obligation.state, to_state=state
            )
        )
        obligation.state_changed_at = stamp
    for key, value in (changes or {}).items():
        setattr(obligation, key, value)
    obligation.state = state
    obligation.version += 1
    obligation.updated_at = stamp
    session.add(obligation)
    session.flush()
    audit.record(
        session, action, "obligation", obligation.id, before=before, after=snapshot(obligation)
    )
    return obligation


# Reading ---------------------------------------------------------------------------------
def owners_by_role(
    *, session: Session, obligation_ids: Iterable[int]
) -> dict[int, dict[str, list[str]]]:
    """{obligation id: {role: [owner names]}} for many obligations in one query."""
    ids = list(obligation_ids)
    result: dict[int, dict[str, list[str]]] = {i: {r.value: [] for r in Role} for i in ids}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        rows = session.exec(
            select(Assignment.obligation_id, Assignment.role, Owner.name)
            .join(Owner, Owner.id == Assignment.owner_id)
            .where(Assignment.obligation_id.in_(chunk))
            .order_by(Assignment.obligation_id, Assignment.id)
        ).all()
        for ob_id, role, name in rows:
            result[ob_id].setdefault(role, []).append(name)
    return result


def is_overdue(milestones: Iterable[Milestone], state: str, as_of: date) -> bool:
    """Overdue: a milestone due before ``as_of`` not done by then, on a live obligation
    that is not split (a split parent's children carry its deadlines: ``overdue_clause``)."""
    if state in CLOSED_STATES:
        return False
    seen = visibility.seen_at(as_of)
    return any(m.due < as_of and visibility.done_then(m, as_of, seen) is None for m in milestones)


def overdue_clause(as_of: date) -> Any:
    """SQL for "overdue as of ``as_of``" over ``obligation`` (``queries.overdue_sql``)."""
    return text(queries.overdue_sql()).bindparams(as_of=as_of, seen_at=visibility.seen_at(as_of))


def next_due(milestones: Iterable[Milestone], as_of: date) -> date | None:
    """The earliest milestone not done as of ``as_of`` (may lie in the past: then it is overdue)."""
    seen = visibility.seen_at(as_of)
    pending = [m.due for m in milestones if visibility.done_then(m, as_of, seen) is None]
    return min(pending) if pending else None


def scope_of(session: Session, region_id: int | None, site_id: int | None) -> dict[str, Any] | None:
    if site_id is not None:
        site = session.get(Site, site_id)
        return {"type": "site", "key": site.key, "name": site.name} if site else None
    if region_id is not None:
        region = session.get(Region, region_id)
        return {"type": "region", "code": region.code, "name": region.name} if region else None
    return None


def summary(
    *,
    session: Session,
    ob: Obligation,
    as_of: date,
    owners: dict[str, list[str]] | None = None,
    milestones: list[Milestone] | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    """The ``duban list`` shape of one obligation (``state``: as of ``as_of``, if known)."""
    if state is None:
        state = visibility.states_then(session, [ob], visibility.seen_at(as_of))[ob.id]
    if owners is None:
        owners = owners_by_role(session=session, obligation_ids=[ob.id])[ob.id]
    if milestones is None:
        milestones = list(
            session.exec(select(Milestone).where(Milestone.obligation_id == ob.id)).all()
        )
    region = session.get(Region, ob.region_id) if ob.region_id else None
    nd = next_due(milestones, as_of)
    return {
        "id": ob.id,
        "code": ob.code,
        "title": ob.title,
        "title_en": ob.title_en,
        "domain": ob.domain,
        "state": state,
        "region": region.name if region else None,
        "region_code": region.code if region else None,
        "lead": owners.get(Role.lead, []),
        "participants": owners.get(Role.participant, []),
        "next_due": nd.isoformat() if nd else None,
        "overdue": _split_overdue(session, ob, as_of)
        if (ob.attrs or {}).get("split")
        else is_overdue(milestones, state, as_of),
    }


def _split_overdue(session: Session, ob: Obligation, as_of: date) -> bool:
    found = session.exec(select(Obligation.id).where(Obligation.id == ob.id, overdue_clause(as_of)))
    return found.first() is not None


def detail(*, session: Session, ob: Obligation, as_of: date) -> dict[str, Any]:
    """The ``duban show`` shape: the list keys plus body, assignments, milestones, targets,
    escalations, as recorded by the end of ``as_of``."""
    from .escalations import as_of_then
    from .reports import last_reports, lights_of

    seen = visibility.seen_at(as_of)
    if ob.created_at > seen:
        raise NotFound(
            t("obligation #{id} was not yet recorded on {day}", id=ob.id, day=as_of.isoformat())
        )
    milestones = list(
        session.exec(
            select(Milestone)
            .where(Milestone.obligation_id == ob.id)
            .order_by(Milestone.due, Milestone.id)
        ).all()
    )
    owners = owners_by_role(session=session, obligation_ids=[ob.id])[ob.id]
    data = summary(session=session, ob=ob, as_of=as_of, owners=owners, milestones=milestones)
    plan = session.get(Plan, ob.plan_id) if ob.plan_id else None
    parent = session.get(Obligation, ob.parent_id) if ob.parent_id else None
    targets = session.exec(
        select(Target).where(Target.obligation_id == ob.id).order_by(Target.id)
    ).all()
    escalations = as_of_then(
        session=session,
        rows=session.exec(
            select(Escalation)
            .where(Escalation.obligation_id == ob.id, Escalation.opened_at <= seen)
            .order_by(Escalation.id)
        ).all(),
        cutoff=seen,
    )
    data.update(
        {
            "light": lights_of(session=session, ids=[ob.id], as_of=as_of).get(ob.id),
            "last_report": last_reports(session=session, ids=[ob.id]).get(ob.id),
            "body": ob.body,
            "body_en": ob.body_en,
            "plan": plan.key if plan else None,
            "parent": parent.id if parent else None,
            "version": ob.version,
            "assignments": [
                {"owner": name, "role": role} for role in Role for name in owners.get(role, [])
            ],
            "milestones": [
                {
                    "id": m.id,
                    "title": m.title,
                    "title_en": m.title_en,
                    "due": m.due.isoformat(),
                    "done": done.isoformat()
                    if (done := visibility.done_recorded(m, seen))
                    else None,
                    **({"recurrence": m.recurrence} if m.recurrence else {}),
                }
                for m in milestones
            ],
            # An undated task's horizon: the plan's end, which the plan does not state for it
            # (no milestone, so no deadline: nothing is overdue or escalated by it).
            "horizon": {"due": plan.valid_until.isoformat(), "implied": True}
            if plan and plan.valid_until and not milestones
            else None,
            "targets": [
                {
                    "id": tg.id,
                    "indicator": tg.indicator,
                    "name": tg.name,
                    "name_en": tg.name_en,
                    "comparator": tg.comparator,
                    "value": tg.value,
                    "unit": tg.unit,
                    "due": tg.due.isoformat(),
                    "text": tg.text,  # the plan's words, limits (基本, 力争) included
                    "source": tg.source,
                    # met either way: 70%以上或比2020年提高5个百分点以上
                    **(
                        {"alternative": tg.attrs["alternative"]}
                        if (tg.attrs or {}).get("alternative")
                        else {}
                    ),
                    "scope": scope_of(session, tg.region_id, tg.site_id),
                    "baseline": None
                    if tg.baseline_value is None
                    else {
                        "value": tg.baseline_value,
                        "date": tg.baseline_date.isoformat() if tg.baseline_date else None,
                    },
                }
                for tg in targets
            ],
            "escalations": [
                {
                    "id": e.id,
                    "level": e.level,
                    "rule": e.rule,
                    "reason": e.reason,
                    "addressed_to": _owner_name(session, e.addressed_to_id),
                    "opened": e.opened_at.isoformat(),
                    "resolved": e.resolved_at.isoformat() if e.resolved_at else None,
                }
                for e in escalations
            ],
        }
    )
    return data


def _owner_name(session: Session, owner_id: int | None) -> str | None:
    owner = session.get(Owner, owner_id) if owner_id else None
    return owner.name if owner else None
