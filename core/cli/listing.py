"""``duban list`` and ``duban show``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from .. import listing
from ..clock import parse_date
from ..i18n import pick, t
from ..labels import domain_label, state_label
from ..queries import SORTS
from .context import Env, pass_env
from .output import emit, emit_one, format_option, listing_options


@click.command("list")
@click.option("--owner", metavar="OWNER", help="Only obligations this owner is assigned to.")
@click.option(
    "--role",
    type=click.Choice(["lead", "participant", "implementer"]),
    help="With --owner: only in this role.",
)
@click.option("--region", metavar="R", help="Only this region and its sub-regions.")
@click.option("--domain", metavar="D", help="Only this domain.")
@click.option("--state", metavar="S", help="open, in_progress, submitted, closed or cancelled.")
@click.option("--due-before", metavar="DATE", help="With a pending milestone due before DATE.")
@click.option("--overdue", is_flag=True, help="Only overdue obligations (as of --as-of).")
@click.option(
    "--light",
    type=click.Choice(["green", "yellow", "red"]),
    help="Only obligations with this traffic light (as of --as-of).",
)
@click.option(
    "--search",
    "text",
    metavar="TEXT",
    help="Words found anywhere: code, title, body, milestones, targets, owners, reports.",
)
@click.option("--sort", type=click.Choice(SORTS), default="code", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@click.option("--count", "count_only", is_flag=True, help="Print only the number of matches.")
@listing_options()
@pass_env
def list_cmd(
    env: Env,
    owner: str | None,
    role: str | None,
    region: str | None,
    domain: str | None,
    state: str | None,
    due_before: str | None,
    overdue: bool,
    light: str | None,
    text: str | None,
    sort: str,
    limit: int | None,
    count_only: bool,
    fmt: str,
    output: Path | None,
) -> None:
    """List obligations."""
    from ..filters import ObligationFilter

    f = ObligationFilter(
        text=text,
        owner=owner,
        role=role,
        region=region,
        domain=domain,
        state=state,
        overdue=overdue,
        due_before=parse_date(due_before, what="--due-before") if due_before else None,
        light=light,
        sort=sort,
    )
    with env.reading() as db:
        if count_only:
            click.echo(listing.count(db, f, env.today))
            return
        if limit is None:
            rows: Iterable[dict[str, Any]] = listing.iterate(db, f, env.today)
        else:
            rows = listing.page(db, f, env.today, limit=limit)
        if fmt == "table":
            rows = (
                {
                    **r,
                    "title": pick(r["title"], r["title_en"]),
                    "overdue": t("overdue") if r["overdue"] else "",
                    "light": t(r["light"]) if r["light"] else "",
                    "state": state_label(r["state"]),
                    "domain": domain_label(r["domain"]),
                }
                for r in rows
            )
        elif fmt == "xlsx":
            rows = ({**r, "title": pick(r["title"], r["title_en"])} for r in rows)
        emit(
            rows,
            [
                ("id", "ID"),
                ("code", t("Code")),
                ("title", t("Title")),
                ("lead", t("Lead")),
                ("next_due", t("Next due"), "date"),
                ("overdue", t("Overdue"), "bool"),
                ("light", t("Light")),
                ("state", t("State")),
                ("domain", t("Domain")),
                ("region", t("Region")),
            ],
            fmt,
            max_width=30,
            output=output,
            title=t("Obligations"),
        )


@click.command()
@click.argument("ref", metavar="ID")
@format_option("table", "json")
@pass_env
def show(env: Env, ref: str, fmt: str) -> None:
    """Show one obligation (by id, or by code when unique)."""
    from ..names import obligation_id

    with env.reading() as db:
        data = listing.detail(db, obligation_id(db, ref), env.today)
        if fmt == "json":
            emit_one(data, fmt)
            return
        from ..labels import route_text
        from .detail import render

        plan = db.rows("SELECT title, title_en FROM plan WHERE key = :key", key=data["plan"])
        title = pick(*plan[0]) if plan else None
    # In words: the alternative route (或比2020年提高5个百分点), the horizon.
    for tg in data["targets"]:
        if "alternative" in tg:
            tg["alternative"] = t("or {route}", route=route_text(tg["alternative"]))
    if data["horizon"]:
        data["horizon"] = t("{day}, the plan's end (implied)", day=data["horizon"]["due"])
    click.echo(render({**data, "plan": title or data["plan"]}), nl=False)
