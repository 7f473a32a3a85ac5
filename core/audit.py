"""The append-only, hash-chained audit log.

Each event's hash covers its own content and the previous event's hash, so editing or
deleting any row breaks the chain from there on. Writers are serialised by updating the
single ``audit_head`` row first, which takes the write lock on SQLite and a row lock on
PostgreSQL, so two transactions can never link to the same predecessor.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from itertools import islice
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from .models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def normalise(data: Mapping[str, Any] | None) -> dict | None:
    """Round-trip through JSON so what is hashed is exactly what is stored."""
    if data is None:
        return None
    return json.loads(json.dumps(data, default=_default, ensure_ascii=False))


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    before: dict | None,
    after: dict | None,
    prev_hash: str,
    os_user: str | None = None,
) -> str:
    fields = [
        seq,
        at.isoformat(timespec="microseconds"),
        actor,
        action,
        entity_type,
        entity_id,
        before,
        after,
        prev_hash,
    ]
    # Hashed only when known, so events written before it was recorded still verify.
    if os_user is not None:
        fields.append(os_user)
    content = json.dumps(
        fields,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=_default,
    )
    return hashlib.sha256(content.encode()).hexdigest()


@cache
def os_user() -> str | None:
    """The operating-system user running this process, if the platform can tell."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None


Event = tuple[str, str, object | None, Mapping[str, Any] | None, Mapping[str, Any] | None]
# An event row's own columns; ``at``, ``actor`` and ``os_user`` are those of the whole chain.
_COLUMNS = ("seq", "action", "entity_type", "entity_id", "before", "after", "prev_hash", "hash")


@dataclass(frozen=True)
class _Linked:
    """Events placed on the chain: what they share and each one's row (``_COLUMNS``)."""

    at: datetime
    actor: str
    os_user: str | None
    rows: list[tuple[Any, ...]]


def _chain(session: Session, events: list[Event], *, encoded: bool = False) -> _Linked:
    """Reserve the next ``len(events)`` places on the chain and compute their rows; with
    ``encoded``, ``before`` and ``after`` are the JSON text the column stores (``_encoder``).

    Updating the head row first takes the write lock (SQLite) or the row lock (PostgreSQL),
    so concurrent writers queue here instead of linking to the same predecessor.
    """
    actor: str = session.info["actor"]
    who = os_user()
    at: datetime = session.info["clock"].now().astimezone(UTC)
    link = _encoder(at, actor, who) if encoded else None
    row = session.execute(
        text("UPDATE audit_head SET seq = seq + :n WHERE id = 1 RETURNING seq, last_hash"),
        {"n": len(events)},
    ).first()
    if row is None:
        session.add(AuditHead(id=1, seq=len(events), last_hash=GENESIS))
        session.flush()
        last, prev = len(events), GENESIS
    else:
        last, prev = row
    rows = []
    for seq, (action, entity_type, entity_id, before, after) in enumerate(
        events, last - len(events) + 1
    ):
        entity = None if entity_id is None else str(entity_id)
        if link is not None:
            before, after, digest = link(seq, action, entity_type, entity, before, after, prev)
        else:
            before, after = normalise(before), normalise(after)
            digest = event_hash(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity,
                before=before,
                after=after,
                prev_hash=prev,
                os_user=who,
            )
        rows.append((seq, action, entity_type, entity, before, after, prev, digest))
        prev = digest
    session.execute(text("UPDATE audit_head SET last_hash = :h WHERE id = 1"), {"h": prev})
    return _Linked(at, actor, who, rows)


def record(
    session: Session,
    action: str,
    entity_type: str,
    entity_id: object | None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (actor and time come from the session)."""
    linked = _chain(session, [(action, entity_type, entity_id, before, after)])
    event = AuditEvent(
        at=linked.at,
        actor=linked.actor,
        os_user=linked.os_user,
        **dict(zip(_COLUMNS, linked.rows[0], strict=True)),
    )
    session.add(event)
    return event


def record_many(session: Session, events: Iterable[Event]) -> None:
    """Append many events at once, chained exactly like ``record`` (a sweep may write tens of
    thousands: one head update and batched inserts instead of three statements each). Events
    are taken a batch at a time: a generator's are never all held at once."""
    from .batch_writes import BATCH, insert_tuples

    events = iter(events)
    while batch := list(islice(events, BATCH)):
        linked = _chain(session, batch, encoded=True)
        insert_tuples(
            session,
            AuditEvent,
            _COLUMNS,
            linked.rows,
            encoded=("before", "after"),
            same={"at": linked.at, "actor": linked.actor, "os_user": linked.os_user},
        )


# ``event_hash``'s encoding, which is also the text the events of ``record_many`` store.
_HASHED = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_default
)
_SCALARS = frozenset({str, int, float, bool, type(None), datetime, date})
_STR = frozenset({str})


