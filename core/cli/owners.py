"""``duban owner add|set|list``."""

from __future__ import annotations

import click

from ..i18n import t
from ..labels import owner_kind_label
from .context import Env, pass_env
from .output import emit, format_option


@click.group()
def owner() -> None:
    """Responsible bodies: departments, people's governments, enterprises."""


@owner.command("add")
@click.argument("name")
@click.option("--region", metavar="R", help="Region (code or name).")
@click.option("--parent", metavar="OWNER", help="The body it reports to.")
@click.option("--alias", "aliases", multiple=True, metavar="A", help="Another name (repeatable).")
@click.option(
    "--kind",
    default="department",
    show_default=True,
    help="department, government, judicial, enterprise or other.",
)
@click.option("--name-en", metavar="TEXT", help="English name.")
@pass_env
def owner_add(
    env: Env,
    name: str,
    region: str | None,
    parent: str | None,
    aliases: tuple[str, ...],
    kind: str,
    name_en: str | None,
) -> None:
    """Add an owner."""
    from ..services.owners import add_owner

    with env.session() as session:
        row = add_owner(
            session=session,
            name=name,
            region=region,
            parent=parent,
            aliases=aliases,
            kind=kind,
            name_en=name_en,
        )
        click.echo(row.id)


@owner.command("set")
@click.argument("name")
@click.option("--email", metavar="E", help="E-mail address for reminders ('' clears).")
@click.option(
    "--webhook", metavar="URL", help="Add or change this chat robot ('' removes every robot)."
)
@click.option("--preset", metavar="P", help="The robot's kind: json, wecom, dingtalk or feishu.")
@click.option("--secret", metavar="S", help="The robot's signing secret ('' clears).")
@click.option(
    "--mention",
    "mentions",
    multiple=True,
    metavar="MOBILE",
    help="@ this person in the robot's messages (repeatable; '' clears).",
)
@click.option("--alias", "aliases", multiple=True, metavar="A", help="Add another name.")
@click.option("--parent", metavar="OWNER", help="The body it reports to.")
@click.option("--name-en", metavar="TEXT", help="English name.")
@pass_env
def owner_set(
    env: Env,
    name: str,
    email: str | None,
    webhook: str | None,
    preset: str | None,
    secret: str | None,
    mentions: tuple[str, ...],
    aliases: tuple[str, ...],
    parent: str | None,
    name_en: str | None,
) -> None:
    """Change an owner's contact channels, aliases or parent."""
    from ..services.owners import set_owner

    with env.session() as session:
        set_owner(
            session=session,
            ref=name,
            email=email,
            webhook=webhook,
            preset=preset,
            secret=secret,
            mentions=mentions or None,
            aliases=aliases,
            parent=parent,
            name_en=name_en,
        )


@owner.command("list")
@format_option()
@pass_env
def owner_list(env: Env, fmt: str) -> None:
    """List owners."""
    from ..models import Owner, Region
    from ..services.owners import aliases_of, list_owners, robots_of

    with env.session(write=False) as session:
        rows = []
        for o in list_owners(session=session):
            region = session.get(Region, o.region_id) if o.region_id else None
            parent = session.get(Owner, o.parent_id) if o.parent_id else None
            rows.append(
                {
                    "id": o.id,
                    "name": o.name,
                    "name_en": o.name_en,
                    "kind": o.kind,
                    "region": region.name if region else None,
                    "parent": parent.name if parent else None,
                    "aliases": aliases_of(session=session, owner=o),
                    "email": o.email,
                    "robots": robots_of(session=session, owner=o),
                }
            )
    if fmt == "table":
        rows = [{**r, "kind": owner_kind_label(r["kind"])} for r in rows]
    emit(
        rows,
        [
            ("id", "ID"),
            ("name", t("Name")),
            ("kind", t("Kind")),
            ("region", t("Region")),
            ("aliases", t("Aliases")),
            ("email", t("E-mail")),
        ],
        fmt,
    )
