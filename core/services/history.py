"""An obligation's history: every audit event about it, its milestones, escalations,
close-outs, evidence and targets, and the import that created it, in order."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from ..i18n import t
from ..labels import level_label, state_label
from ..models import AuditEvent, Escalation, Evidence, Milestone, Obligation, Submission, Target

# entity type -> the model whose rows belong to an obligation through ``obligation_id``
_PARTS = {
    "milestone": Milestone,
    "escalation": Escalation,
    "submission": Submission,
    "evidence": Evidence,
    "target": Target,
}


def history(*, session: Session, obligation: Obligation) -> list[dict[str, Any]]:
    """``{seq, at, actor, action, entity, summary}`` for each event about ``obligation``."""
    wanted: list[tuple[str, list[str]]] = [("obligation", [str(obligation.id)])]
    for kind, model in _PARTS.items():
        ids = session.exec(select(model.id).where(model.obligation_id == obligation.id)).all()
        if ids:
            wanted.append((kind, [str(i) for i in ids]))
    events: list[AuditEvent] = []
    for kind, ids in wanted:
        for start in range(0, len(ids), 900):
            events += session.exec(
                select(AuditEvent).where(
                    AuditEvent.entity_type == kind,
                    col(AuditEvent.entity_id).in_(ids[start : start + 900]),
                )
            ).all()
    # A bulk import is one event naming every obligation it created.
    events += [
        e
        for e in session.exec(
            select(AuditEvent).where(AuditEvent.action == "import.obligations")
        ).all()
        if obligation.id in ((e.after or {}).get("ids") or [])
    ]
    events.sort(key=lambda e: e.seq)
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "entity": f"{e.entity_type}:{e.entity_id or ''}",
            "summary": summarise(e),
        }
        for e in events
    ]


def summarise(e: AuditEvent) -> str:
    """One line saying what changed."""
    after, before = e.after or {}, e.before or {}
    if e.action == "import.obligations":
        return t(
            "imported from {file} (sha256 {sha})",
            file=after.get("file"),
            sha=str(after.get("sha256", ""))[:12],
        )
    changed = [
        t(
            "{field}: {before} → {after}",
            field=_field(key),
            before=_value(key, before.get(key)),
            after=_value(key, after[key]),
        )
        for key in after
        if key in before and before.get(key) != after[key] and key not in _NOISE
    ]
    if changed:
        return t("; ").join(changed)[:200]
    shown = [
        t("{label}: {value}", label=_field(key), value=_value(key, after[key]))
        for key in _SHOWN
        if after.get(key) not in (None, "", [])
    ]
    return t(", ").join(shown)[:200]


# The fields a summary names, in words; others keep their column name.
_FIELDS = {
    "title": "Title",
    "level": "Level",
    "due": "Due",
    "done_on": "Done on",
    "state": "State",
    "decision": "Decision",
    "reason": "Reason",
    "uri": "Address",
    "indicator": "Indicator",
}


def _field(key: str) -> str:
    return t(_FIELDS[key]) if key in _FIELDS else key


def _value(key: str, value: object) -> str:
    if key == "state":
        return state_label(str(value)) if value else ""
    if key == "level":
        return level_label(str(value)) if value else ""
    if key == "decision" and value in ("verified", "rejected"):
        return t({"verified": "Verified", "rejected": "Rejected"}[str(value)])
    return str(value)


# Bookkeeping columns that change with everything and say nothing.
_NOISE = {"version", "updated_at", "sequence", "state_changed_at", "done_at", "decided_at"}
_SHOWN = ("title", "level", "due", "done_on", "state", "decision", "reason", "uri", "indicator")
