"""What every service needs: the actor, the time, role checks, snapshots for the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, SQLModel, select

from ..clock import Clock, to_local_date
from ..errors import PermissionDenied
from ..i18n import t
from ..models import Assignment, User, UserRole

# The ``setting`` key of a database made by ``duban init --sandbox``: its clock may be set.
SANDBOX = "sandbox"


def actor(session: Session) -> str:
    return session.info["actor"]


def clock(session: Session) -> Clock:
    return session.info["clock"]


def now(session: Session) -> datetime:
    return clock(session).now()


def today(session: Session) -> date:
    return to_local_date(now(session))


def snapshot(row: SQLModel, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The row's columns as a dict, for the audit log's before/after."""
    return {k: v for k, v in row.model_dump().items() if k not in exclude}


def current_user(session: Session) -> User | None:
    cache = session.info.get("_user")
    if cache is None or cache.name != actor(session):
        cache = session.exec(select(User).where(User.name == actor(session))).first()
        session.info["_user"] = cache
    return cache


def require_coordinator(session: Session) -> User:
    user = current_user(session)
    if user is None or user.role != UserRole.coordinator:
        raise PermissionDenied(_denied(session, user, t("a coordinator")))
    return user


def require_writer(session: Session, obligation_id: int | None = None) -> User:
    """Coordinators write anything; members only obligations their owner is assigned to."""
    user = current_user(session)
    if user is not None and user.role == UserRole.coordinator:
        return user
    if user is not None and user.role == UserRole.member and obligation_id is not None:
        assigned = session.exec(
            select(Assignment.id).where(
                Assignment.obligation_id == obligation_id, Assignment.owner_id == user.owner_id
            )
        ).first()
        if assigned is not None:
            return user
        raise PermissionDenied(
            t(
                "{user} is a member of another owner and cannot change obligation #{id}",
                user=user.name,
                id=obligation_id,
            )
        )
    raise PermissionDenied(_denied(session, user, t("a coordinator or a member of its owner")))


def _denied(session: Session, user: User | None, needed: str) -> str:
    if user is None:
        return t(
            "{user} is not a registered user; a coordinator can add it with "
            "`duban user add {user} --role ...`",
            user=actor(session),
        )
    return t(
        "{user} ({role}) may not do this: it takes {needed}",
        user=user.name,
        role=t(user.role),
        needed=needed,
    )
