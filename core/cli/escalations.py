"""``duban sweep``, ``duban escalations``, ``duban ack``, ``duban escalate``, ``duban notice``."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from ..i18n import t
from .context import Env, pass_env
from .output import document_options, dumps, emit, format_option, listing_options


def as_of_option(func: object) -> object:
    return click.option(
        "--as-of", "as_of", metavar="DATE", help="As of this date (same as the global --as-of)."
    )(func)


def apply_as_of(env: Env, value: str | None) -> None:
    """A command-level ``--as-of`` overrides the global one."""
    if value:
        from ..clock import FixedClock, parse_instant

        env.clock = FixedClock(parse_instant(value))
        env.as_of_given = True


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@as_of_option
@format_option("table", "json")
@pass_env
def sweep(env: Env, dry_run: bool, as_of: str | None, fmt: str) -> None:
    """Evaluate every rule and open, raise and resolve escalations."""
    from ..labels import level_label
    from ..services.sweep import owner_names
    from ..services.sweep import sweep as run_sweep

    apply_as_of(env, as_of)
    with env.session(write=not dry_run) as session:
        result = run_sweep(session=session, as_of=env.today, dry_run=dry_run)
        names = owner_names(session=session, ids={c.addressed_to_id for c in result.changes})
    data = result.to_dict(names)
    for failure in result.failures:
        click.echo(
            t(
                "duban: warning: rule {rule} failed and was skipped: {error}",
                rule=failure["rule"],
                error=failure["error"],
            ),
            err=True,
        )
    if fmt == "json":
        click.echo(dumps(data))
        return
    actions = {"open": t("opened"), "raise": t("raised"), "resolve": t("resolved")}
    rows = [
        {
            **c,
            "action": actions[c["action"]],
            "level": level_label(c["level"]),
            "id": c["id"] if c["id"] is not None else "—",
        }
        for c in data["changes"]
    ]
    if rows:
        emit(
            rows,
            [
                ("action", t("Action")),
                ("id", "ID"),
                ("level", t("Level")),
                ("obligation_id", t("Obligation")),
                ("addressed_to", t("Addressed to")),
                ("reason", t("Reason")),
            ],
            "table",
            max_width=60,
        )
    summary = t(
        "Sweep as of {day}: {opened} opened, {raised} raised, {resolved} resolved, "
        "{unchanged} unchanged, {follow_ups} follow-up obligations",
        day=data["as_of"],
        opened=data["opened"],
        raised=data["raised"],
        resolved=data["resolved"],
        unchanged=data["unchanged"],
        follow_ups=data["follow_ups"],
    )
    if dry_run:
        summary += " " + t("(dry run: nothing written)")
    elif not result.wrote:
        summary += " " + t("(nothing changed)")
    click.echo(summary)


@click.command()
@click.option(
    "--level", metavar="L", help="Only this level: remind, supervise, list, summon, freeze, refer."
)
@click.option("--owner", metavar="O", help="Only those addressed to this owner.")
@click.option("--open", "open_only", is_flag=True, help="Only open (unresolved) escalations.")
@click.option("--obligation", metavar="ID", help="Only those about this obligation.")
@listing_options()
@pass_env
def escalations(
    env: Env,
    level: str | None,
    owner: str | None,
    open_only: bool,
    obligation: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """List escalations (never deleted; resolved ones show when and why)."""
    from .. import escalation_rows
    from ..names import obligation_id

    with ExitStack() as stack:
        if owner:  # owners are resolved by the ORM service; the listing runs on its connection
            from ..queries import Lean
            from ..services.owners import resolve_owner

            session = stack.enter_context(env.session(write=False))
            db = Lean.of_session(session)
        else:
            db = stack.enter_context(env.reading())
        ob_id = obligation_id(db, obligation) if obligation else None
        owner_id = resolve_owner(session=session, ref=owner).id if owner else None
        rows = escalation_rows.describe(
            db,
            escalation_rows.escalations(
                db,
                as_of=env.today,
                owner_id=owner_id,
                open_only=open_only,
                obligation_id=ob_id,
                level=escalation_rows.parse_level(level) if level else None,
            ),
        )
    if fmt in ("table", "xlsx"):
        rows = [
            {**r, "level": r["level_label"], "opened": r["opened_on"], "resolved": r["resolved_on"]}
            for r in rows
        ]
    emit(
        rows,
        [
            ("id", "ID", "int"),
            ("level", t("Level")),
            ("subject", t("Subject")),
            ("addressed_to", t("Addressed to")),
            ("reason", t("Reason")),
            ("opened", t("Opened"), "date"),
            ("resolved", t("Resolved"), "date"),
        ],
        fmt,
        max_width=40,
        output=output,
        title=t("Escalations"),
    )


@click.command()
@click.argument("ref", metavar="ID")
@click.option("--note", required=True, metavar="N", help="What is being done about it.")
@pass_env
def ack(env: Env, ref: str, note: str) -> None:
    """Acknowledge an escalation (its addressed body or a coordinator)."""
    from ..services.escalations import acknowledge

    with env.session() as session:
        esc = acknowledge(session=session, ref=ref, note=note)
        click.echo(t("Escalation #{id} acknowledged", id=esc.id))


@click.command()
@click.argument("ref", metavar="ID")
@click.option(
    "--level", required=True, metavar="L", help="remind, supervise, list, summon, freeze or refer."
)
@click.option("--reason", required=True, metavar="R", help="Why.")
@pass_env
def escalate(env: Env, ref: str, level: str, reason: str) -> None:
    """Escalate an obligation by hand (coordinators); it only climbs."""
    from ..labels import level_label
    from ..services.escalations import escalate as do_escalate

    with env.session() as session:
        esc = do_escalate(session=session, ref=ref, level=level, reason=reason)
        click.echo(t("Escalation #{id}: {level}", id=esc.id, level=level_label(esc.level)))
        if esc.follow_up_id:
            click.echo(
                t("Follow-up obligation #{id}: written rectification report", id=esc.follow_up_id)
            )


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["md", "html", "docx"]), default="md", show_default=True
)
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="File to write.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    help="Language of the notice (default Chinese; also the global --lang).",
)
@as_of_option
@document_options
@pass_env
@click.pass_context
def notice(
    ctx: click.Context,
    env: Env,
    fmt: str,
    output: Path,
    lang: str | None,
    as_of: str | None,
    **head: str | None,
) -> None:
    """Write the public naming notice (通报) of listed and summoned items; ``--format docx``
    writes it as an official document (公文) with the masthead and number of ``[document]``
    in duban.toml or the options."""
    from ..errors import UserError
    from ..services.naming_notice import render_notice, write_notice_docx

    apply_as_of(env, as_of)
    if lang is None:
        # A public notice is Chinese unless English is asked for on this command line.
        parent = ctx.parent
        if (
            parent is not None
            and parent.get_parameter_source("lang") == click.core.ParameterSource.COMMANDLINE
        ):
            lang = parent.params.get("lang")
    if fmt == "docx":
        with env.session(write=False) as session:
            count = write_notice_docx(
                session=session, as_of=env.today, path=output, lang=lang or "zh", **head
            )
        click.echo(t("Wrote {path}: {count} items", path=output, count=count))
        return
    with env.session(write=False) as session:
        text, count = render_notice(session=session, as_of=env.today, fmt=fmt, lang=lang or "zh")
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(
            t("-o {path}: cannot write: {why}", path=output, why=exc.strerror or exc)
        ) from None
    click.echo(t("Wrote {path}: {count} items", path=output, count=count))