def _fast(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """``encoder.encode`` without rebuilding the C encoder at every call (what ``encode``
    does): the same text, a sixth of the time for a small payload."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    ascii_only = encoder.ensure_ascii
    strings = json.encoder.encode_basestring_ascii if ascii_only else json.encoder.encode_basestring
    # No circular-reference markers: a marker left behind by a failed call would wrongly
    # fail the next; what reaches here is plain (``_plain``) or normalised, so never circular.
    chunks = make(
        None,
        encoder.default,
        strings,
        encoder.indent,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    join = "".join

    def encode(data: Any) -> str:
        if type(data) is str:
            return strings(data)
        return join(chunks(data, 0))

    return encode


def _plain(data: Any) -> bool:
    """Whether encoding ``data`` gives what encoding its JSON round trip (``normalise``)
    gives: true when every key is a string. JSON turns other keys into strings, which then
    sort differently, and what ``_default`` does not know is left to ``normalise`` as well."""
    if type(data) is dict:
        values = data.values()
        return _STR.issuperset(map(type, data)) and (
            _SCALARS.issuperset(map(type, values)) or all(map(_plain, values))
        )
    if type(data) is list or type(data) is tuple:
        return _SCALARS.issuperset(map(type, data)) or all(map(_plain, data))
    return type(data) in _SCALARS


def _encoder(at: datetime, actor: str, who: str | None) -> Callable[..., tuple[Any, Any, str]]:
    """For events at ``at`` by ``actor``: (stored before, stored after, hash) of one event.
    Each payload is encoded once, as ``event_hash`` encodes it, and that text is both hashed
    and stored: the column holds the same JSON value as ``normalise`` would give it (keys
    sorted, compact, characters as they are). The hash is ``event_hash``'s: a JSON list
    encodes as its items' encodings joined by commas."""
    hashed = _fast(_HASHED)
    head = f"{hashed(at.isoformat(timespec='microseconds'))},{hashed(actor)},"
    tail = "]" if who is None else f",{hashed(who)}]"
    names: dict[tuple[str, str], str] = {}  # (action, entity type), encoded once
    sha256 = hashlib.sha256

    def link(
        seq: int,
        action: str,
        entity_type: str,
        entity: str | None,
        before: Any,
        after: Any,
        prev: str,
    ) -> tuple[Any, Any, str]:
        kind = names.get((action, entity_type))
        if kind is None:
            kind = names[action, entity_type] = f"{hashed(action)},{hashed(entity_type)}"
        if before is not None and not _plain(before):
            before = normalise(before)
        if after is not None and not _plain(after):
            after = normalise(after)
        old = None if before is None else hashed(before)
        new = None if after is None else hashed(after)
        content = (
            f'[{seq},{head}{kind},{hashed(entity)},{old or "null"},{new or "null"},"{prev}"{tail}'
        )
        return old, new, sha256(content.encode()).hexdigest()

    return link


@dataclass(frozen=True)
class Break:
    seq: int
    id: int
    why: str


def verify(session: Session) -> tuple[int, Break | None]:
    """Recompute the chain; return how many events were checked and the first break."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for event in _events(session):
        count += 1
        if event.seq != expected_seq:
            return count, Break(event.seq, event.id, "events before this one are missing")
        if event.prev_hash != prev:
            return count, Break(event.seq, event.id, "previous-hash link does not match")
        digest = event_hash(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            before=event.before,
            after=event.after,
            prev_hash=event.prev_hash,
            os_user=event.os_user,
        )
        if digest != event.hash:
            return count, Break(event.seq, event.id, "content does not match its hash")
        prev, expected_seq = event.hash, expected_seq + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.last_hash != prev):
        return count, Break(head.seq, 0, "events after the last one were removed")
    return count, None


def head(session: Session) -> dict[str, Any] | None:
    """The newest event's ``{seq, hash, at}``: kept outside the database (a witness), it
    later proves that the chain was not emptied, truncated or rewritten up to there."""
    event = session.exec(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
    if event is None:
        return None
    return {"seq": event.seq, "hash": event.hash, "at": event.at.isoformat()}


def check_witness(session: Session, seq: int, digest: str) -> str | None:
    """Why the chain no longer holds event ``seq`` with hash ``digest``; None when it does."""
    found = session.exec(select(AuditEvent.hash).where(AuditEvent.seq == seq)).first()
    if found is None:
        return "the witnessed event is missing"
    if found != digest:
        return "the witnessed event's hash differs: the chain was rewritten"
    return None


def _events(session: Session) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = session.exec(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(2000)
        ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
