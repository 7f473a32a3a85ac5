"""``duban submit``, ``duban verify``, ``duban reject``, ``duban split``, ``duban scorecard``."""

from __future__ import annotations

from pathlib import Path

import click

from ..i18n import t
from .context import Env, pass_env
from .output import emit, format_option, listing_options


@click.command()
@click.argument("ref", metavar="ID")
@click.option(
    "--evidence",
    "evidence",
    multiple=True,
    metavar="PATH|URL",
    help="A file (fingerprinted with sha256) or an http(s) URL; repeatable, at least one.",
)
@click.option("--note", metavar="N", help="What was done.")
@pass_env
def submit(env: Env, ref: str, evidence: tuple[str, ...], note: str | None) -> None:
    """Submit an obligation for close-out (申请销号) with evidence."""
    from ..services.closeout import submit as do_submit

    with env.session() as session:
        sub = do_submit(session=session, ref=ref, evidence=evidence, note=note)
        click.echo(
            t(
                "Close-out #{sub} of obligation #{id} submitted; awaiting verification",
                sub=sub.id,
                id=sub.obligation_id,
            )
        )


@click.command()
@click.argument("ref", metavar="ID")
@pass_env
def verify(env: Env, ref: str) -> None:
    """Verify a submitted close-out (销号); not by its submitter."""
    from ..services.closeout import verify as do_verify

    with env.session() as session:
        sub = do_verify(session=session, ref=ref)
        click.echo(t("Obligation #{id} closed", id=sub.obligation_id))


@click.command()
@click.argument("ref", metavar="ID")
@click.option("--reason", required=True, metavar="R", help="Why it is sent back.")
@pass_env
def reject(env: Env, ref: str, reason: str) -> None:
    """Reject a submitted close-out (退回); not by its submitter."""
    from ..services.closeout import reject as do_reject

    with env.session() as session:
        sub = do_reject(session=session, ref=ref, reason=reason)
        click.echo(
            t("Close-out of obligation #{id} rejected; back to in progress", id=sub.obligation_id)
        )


@click.command()
@click.argument("ref", metavar="ID")
@click.option(
    "--by",
    "by",
    required=True,
    type=click.Choice(["city", "county"]),
    help="One child obligation per city or per county.",
)
@click.option("--targets", is_flag=True, help="Copy the obligation's targets to every child.")
@format_option("table", "json")
@pass_env
def split(env: Env, ref: str, by: str, targets: bool, fmt: str) -> None:
    """Decompose an obligation to cities or counties, each led by its people's government."""
    from ..services.obligations import owners_by_role
    from ..services.split import split as do_split

    with env.session() as session:
        children = do_split(session=session, ref=ref, by=by, targets=targets)
        leads = owners_by_role(session=session, obligation_ids=[c.id for c in children])
        rows = [{"id": c.id, "title": c.title, "lead": leads[c.id]["lead"]} for c in children]
    emit(rows, [("id", "ID"), ("title", t("Title")), ("lead", t("Lead"))], fmt)


@click.command()
@click.option(
    "--level",
    type=click.Choice(["department", "city", "county"]),
    help="Only departments, city or county governments.",
)
@listing_options()
@pass_env
def scorecard(env: Env, level: str | None, fmt: str, output: Path | None) -> None:
    """Per owner: obligations by role, on-time rate, overdue, open escalations, rank."""
    from ..labels import level_label
    from ..services.scorecard import scorecard_rows
    from ..vocabulary import LEVEL_ORDER

    with env.reading() as db:
        rows = scorecard_rows(db, as_of=env.today, level=level)
    if fmt == "json":
        emit(rows, [], "json")
        return
    table = [
        {
            **r,
            **r["escalations"],
            "rank": "—" if r["rank"] is None else r["rank"],
            "on_time_rate": "—" if r["on_time_rate"] is None else f"{r['on_time_rate']:.0%}",
        }
        if fmt == "table"
        else {**r, **r["escalations"]}
        for r in rows
    ]
    emit(
        table,
        [
            ("rank", t("Rank"), "int"),
            ("owner", t("Owner")),
            ("lead", t("Lead"), "int"),
            ("participant", t("Participant"), "int"),
            ("implementer", t("Implementer"), "int"),
            ("on_time_rate", t("On time"), "percent"),
            ("overdue", t("Overdue"), "int"),
            *((lv, level_label(lv), "int") for lv in LEVEL_ORDER),
        ],
        fmt,
        max_width=30,
        output=output,
        title=t("Scorecard"),
    )
