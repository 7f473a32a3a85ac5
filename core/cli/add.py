"""``duban add``."""

from __future__ import annotations

import click

from ..clock import parse_date
from .context import Env, pass_env


@click.command()
@click.argument("title")
@click.option(
    "--lead",
    "leads",
    multiple=True,
    required=True,
    metavar="OWNER",
    help="Lead owner 牵头 (repeatable).",
)
@click.option(
    "--participant",
    "participants",
    multiple=True,
    metavar="OWNER",
    help="Participating owner 参与 (repeatable).",
)
@click.option(
    "--implementer",
    "implementers",
    multiple=True,
    metavar="OWNER",
    help="Implementing owner 负责落实 (repeatable).",
)
@click.option(
    "--due", "dues", multiple=True, metavar="DATE", help="A milestone due date (repeatable)."
)
@click.option("--domain", default="general", show_default=True, help="Plugin domain.")
@click.option("--region", metavar="R", help="Region the obligation covers.")
@click.option("--code", metavar="C", help="The plan's number for it, e.g. （四）.")
@click.option("--body", metavar="TEXT", help="What it requires.")
@pass_env
def add(
    env: Env,
    title: str,
    leads: tuple[str, ...],
    participants: tuple[str, ...],
    implementers: tuple[str, ...],
    dues: tuple[str, ...],
    domain: str,
    region: str | None,
    code: str | None,
    body: str | None,
) -> None:
    """Add an obligation; prints its id."""
    from ..services.obligations import add_obligation

    due_dates = [parse_date(d, what="--due") for d in dues]
    with env.session() as session:
        ob = add_obligation(
            session=session,
            title=title,
            leads=leads,
            participants=participants,
            implementers=implementers,
            dues=due_dates,
            domain=domain,
            region=region,
            code=code,
            body=body,
        )
        click.echo(ob.id)
