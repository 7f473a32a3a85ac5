"""``duban report add|list|template|import|summary|frequency``: progress reports (进展报送)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import UserError
from ..i18n import t
from .context import Env, pass_env
from .output import document_options, emit, format_option, output_option


@click.group()
def report() -> None:
    """Progress reports (进展报送): report, list, spreadsheets, the consolidated summary."""


@report.command("add")
@click.argument("ref", metavar="ID")
@click.option("--period", required=True, metavar="P", help="2024-05, 2024-Q2 or 2024-H1.")
@click.option("--progress", required=True, metavar="TEXT", help="What was done (进展情况).")
@click.option("--problems", metavar="TEXT", help="What is blocking it (存在问题).")
@click.option("--next", "next_steps", metavar="TEXT", help="What comes next (下步计划).")
@click.option("--percent", type=int, metavar="N", help="Percent complete, 0 to 100.")
@click.option("--owner", metavar="OWNER", help="Report for this owner (coordinators).")
@click.option(
    "--milestone", "milestone_id", type=int, metavar="MID", help="The milestone it is about."
)
@click.option("--on", "done_on", metavar="DATE", help="With --milestone: claimed done on DATE.")
@click.option(
    "--evidence", multiple=True, metavar="PATH|URL", help="With --on: a file or URL; repeatable."
)
@pass_env
def add(
    env: Env,
    ref: str,
    period: str,
    progress: str,
    problems: str | None,
    next_steps: str | None,
    percent: int | None,
    owner: str | None,
    milestone_id: int | None,
    done_on: str | None,
    evidence: tuple[str, ...],
) -> None:
    """Report an obligation's progress for a period; prints the report's id."""
    from ..clock import parse_date
    from ..services.reports import Claim, add_report

    if (done_on or evidence) and milestone_id is None:
        raise UserError(t("--on and --evidence need --milestone"))
    if evidence and not done_on:
        raise UserError(t("--evidence needs --on DATE"))
    claim = None
    if done_on and milestone_id is not None:
        claim = Claim(milestone_id, parse_date(done_on, what="--on"), evidence)
    with env.session() as session:
        made = add_report(
            session=session,
            ref=ref,
            period=period,
            progress=progress,
            problems=problems,
            next_steps=next_steps,
            percent=percent,
            owner=owner,
            milestone_id=milestone_id,
            claim=claim,
        )
        click.echo(made.id)


@report.command("list")
@click.option("--period", metavar="P", help="Only this period (2024-05, 2024-Q2, 2024-H1).")
@click.option(
    "--owner",
    metavar="OWNER",
    help="Only this owner's reports (or, with --missing, obligations it leads).",
)
@click.option("--obligation", metavar="ID", help="Only this obligation's reports.")
@click.option("--history", is_flag=True, help="Superseded reports too.")
@click.option(
    "--missing",
    is_flag=True,
    help="Instead: obligations whose lead has not reported for the period (default: each one's latest ended period).",
)
@format_option()
@pass_env
def list_cmd(
    env: Env,
    period: str | None,
    owner: str | None,
    obligation: str | None,
    history: bool,
    missing: bool,
    fmt: str,
) -> None:
    """List reports, or with --missing what has not been reported."""
    if not missing and not owner:  # the everyday listing: no ORM (owners are resolved by it)
        from ..names import obligation_id
        from ..report_rows import report_list
        from ..reporting import parse_period

        label = parse_period(period).label if period else None
        with env.reading() as db:
            rows = report_list(
                db,
                as_of=env.today,
                period=label,
                obligation_id=obligation_id(db, obligation) if obligation is not None else None,
                history=history,
            )
        _emit_reports(rows, fmt)
        return
    from ..services import reports

    with env.session(write=False) as session:
        if missing:
            rows = reports.missing(session=session, as_of=env.today, period=period, owner=owner)
            columns = [
                ("obligation", "ID"),
                ("code", t("Code")),
                ("title", t("Title")),
                ("leads", t("Lead")),
                ("period", t("Report period")),
                ("due", t("Due")),
                ("late", t("Late")),
            ]
        else:
            rows = reports.list_reports(
                session=session, period=period, owner=owner, obligation=obligation, history=history
            )
            _emit_reports(rows, fmt)
            return
    emit(rows, columns, fmt, max_width=30)


def _emit_reports(rows: list[dict], fmt: str) -> None:
    if fmt == "table":
        from ..clock import local_time
        from ..labels import role_label

        rows = [
            {**r, "role": role_label(r["role"]), "submitted_at": local_time(r["submitted_at"])}
            for r in rows
        ]
    emit(
        rows,
        [
            ("id", "ID"),
            ("code", t("Code")),
            ("owner", t("Owner")),
            ("role", t("Role")),
            ("period", t("Report period")),
            ("percent", "%"),
            ("progress", t("Progress made")),
            ("submitted_at", t("Reported at")),
        ],
        fmt,
        max_width=30,
    )


@report.command("template")
@click.option(
    "--owner", required=True, metavar="OWNER", help="The owner whose obligations it lists."
)
@click.option("--period", required=True, metavar="P", help="The period it reports (2024-05).")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .xlsx file to write.",
)
@pass_env
def template(env: Env, owner: str, period: str, output: Path) -> None:
    """Write an owner's report form for a period, pre-filled, to send out."""
    from ..services.report_files import write_template

    if output.suffix.lower() != ".xlsx":
        raise UserError(t("-o {path}: the template is an .xlsx file", path=output))
    with env.session(write=False) as session:
        n = write_template(session=session, owner=owner, period=period, path=output)
    click.echo(
        t(
            "{path}: {n} obligation(s) of {owner} for {period}",
            path=output,
            n=n,
            owner=owner,
            period=period,
        )
    )


