"""The notification ledger: one row per (subject, recipient, occasion, channel), inserted once,
claimed by one worker, its outcome written back; and reading it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, or_, update
from sqlmodel import Session, select

from ..errors import UserError
from ..i18n import t
from ..models import AuditHead, Notification, Owner, Setting, UTCDateTime
from .settings import NotifySettings

STATUSES = ("pending", "sending", "delivered", "failed", "digested", "superseded")
WATERMARK = "notify.watermark"
# The audit sequence number the last pass planned against: every change to obligations,
# owners or escalations writes an audit event, so an unchanged number on the same day
# means there is nothing new to plan (retries are still claimed).
SEEN = "notify.audit_seq"
_CHUNK = 900


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` the ledger already holds."""
    keys = list(keys)
    found: set[str] = set()
    for chunk in chunks(keys):
        found.update(
            session.exec(select(Notification.key).where(Notification.key.in_(chunk))).all()
        )
    return found


_table = Notification.__table__


def _dialect_insert(session: Session) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise UserError(t("notifications need SQLite or PostgreSQL, not {name}", name=name))
    return insert


def insert_ledger(session: Session, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Insert rows whose key is new; return the keys this call inserted. Keys already there
    (sent before, or inserted a moment ago by another scheduler) are skipped, not errors."""
    if not rows:
        return set()
    insert = _dialect_insert(session)
    stmt = insert(_table).on_conflict_do_nothing(index_elements=["key"]).returning(_table.c.key)
    ordered = sorted(rows, key=lambda r: r["key"])  # one order everywhere: no deadlocks
    # executemany: SQLAlchemy batches it into multi-row INSERTs ("insertmanyvalues").
    return set(session.execute(stmt, ordered).scalars())


def claimable(at: datetime, lease: timedelta, channels: Sequence[str] | None) -> Any:
    cond = or_(
        and_(_table.c.status.in_(("pending", "failed")), _table.c.next_attempt_at <= at),
        and_(_table.c.status == "sending", _table.c.claimed_at < at - lease),
    )
    return and_(cond, _table.c.channel.in_(channels)) if channels is not None else cond


def claim(
    session: Session,
    *,
    worker: str,
    at: datetime,
    lease: timedelta,
    channels: Sequence[str] | None,
    limit: int,
) -> list[Any]:
    """Mark up to ``limit`` due rows as being sent by ``worker``; return them."""
    cond = claimable(at, lease, channels)
    ids = select(_table.c.id).where(cond).order_by(_table.c.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    stmt = (
        update(_table)
        .where(_table.c.id.in_(ids.scalar_subquery()), cond)
        .values(status="sending", claimed_by=worker, claimed_at=at)
        .returning(
            _table.c.id,
            _table.c.key,
            _table.c.channel,
            _table.c.owner_id,
            _table.c.robot_id,
            _table.c.occasion,
            _table.c.payload,
            _table.c.attempts,
        )
    )
    return sorted(session.execute(stmt).all(), key=lambda r: r.id)


_outcome = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"), _table.c.claimed_by == bindparam("b_worker"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        last_error=bindparam("b_error"),
        next_attempt_at=bindparam("b_next", type_=UTCDateTime),
        delivered_at=bindparam("b_delivered", type_=UTCDateTime),
    )
)


class Outcome(NamedTuple):
    """What became of a claimed row: ``delivered``, ``failed`` (with the error) or ``pending``
    (not sent: the worker is stopping, or ``later`` when a robot's turn was too far off)."""

    row: Any
    status: str
    error: str | None = None
    later: datetime | None = None


def record_outcomes(
    session: Session,
    *,
    worker: str,
    at: datetime,
    cfg: NotifySettings,
    outcomes: Sequence[Outcome],
) -> None:
    """Write back outcomes; a failure's next attempt backs off, a pending row stays due."""
    params = []
    for row, status, error, later in outcomes:
        attempts = row.attempts + (status != "pending")
        if status == "failed":
            next_at: datetime | None = at + cfg.backoff(attempts)
        else:
            next_at = (later or at) if status == "pending" else None
        params.append(
            {
                "b_id": row.id,
                "b_worker": worker,
                "b_status": status,
                "b_attempts": attempts,
                "b_error": error[:1000] if error else None,
                "b_next": next_at,
                "b_delivered": at if status == "delivered" else None,
            }
        )
    if params:
        session.execute(_outcome, params)


def read_watermark(session: Session) -> datetime | None:
    row = session.get(Setting, WATERMARK)
    return datetime.fromisoformat(row.value) if row else None


def put_setting(session: Session, key: str, value: str, *, only_up: bool = False) -> None:
    insert = _dialect_insert(session)
    table = Setting.__table__
    stmt = insert(table).values(key=key, value=value)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value},
            where=table.c.value < stmt.excluded.value if only_up else None,
        )
    )


def advance_watermark(session: Session, at: datetime) -> None:
    """Remember the latest pass (never moving backwards): the next pass looks for occasions
    from that day on, and folds those older than the horizon into digests."""
    put_setting(session, WATERMARK, at.astimezone(UTC).isoformat(timespec="seconds"), only_up=True)


def audit_seq(session: Session) -> int:
    head = session.get(AuditHead, 1)
    return head.seq if head else 0


def list_notifications(
    *,
    session: Session,
    failed: bool = False,
    owner: Owner | None = None,
    status: str | None = None,
    limit: int | None = 500,
) -> list[Notification]:
    query = select(Notification)
    if failed:
        query = query.where(Notification.status == "failed")
    if status:
        if status not in STATUSES:
            raise UserError(
                t(
                    "--status: must be one of {choices}, not {value!r}",
                    choices=", ".join(STATUSES),
                    value=status,
                )
            )
        query = query.where(Notification.status == status)
    if owner is not None:
        query = query.where(Notification.owner_id == owner.id)
    query = query.order_by(Notification.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())
