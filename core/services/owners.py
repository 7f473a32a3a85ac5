"""Owners: the bodies that owe things (departments, people's governments, enterprises)."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from .. import audit, names
from ..controls import check_text
from ..errors import NotFound, UserError
from ..i18n import t
from ..models import Owner, OwnerAlias, OwnerRobot
from .base import require_coordinator, snapshot
from .regions import resolve_region

OWNER_KINDS = ("department", "government", "judicial", "enterprise", "other")
WEBHOOK_PRESETS = ("json", "wecom", "dingtalk", "feishu")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def resolve_owner(
    *, session: Session, ref: str, what: str = "--owner", loose: bool = True
) -> Owner:
    """An owner by canonical name, any alias, English name or id (省水利厅 = 湖南省水利厅);
    ``loose``, also by a unique suffix of a name or alias or in half-width forms (水利厅 ->
    湖南省水利厅, ``names.by_suffix``). Several fit: the candidates, exit 2; none: the
    closest names, exit 4."""
    from ..queries import Lean

    found = session.get(
        Owner, names.owner_id(Lean.of_session(session), ref, what=what, loose=loose)
    )
    assert found is not None
    return found


def find_owner(*, session: Session, ref: str) -> Owner | None:
    """The owner this exact name, alias or id names (no suffixes: a new name is not taken
    for an old one's short form)."""
    try:
        return resolve_owner(session=session, ref=ref, loose=False)
    except NotFound:
        return None


def aliases_of(*, session: Session, owner: Owner) -> list[str]:
    return list(
        session.exec(
            select(OwnerAlias.alias)
            .where(OwnerAlias.owner_id == owner.id)
            .order_by(OwnerAlias.alias)
        ).all()
    )


def add_owner(
    *,
    session: Session,
    name: str,
    region: str | None = None,
    parent: str | None = None,
    aliases: list[str] | tuple[str, ...] = (),
    kind: str = "department",
    name_en: str | None = None,
    check_role: bool = True,
) -> Owner:
    if check_role:
        require_coordinator(session)
    name = (check_text(name, "NAME", single_line=True) or "").strip()
    check_text(name_en, "--name-en", single_line=True)
    if not name:
        raise UserError(t("owner name must not be empty"))
    if kind not in OWNER_KINDS:
        raise UserError(
            t(
                "--kind: must be one of {choices}, not {value!r}",
                choices=", ".join(OWNER_KINDS),
                value=kind,
            )
        )
    if find_owner(session=session, ref=name) is not None:
        raise UserError(t("owner {name} already exists", name=name))
    region_row = resolve_region(session=session, ref=region) if region else None
    parent_row = resolve_owner(session=session, ref=parent, what="--parent") if parent else None
    owner = Owner(
        name=name,
        name_en=name_en,
        kind=kind,
        region_id=region_row.id if region_row else None,
        parent_id=parent_row.id if parent_row else None,
    )
    session.add(owner)
    session.flush()
    for alias in aliases:
        _add_alias(session, owner, alias)
    audit.record(
        session, "owner.add", "owner", owner.id, after={**snapshot(owner), "aliases": list(aliases)}
    )
    return owner


def _add_alias(session: Session, owner: Owner, alias: str) -> None:
    alias = (check_text(alias, "--alias", single_line=True) or "").strip()
    if not alias or alias == owner.name:
        return
    other = find_owner(session=session, ref=alias)
    if other is not None:
        if other.id == owner.id:
            return
        raise UserError(
            t("--alias: {alias!r} already names {owner}", alias=alias, owner=other.name)
        )
    session.add(OwnerAlias(owner_id=owner.id, alias=alias))
    session.flush()


def set_owner(
    *,
    session: Session,
    ref: str,
    email: str | None = None,
    webhook: str | None = None,
    preset: str | None = None,
    secret: str | None = None,
    mentions: list[str] | tuple[str, ...] | None = None,
    aliases: list[str] | tuple[str, ...] = (),
    parent: str | None = None,
    name_en: str | None = None,
) -> Owner:
    """Change an owner. ``webhook`` adds that robot or changes it (``preset``, ``secret``,
    ``mentions``); ``""`` removes every robot. Without ``webhook`` the robot settings apply to
    the owner's only robot."""
    require_coordinator(session)
    owner = resolve_owner(session=session, ref=ref)
    before = {**snapshot(owner), "robots": robots_of(session=session, owner=owner)}
    if email is not None:
        if email and not _EMAIL.match(email):
            raise UserError(t("--email: not an e-mail address: {value!r}", value=email))
        owner.email = email or None
    _set_robot(session, owner, webhook, preset, secret, mentions)
    if parent is not None:
        owner.parent_id = resolve_owner(session=session, ref=parent, what="--parent").id
    if name_en is not None:
        owner.name_en = check_text(name_en, "--name-en", single_line=True)
    for alias in aliases:
        _add_alias(session, owner, alias)
    session.add(owner)
    session.flush()
    audit.record(
        session,
        "owner.set",
        "owner",
        owner.id,
        before=before,
        after={
            **snapshot(owner),
            "aliases": aliases_of(session=session, owner=owner),
            "robots": robots_of(session=session, owner=owner),
        },
    )
    return owner


def owner_robots(*, session: Session, owner: Owner) -> list[OwnerRobot]:
    return list(
        session.exec(
            select(OwnerRobot).where(OwnerRobot.owner_id == owner.id).order_by(OwnerRobot.id)
        ).all()
    )


def robots_of(*, session: Session, owner: Owner) -> list[dict[str, object]]:
    """The owner's robots as people may see them: whether a robot signs, never its secret."""
    return [
        {
            "url": r.url,
            "preset": r.preset,
            "signed": bool(r.secret),
            "mentions": list(r.mentions or []),
        }
        for r in owner_robots(session=session, owner=owner)
    ]


def _set_robot(
    session: Session,
    owner: Owner,
    webhook: str | None,
    preset: str | None,
    secret: str | None,
    mentions: list[str] | tuple[str, ...] | None,
) -> None:
    if preset is not None and preset not in WEBHOOK_PRESETS:
        raise UserError(
            t(
                "--preset: must be one of {choices}, not {value!r}",
                choices=", ".join(WEBHOOK_PRESETS),
                value=preset,
            )
        )
    mentions = None if mentions is None else [m.strip() for m in mentions if m.strip()]
    for mobile in mentions or ():
        if any(c.isspace() for c in mobile):
            raise UserError(t("--mention: not a mobile number or user id: {value!r}", value=mobile))
    robots = owner_robots(session=session, owner=owner)
    if webhook == "":
        for robot in robots:
            session.delete(robot)
        session.flush()
        return
    if webhook is not None:
        if not _URL.match(webhook):
            raise UserError(t("--webhook: not an http(s) URL: {value!r}", value=webhook))
        robot = next((r for r in robots if r.url == webhook), None)
        if robot is None:
            robot = OwnerRobot(owner_id=owner.id, url=webhook)
    elif preset is None and secret is None and mentions is None:
        return
    elif len(robots) == 1:
        robot = robots[0]
    else:
        raise UserError(
            t(
                "--preset, --secret, --mention: {owner} has {count} robots; "
                "name one with --webhook URL",
                owner=owner.name,
                count=len(robots),
            )
        )
    if preset is not None:
        robot.preset = preset
    if secret is not None:
        robot.secret = secret or None
    if mentions is not None:
        robot.mentions = mentions or None
    session.add(robot)
    session.flush()


def list_owners(*, session: Session) -> list[Owner]:
    return list(session.exec(select(Owner).order_by(Owner.id)).all())
