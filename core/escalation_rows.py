"""Escalations as they stood at a date and ``duban escalations``' shape of them, read as
plain SQL through ``queries.Lean``: the command runs it on the bare driver, the services
(``services.escalations``: ``as_of_then``, ``describe``) on their session's connection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from . import visibility
from .clock import to_local_date
from .columns import day, document, instant
from .errors import UserError
from .i18n import pick, t
from .labels import labels_to_keys, level_label
from .vocabulary import LEVEL_ORDER

if TYPE_CHECKING:
    from .queries import Lean

E = TypeVar("E")


def parse_level(value: str, *, what: str = "--level") -> str:
    """A ladder key (``summon``) or its name in either language (约谈); UserError otherwise."""
    found = labels_to_keys("level").get(value.strip().casefold())
    if found is not None:
        return found
    raise UserError(
        t(
            "{what}: unknown level {value!r}; one of {choices}",
            what=what,
            value=value,
            choices=", ".join(LEVEL_ORDER),
        )
    )


@dataclass
class EscalationRow:
    """An escalation's columns (the attributes of a ``models.Escalation``)."""

    id: int
    subject_type: str
    subject_id: int
    obligation_id: int | None
    condition: str
    rule: str
    level: str
    reason: str
    reason_en: str | None
    addressed_to_id: int | None
    convened_by_id: int | None
    region_id: int | None
    opened_at: datetime
    raised_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_note: str | None
    resolved_at: datetime | None
    resolve_reason: str | None
    follow_up_id: int | None
    manual: bool


_COLUMNS = tuple(f.name for f in fields(EscalationRow))
_INSTANTS = ("opened_at", "raised_at", "acknowledged_at", "resolved_at")


def _row(values: tuple) -> EscalationRow:
    row = EscalationRow(*values)
    for name in _INSTANTS:
        setattr(row, name, instant(getattr(row, name)))
    row.manual = bool(row.manual)
    return row


