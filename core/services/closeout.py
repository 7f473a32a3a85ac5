"""Close-out (销号): a lead owner submits evidence, another person verifies or rejects.

Separation of duties: whoever submitted a close-out may not decide it (the plan warns
against 表面整改、虚假整改). A verified close-out closes the obligation and marks its
pending milestones done as of the submission; a rejection sends it back to in_progress.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from sqlmodel import Session, select

from .. import audit
from ..clock import to_local_date
from ..controls import check_text
from ..errors import Conflict, PermissionDenied, UserError
from ..i18n import t
from ..models import Assignment, Evidence, Milestone, Obligation, Role, State, Submission, UserRole
from .base import actor, current_user, now, require_coordinator, snapshot
from .escalations import resolve_for_closed
from .obligations import get_obligation, set_state

_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
SUBMITTABLE = (State.open, State.in_progress)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def evidence_rows(items: Sequence[str]) -> list[tuple[str, str | None]]:
    """(uri, sha256) per --evidence: an http(s) URL, or a readable file fingerprinted now."""
    if not items:
        raise UserError(t("--evidence: a close-out needs at least one file or URL"))
    rows = []
    for item in items:
        item = item.strip()
        if _URL.match(item):
            rows.append((item, None))
            continue
        path = Path(item).expanduser()
        if not path.is_file():
            raise UserError(
                t("--evidence {value}: no such file, and not an http(s) URL", value=item)
            )
        try:
            rows.append((str(path.resolve()), file_sha256(path)))
        except OSError as exc:
            raise UserError(
                t("--evidence {value}: cannot read: {why}", value=item, why=exc.strerror or exc)
            ) from None
    return rows


def _open_children(session: Session, ob: Obligation) -> int:
    return len(
        session.exec(
            select(Obligation.id).where(
                Obligation.parent_id == ob.id,
                Obligation.state.notin_([State.closed.value, State.cancelled.value]),
            )
        ).all()
    )


def submit(
    *, session: Session, ref: str | int, evidence: Sequence[str], note: str | None = None
) -> Submission:
    """Ask for close-out (申请销号): a member of a lead owner, or a coordinator."""
    check_text(note, "--note")
    ob = get_obligation(session=session, ref=ref)
    user = current_user(session)
    if user is None or user.role not in (UserRole.coordinator, UserRole.member):
        raise PermissionDenied(
            t(
                "{user} may not submit a close-out: it takes a member of the lead owner "
                "or a coordinator",
                user=actor(session),
            )
        )
    if user.role == UserRole.member:
        lead = session.exec(
            select(Assignment.id).where(
                Assignment.obligation_id == ob.id,
                Assignment.owner_id == user.owner_id,
                Assignment.role == Role.lead,
            )
        ).first()
        if lead is None:
            raise PermissionDenied(
                t(
                    "{user} is not a member of a lead owner of obligation #{id}; only "
                    "a lead owner submits its close-out",
                    user=user.name,
                    id=ob.id,
                )
            )
    if ob.state not in SUBMITTABLE:
        raise Conflict(
            t(
                "obligation #{id} is {state}; only an open or in-progress obligation can be "
                "submitted for close-out",
                id=ob.id,
                state=t(ob.state),
            )
        )
    children = _open_children(session, ob)
    if children:
        raise Conflict(
            t(
                "obligation #{id} has {n} sub-obligations still open; they close first",
                id=ob.id,
                n=children,
            )
        )
    rows = evidence_rows(evidence)
    stamp = now(session)
    added = []
    for uri, sha in rows:
        ev = Evidence(
            obligation_id=ob.id, uri=uri, sha256=sha, note=note, added_by=user.name, added_at=stamp
        )
        session.add(ev)
        added.append(ev)
    sub = Submission(obligation_id=ob.id, submitted_by=user.name, submitted_at=stamp, note=note)
    session.add(sub)
    session.flush()
    for ev in added:
        audit.record(session, "evidence.add", "evidence", ev.id, after=snapshot(ev))
    audit.record(
        session,
        "closeout.submit",
        "submission",
        sub.id,
        after={**snapshot(sub), "evidence": [ev.id for ev in added]},
    )
    set_state(session=session, obligation=ob, state=State.submitted)
    return sub


def _pending(session: Session, ref: str | int) -> tuple[Obligation, Submission]:
    """The obligation and its close-out awaiting a decision, for a coordinator who did not submit it."""
    user = require_coordinator(session)
    ob = get_obligation(session=session, ref=ref)
    sub = session.exec(
        select(Submission)
        .where(Submission.obligation_id == ob.id, Submission.decision.is_(None))
        .order_by(Submission.id.desc())
    ).first()
    if ob.state != State.submitted or sub is None:
        raise Conflict(
            t(
                "obligation #{id} has no close-out awaiting a decision (it is {state})",
                id=ob.id,
                state=t(ob.state),
            )
        )
    if sub.submitted_by == user.name:
        raise PermissionDenied(
            t(
                "{user} submitted this close-out and may not decide it; another "
                "coordinator must verify or reject obligation #{id}",
                user=user.name,
                id=ob.id,
            )
        )
    return ob, sub


def verify(*, session: Session, ref: str | int) -> Submission:
    """Accept a close-out (销号): the obligation closes; pending milestones count as done on
    the day the close-out was submitted; its open escalations are resolved."""
    ob, sub = _pending(session, ref)
    before = snapshot(sub)
    sub.decision, sub.decided_by, sub.decided_at = "verified", actor(session), now(session)
    session.add(sub)
    done_on = to_local_date(sub.submitted_at)
    pending = session.exec(
        select(Milestone).where(Milestone.obligation_id == ob.id, Milestone.done_on.is_(None))
    ).all()
    for ms in pending:
        ms_before = snapshot(ms)
        ms.done_on, ms.done_at, ms.done_by = done_on, now(session), actor(session)
        ms.sequence, ms.updated_at = ms.sequence + 1, now(session)
        session.add(ms)
        session.flush()
        audit.record(
            session, "milestone.done", "milestone", ms.id, before=ms_before, after=snapshot(ms)
        )
    session.flush()
    audit.record(
        session, "closeout.verify", "submission", sub.id, before=before, after=snapshot(sub)
    )
    set_state(session=session, obligation=ob, state=State.closed)
    resolve_for_closed(session=session, obligation=ob)
    return sub


def reject(*, session: Session, ref: str | int, reason: str) -> Submission:
    """Send a close-out back (退回): the obligation returns to in_progress."""
    reason = (check_text(reason, "--reason") or "").strip()
    if not reason:
        raise UserError(t("--reason: say why the close-out is rejected"))
    ob, sub = _pending(session, ref)
    before = snapshot(sub)
    sub.decision, sub.decided_by, sub.decided_at, sub.reason = (
        "rejected",
        actor(session),
        now(session),
        reason,
    )
    session.add(sub)
    session.flush()
    audit.record(
        session, "closeout.reject", "submission", sub.id, before=before, after=snapshot(sub)
    )
    set_state(session=session, obligation=ob, state=State.in_progress)
    return sub
