"""Users and their roles: coordinator, member (of one owner), viewer."""

from __future__ import annotations

from sqlmodel import Session, select

from .. import audit
from ..controls import check_text
from ..db_roles import check_name, grant_role
from ..errors import Conflict, NotFound, UserError
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
    """Add a person; on PostgreSQL also their login (created if missing) and its group role."""
    require_coordinator(session)
    check_text(name, "NAME", single_line=True)
    check_name(name)
    owner_id = _role_and_owner(session, role, owner)
    if session.exec(select(User).where(User.name == name)).first():
        raise UserError(t("user {name} already exists", name=name))
    user = User(name=name, role=role, owner_id=owner_id, created_at=now(session))
    session.add(user)
    session.flush()
    _grant(session, name, role)
    audit.record(session, "user.add", "user", user.id, after=snapshot(user))
    return user


def set_user(*, session: Session, name: str, role: str, owner: str | None = None) -> User:
    """Give a person another role (and owner); on PostgreSQL their login moves group."""
    require_coordinator(session)
    owner_id = _role_and_owner(session, role, owner)
    user = get_user(session=session, name=name)
    if user.role == UserRole.coordinator and role != UserRole.coordinator:
        _keep_a_coordinator(session, user)
    before = snapshot(user)
    user.role, user.owner_id = role, owner_id
    session.add(user)
    session.flush()
    _grant(session, name, role)
    audit.record(session, "user.set", "user", user.id, before=before, after=snapshot(user))
    return user


def remove_user(*, session: Session, name: str) -> User:
    """Take a person's role away; on PostgreSQL their login keeps existing but holds no
    duban group, so it can no longer even read (drop the login itself on the server)."""
    require_coordinator(session)
    user = get_user(session=session, name=name)
    if user.role == UserRole.coordinator:
        _keep_a_coordinator(session, user)
    before = snapshot(user)
    session.delete(user)
    session.flush()
    _grant(session, name, None)
    audit.record(session, "user.remove", "user", user.id, before=before)
    return user


def get_user(*, session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(t("unknown user {name!r}", name=name))
    return user


def _role_and_owner(session: Session, role: str, owner: str | None) -> int | None:
    """Check --role and --owner before anything is written; the owner's id for a member."""
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
    if not owner:
        return None
    try:
        return resolve_owner(session=session, ref=owner, what="--owner").id
    except NotFound as exc:  # a mistyped option, not a missing record
        raise UserError(str(exc)) from None


def _keep_a_coordinator(session: Session, user: User) -> None:
    others = session.exec(
        select(User.id).where(User.role == UserRole.coordinator, User.id != user.id)
    ).first()
    if others is None:
        raise Conflict(
            t("{name} is the last coordinator; make someone else coordinator first", name=user.name)
        )


def _grant(session: Session, name: str, role: str | None) -> None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        grant_role(connection, name, role)


def list_users(*, session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.name)).all())
