"""Users and their roles: coordinator, member (of one owner), viewer."""

from __future__ import annotations

from sqlmodel import Session, select

from .. import audit
from ..controls import check_text
from ..errors import UserError
from ..i18n import t
from ..models import User, UserRole
from .base import actor, now, require_coordinator, snapshot
from .owners import resolve_owner


def bootstrap_first_user(*, session: Session) -> User | None:
    """Make the actor a coordinator if the database has no users yet."""
    if session.exec(select(User.id)).first() is not None:
        return None
    user = User(name=actor(session), role=UserRole.coordinator, created_at=now(session))
    session.add(user)
    session.flush()
    audit.record(session, "user.add", "user", user.id, after=snapshot(user))
    return user


def add_user(*, session: Session, name: str, role: str, owner: str | None = None) -> User:
    require_coordinator(session)
    check_text(name, "NAME", single_line=True)
    if role not in UserRole.__members__:
        raise UserError(
            t(
                "--role: must be one of {choices}, not {value!r}",
                choices=", ".join(UserRole),
                value=role,
            )
        )
    if role == UserRole.member and not owner:
        raise UserError(t("--owner: a member belongs to one owner; name it"))
    if session.exec(select(User).where(User.name == name)).first():
        raise UserError(t("user {name} already exists", name=name))
    owner_row = resolve_owner(session=session, ref=owner, what="--owner") if owner else None
    user = User(
        name=name, role=role, owner_id=owner_row.id if owner_row else None, created_at=now(session)
    )
    session.add(user)
    session.flush()
    audit.record(session, "user.add", "user", user.id, after=snapshot(user))
    return user


def list_users(*, session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.name)).all())
