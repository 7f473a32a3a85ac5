"""An obligation's history: every audit event about it, its milestones, escalations,
close-outs, evidence and targets, and the import that created it, in order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ..columns import document, instant
from ..i18n import t
from ..labels import level_label, state_label
from ..queries import Lean

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

    from ..models import Obligation

# The tables whose rows belong to an obligation through ``obligation_id``, by entity type:
# read as plain SQL (``events``), so ``duban history`` runs without the ORM.
_PARTS = ("milestone", "escalation", "submission", "evidence", "target")


class Event(NamedTuple):
    """An audit event as the history shows it."""

    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    before: dict | None
    after: dict | None


_EVENT = "SELECT seq, at, actor, action, entity_type, entity_id, before, after FROM audit_event"


def _event(row: tuple) -> Event:
    seq, at, actor, action, kind, entity, before, after = row
    return Event(seq, instant(at), actor, action, kind, entity, document(before), document(after))  # type: ignore[arg-type]


def history(*, session: Session, obligation: Obligation) -> list[dict[str, Any]]:
    """``events`` of ``obligation`` on the session's connection."""
    assert obligation.id is not None
    session.flush()  # the SQL runs on the connection: it sees what was flushed
    return events(Lean.of_session(session), obligation.id)


def events(db: Lean, obligation_id: int) -> list[dict[str, Any]]:
    """``{seq, at, actor, action, entity, summary}`` for each event about the obligation."""
    wanted: list[tuple[str, list[str]]] = [("obligation", [str(obligation_id)])]
    for kind in _PARTS:
        ids = db.rows(f"SELECT id FROM {kind} WHERE obligation_id = :id", id=obligation_id)
        if ids:
            wanted.append((kind, [str(i) for (i,) in ids]))
    found: list[Event] = []
    for kind, ids in wanted:
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            names = ", ".join(f":e{k}" for k in range(len(chunk)))
            found += map(
                _event,
                db.rows(
                    f"{_EVENT} WHERE entity_type = :kind AND entity_id IN ({names})",
                    kind=kind,
                    **{f"e{k}": v for k, v in enumerate(chunk)},
                ),
            )
    # A bulk import is one event naming every obligation it created.
    found += [
        e
        for e in map(_event, db.rows(f"{_EVENT} WHERE action = 'import.obligations'"))
        if obligation_id in ((e.after or {}).get("ids") or [])
    ]
    found.sort(key=lambda e: e.seq)
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "entity": f"{e.entity_type}:{e.entity_id or ''}",
            "summary": summarise(e),
        }
        for e in found
    ]


def summarise(e: Event) -> str:
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