@report.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--period", metavar="P", help="The period of files that do not say (CSV).")
@format_option()
@pass_env
def import_cmd(env: Env, paths: tuple[Path, ...], period: str | None, fmt: str) -> None:
    """Read returned report forms; each file is imported whole or not at all."""
    from ..services.report_files import import_files

    with env.session() as session:
        done, failed = import_files(session=session, paths=paths, period=period)
    emit(
        done,
        [
            ("file", t("File")),
            ("owner", t("Owner")),
            ("period", t("Report period")),
            ("reports", t("Reports imported")),
        ],
        fmt,
    )
    for error in failed:
        click.echo(f"duban: {t('error')}: {error}", err=True)
    if failed:
        raise click.exceptions.Exit(max(error.exit_code for error in failed))


@report.command("summary")
@click.option(
    "--period", required=True, metavar="P", help="The period (2024-05, 2024-Q2, 2024-H1)."
)
@format_option("md", "xlsx", "docx", "json", default="md")
@output_option
@document_options
@pass_env
def summary(env: Env, period: str, fmt: str, output: Path | None, **head: str | None) -> None:
    """The consolidated 调度 summary of a period: per task and per owner."""
    from ..services.report_files import summary_markdown, write_summary
    from ..services.reports import consolidated

    if fmt in ("xlsx", "docx") and output is None:
        raise UserError(t("-o: --format {fmt} writes a file", fmt=fmt))
    with env.session(write=False) as session:
        data = consolidated(session=session, period=period, as_of=env.today)
        charts = []
        if fmt == "xlsx":
            from ..services.evaluation import off_track_charts, status_rows

            rows = status_rows(session=session, as_of=env.today)
            charts = off_track_charts(session=session, as_of=env.today, rows=rows)
    if fmt in ("xlsx", "docx"):
        assert output is not None
        write_summary(data, fmt, output, dated=env.today, charts=charts, **head)
        return
    # JSON unindented: the C encoder, for a summary of 100k obligations.
    text = json.dumps(data, ensure_ascii=False) + "\n" if fmt == "json" else summary_markdown(data)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@report.command("frequency")
@click.argument("ref", metavar="ID")
@click.argument(
    "frequency", type=click.Choice(["monthly", "quarterly", "half-yearly", "none", "plan"])
)
@pass_env
def frequency(env: Env, ref: str, frequency: str) -> None:
    """Set how often an obligation reports (plan: follow its plan's calendar)."""
    from ..reporting import frequency_label
    from ..services.reports import set_frequency

    with env.session() as session:
        ob = set_frequency(
            session=session, ref=ref, frequency=None if frequency == "plan" else frequency
        )
        click.echo(
            t(
                "Obligation #{id} reports {frequency}",
                id=ob.id,
                frequency=frequency_label(ob.report_frequency),
            )
        )


@report.command("urge")
@click.option("--owner", required=True, metavar="OWNER", help="The owner to urge.")
@pass_env
def urge(env: Env, owner: str) -> None:
    """催报: tell an owner now which of its reports are outstanding (once a day)."""
    from ..services.reports import urge as do_urge

    with env.session() as session:
        n = do_urge(session=session, owner=owner, as_of=env.today)
    click.echo(t("Urged {owner} to report: {n} report(s)", owner=owner, n=n))
