"""Obligations: creating them, their assignments and milestones, and how one is shown."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from .. import audit, listing, names, queries, visibility
from ..batch_writes import new_uids
from ..controls import check_text
from ..errors import Conflict, UserError
from ..i18n import t
from ..models import (
    Assignment,
    Milestone,
    Obligation,
    Owner,
    Plan,
    Role,
    State,
    StateChange,
)
from .base import now, require_coordinator, require_writer, snapshot
from .owners import resolve_owner
from .regions import resolve_region

CLOSED_STATES = (State.closed, State.cancelled)


def new_uid() -> str:
    """A calendar UID for a new milestone (``batch_writes.new_uids``)."""
    return new_uids(1)[0]


def get_obligation(*, session: Session, ref: str | int) -> Obligation:
    """An obligation by id, or by code when that code is unique: as written (（四）), in
    half-width forms or without its brackets ((四), 四; ``names.code_key``)."""
    session.flush()  # the look-up runs on the connection: it sees what was flushed
    found = session.get(Obligation, names.obligation_id(queries.Lean.of_session(session), ref))
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
    """{obligation id: {role: [owner names]}} for many obligations (``listing.owners_by_role``)."""
    return listing.owners_by_role(queries.Lean.of_session(session), list(obligation_ids))


def overdue_clause(as_of: date, dialect: str) -> Any:
    """SQL for "overdue as of ``as_of``" over ``obligation`` (``queries.overdue_sql``)."""
    return text(queries.overdue_sql(dialect=dialect)).bindparams(
        as_of=as_of, seen_at=visibility.seen_at(as_of)
    )


def scope_of(session: Session, region_id: int | None, site_id: int | None) -> dict[str, Any] | None:
    return listing.scope(queries.Lean.of_session(session), region_id, site_id)


def detail(*, session: Session, ob: Obligation, as_of: date) -> dict[str, Any]:
    """The ``duban show`` shape (``listing.detail``)."""
    return listing.detail(queries.Lean.of_session(session), ob.id, as_of)