def _ids(prefix: str, ids: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``IN`` list text and its parameters."""
    return ", ".join(f":{prefix}{k}" for k in range(len(ids))), {
        f"{prefix}{k}": v for k, v in enumerate(ids)
    }


def _chunks(ids: set[Any]) -> list[list[Any]]:
    found = sorted(i for i in ids if i is not None)
    return [found[i : i + 900] for i in range(0, len(found), 900)]


def escalations(
    db: Lean,
    *,
    as_of: date,
    owner_id: int | None = None,
    open_only: bool = False,
    obligation_id: int | None = None,
    level: str | None = None,
    addressed: bool = False,
) -> list[EscalationRow]:
    """Escalations as they stood at the end of ``as_of`` (``visibility``), in id order:
    those opened since are not there, and raises and resolutions since are undone
    (``as_of_then``); ``level`` is a ladder key, matched as of then; ``addressed``: only
    those addressed to a body now."""
    seen = visibility.seen_at(as_of)
    where = ["e.opened_at <= :seen_at"]
    params: dict[str, Any] = {"seen_at": seen}
    if owner_id is not None:
        where.append("e.addressed_to_id = :owner_id")
        params["owner_id"] = owner_id
    if open_only:
        where.append("(e.resolved_at IS NULL OR e.resolved_at > :seen_at)")
    if addressed:
        where.append("e.addressed_to_id IS NOT NULL")
    if obligation_id is not None:
        where.append("e.obligation_id = :obligation_id")
        params["obligation_id"] = obligation_id
    sql = (
        f"SELECT {', '.join(f'e.{c}' for c in _COLUMNS)} FROM escalation e"
        f" WHERE {' AND '.join(where)} ORDER BY e.id"
    )
    rows = as_of_then(db, [_row(r) for r in db.rows(sql, **params)], seen, replace)
    return [e for e in rows if e.level == level] if level else rows


def as_of_then(db: Lean, rows: Sequence[E], cutoff: datetime, copy: Callable[[E], E]) -> list[E]:
    """Copies (``copy``) of ``rows`` as they stood at ``cutoff``: an escalation raised since
    then gets back the level, reason and addressee its first later raise replaced (from the
    audit log), the acknowledgement that raise cleared, and its earlier raise time
    (``escalation_change``); an acknowledgement or resolution recorded since is not there."""
    later = [e.id for e in rows if e.raised_at is not None and e.raised_at > cutoff]  # type: ignore[attr-defined]
    earlier: dict[str, dict[str, Any]] = {}
    raised: dict[int, datetime | None] = {}
    for chunk in _chunks(set(later)):
        names, params = _ids("e", [str(i) for i in chunk])
        events = db.rows(
            "SELECT entity_id, before FROM audit_event WHERE entity_type = 'escalation'"
            f" AND action = 'escalation.raise' AND at > :cutoff AND entity_id IN ({names})"
            " ORDER BY seq DESC",
            cutoff=cutoff,
            **params,
        )
        for entity, before in events:  # the earliest is written last and wins
            earlier[entity] = document(before) or {}
        names, params = _ids("e", chunk)
        raised.update(
            (eid, instant(at))
            for eid, at in db.rows(
                "SELECT escalation_id, MAX(at) FROM escalation_change"
                f" WHERE escalation_id IN ({names}) AND at <= :cutoff GROUP BY escalation_id",
                cutoff=cutoff,
                **params,
            )
        )
    copies = []
    for e in rows:
        then: Any = copy(e)
        before = earlier.get(str(then.id))
        if before:
            for key in (
                "level",
                "rule",
                "reason",
                "reason_en",
                "addressed_to_id",
                "convened_by_id",
            ):
                if key in before:
                    setattr(then, key, before[key])
            then.follow_up_id = None  # created by the raise
            if "acknowledged_at" in before:  # the raise cleared it (older events lack it)
                then.acknowledged_at = instant(before["acknowledged_at"])
                then.acknowledged_by = before.get("acknowledged_by")
                then.ack_note = before.get("ack_note")
        if then.raised_at is not None and then.raised_at > cutoff:
            then.raised_at = raised.get(then.id)
        if then.acknowledged_at is not None and then.acknowledged_at > cutoff:
            then.acknowledged_at = then.acknowledged_by = then.ack_note = None
        if then.resolved_at is not None and then.resolved_at > cutoff:
            then.resolved_at = then.resolve_reason = None
        copies.append(then)
    return copies


def _lookup(db: Lean, sql: str, ids: set[Any]) -> dict[Any, tuple]:
    """{id: the rest of the row} for ``sql`` (``SELECT id, ... WHERE id IN ({ids})``)."""
    found: dict[Any, tuple] = {}
    for chunk in _chunks(ids):
        names, params = _ids("i", chunk)
        found.update((r[0], r[1:]) for r in db.rows(sql.format(ids=names), **params))
    return found


def describe(db: Lean, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """The ``duban escalations`` shape of many escalations (``EscalationRow`` or ORM
    ``Escalation``), looked up in bulk."""
    obligations = _lookup(
        db,
        "SELECT id, code, title, title_en FROM obligation WHERE id IN ({ids})",
        {e.obligation_id for e in rows if e.obligation_id},
    )
    milestones = _lookup(
        db,
        "SELECT id, due FROM milestone WHERE id IN ({ids})",
        {e.subject_id for e in rows if e.subject_type == "milestone"},
    )
    targets = _lookup(
        db,
        "SELECT id, name, name_en, indicator FROM target WHERE id IN ({ids})",
        {e.subject_id for e in rows if e.subject_type == "target"},
    )
    regions = _lookup(
        db,
        "SELECT id, name, name_en FROM region WHERE id IN ({ids})",
        {e.subject_id for e in rows if e.subject_type == "region"},
    )
    owners = _lookup(
        db,
        "SELECT id, name FROM owner WHERE id IN ({ids})",
        {e.addressed_to_id for e in rows if e.addressed_to_id}
        | {e.convened_by_id for e in rows if e.convened_by_id},
    )
    follow_due = {
        k: day(v[0])
        for k, v in _lookup(
            db,
            "SELECT obligation_id, MIN(due) FROM milestone WHERE obligation_id IN ({ids})"
            " GROUP BY obligation_id",
            {e.follow_up_id for e in rows if e.follow_up_id},
        ).items()
    }

    def subject(e: Any, *, with_id: bool) -> str:
        ob = obligations.get(e.obligation_id)
        label = ""
        if ob is not None:
            code, title, title_en = ob
            name = f"{code} {pick(title, title_en)}" if code else pick(title, title_en)
            label = f"#{e.obligation_id} {name}" if with_id else name
        if e.subject_type == "milestone" and e.subject_id in milestones:
            label = t(
                "{obligation} · milestone due {due}",
                obligation=label,
                due=day(milestones[e.subject_id][0]).isoformat(),
            )
        elif e.subject_type == "target" and e.subject_id in targets:
            name, name_en, indicator = targets[e.subject_id]
            label = f"{label} · {pick(name, name_en) or indicator}"
        elif e.subject_type == "region" and e.subject_id in regions:
            label = f"{pick(*regions[e.subject_id])} · {label}"
        return label.strip()

    return [
        {
            "id": e.id,
            "level": e.level,
            "level_label": level_label(e.level),
            "subject": subject(e, with_id=True),
            "matter": subject(e, with_id=False),  # the subject without internal ids
            "subject_type": e.subject_type,
            "subject_id": e.subject_id,
            "obligation_id": e.obligation_id,
            "addressed_to": owners[e.addressed_to_id][0] if e.addressed_to_id in owners else None,
            "convened_by": owners[e.convened_by_id][0] if e.convened_by_id else None,
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
            "follow_up_due": follow_due[e.follow_up_id].isoformat()
            if e.follow_up_id in follow_due
            else None,
            "manual": e.manual,
        }
        for e in rows
    ]
