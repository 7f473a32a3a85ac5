"""The in-app inbox: the delivered ``inbox`` rows of the ledger addressed to the acting user
or to their owner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from .. import audit
from ..errors import NotFound, PermissionDenied
from ..i18n import t
from ..models import Notification
from ..services.base import current_user, now


def _inbox_clause(session: Session) -> Any:
    user = current_user(session)
    if user is None:
        raise PermissionDenied(
            t(
                "{user} is not a registered user; a coordinator can add it with "
                "`duban user add {user} --role ...`",
                user=session.info["actor"],
            )
        )
    mine = Notification.recipient == f"user:{user.name}"
    if user.owner_id is not None:
        mine = or_(mine, Notification.owner_id == user.owner_id)
    return and_(Notification.channel == "inbox", Notification.status == "delivered", mine)


def inbox(*, session: Session, unread: bool = False, limit: int | None = 200) -> list[Notification]:
    """The acting user's in-app messages (addressed to them or to their owner), newest first."""
    query = select(Notification).where(_inbox_clause(session))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def unread_count(*, session: Session) -> int:
    from sqlalchemy import func

    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(_inbox_clause(session), Notification.read_at.is_(None))
    ).one()


def mark_read(*, session: Session, ids: Sequence[int]) -> list[Notification]:
    """Mark messages of the acting user's inbox read; an id not in it is refused, nothing written."""
    clause = _inbox_clause(session)
    rows = []
    for msg_id in ids:
        row = session.exec(select(Notification).where(clause, Notification.id == msg_id)).first()
        if row is None:
            raise NotFound(t("--mark-read: no message #{id} in your inbox", id=msg_id))
        rows.append(row)
    at = now(session)
    for row in rows:
        if row.read_at is None:
            row.read_at = at
            session.add(row)
            audit.record(
                session, "notification.read", "notification", row.id, after={"read_at": at}
            )
    session.flush()
    return rows
