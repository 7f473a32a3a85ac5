"""``duban user add|set|remove|list``."""

from __future__ import annotations

import click

from ..i18n import t
from .context import Env, pass_env
from .output import emit, format_option


@click.group()
def user() -> None:
    """People who act in duban and their roles."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help="coordinator, member or viewer.")
@click.option("--owner", metavar="OWNER", help="The owner a member belongs to.")
@pass_env
def user_add(env: Env, name: str, role: str, owner: str | None) -> None:
    """Add a user (coordinators only)."""
    from ..services.users import add_user

    with env.session() as session:
        click.echo(add_user(session=session, name=name, role=role, owner=owner).id)


@user.command("set")
@click.argument("name")
@click.option("--role", required=True, help="coordinator, member or viewer.")
@click.option("--owner", metavar="OWNER", help="The owner a member belongs to.")
@pass_env
def user_set(env: Env, name: str, role: str, owner: str | None) -> None:
    """Give a user another role (coordinators only)."""
    from ..services.users import set_user

    with env.session() as session:
        click.echo(set_user(session=session, name=name, role=role, owner=owner).id)


@user.command("remove")
@click.argument("name")
@pass_env
def user_remove(env: Env, name: str) -> None:
    """Take a user's role away (coordinators only); on PostgreSQL the login stays."""
    from ..services.users import remove_user

    with env.session() as session:
        click.echo(remove_user(session=session, name=name).id)


@user.command("list")
@format_option()
@pass_env
def user_list(env: Env, fmt: str) -> None:
    """List users."""
    from ..models import Owner
    from ..services.users import list_users

    with env.session(write=False) as session:
        rows = [
            {
                "id": u.id,
                "name": u.name,
                "role": t(u.role) if fmt == "table" else u.role,
                "owner": (session.get(Owner, u.owner_id).name if u.owner_id else None),
            }
            for u in list_users(session=session)
        ]
    emit(rows, [("id", "ID"), ("name", t("Name")), ("role", t("Role")), ("owner", t("Owner"))], fmt)
