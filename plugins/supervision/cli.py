"""``duban ledger import|list|show|accept|reopen|report``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from duban.core import api
from duban.core.api import (
    Env,
    document_options,
    emit,
    emit_one,
    format_option,
    listing_options,
    pass_env,
    sheet_option,
)


@click.group()
def ledger() -> None:
    """The rectification ledger (整改台账) of inspection findings."""


@ledger.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--source", help="Where the problems come from, e.g. 中央生态环境保护督察.")
@click.option("--batch", help="Name of the batch (default: the file name); codes are BATCH#序号.")
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@sheet_option
@format_option("table", "json")
@pass_env
def import_cmd(
    env: Env,
    path: Path,
    source: str | None,
    batch: str | None,
    dry_run: bool,
    sheet: str | None,
    fmt: str,
) -> None:
    """Import a ledger spreadsheet (.xlsx or .csv): 序号, 问题描述, 责任单位, 整改时限, 整改措施, 整改进展."""
    from .ledger import import_ledger

    with env.session(write=not dry_run) as session:
        summary = import_ledger(session=session, path=path, source=source, batch=batch, sheet=sheet)
    emit_one(summary, fmt)


@ledger.command("list")
@click.option("--stage", help="assigned, rectifying, applied, accepted, closed.")
@click.option("--owner", metavar="OWNER", help="Only this responsible body.")
@click.option("--overdue", is_flag=True, help="Only items past their deadline.")
@listing_options()
@pass_env
def list_cmd(
    env: Env, stage: str | None, owner: str | None, overdue: bool, fmt: str, output: Path | None
) -> None:
    """List ledger items with their stage."""
    from .items import STAGES, items

    if stage and stage not in STAGES:
        raise api.UserError(
            api.t(
                "--stage: must be one of {choices}, not {value!r}",
                choices=", ".join(STAGES),
                value=stage,
            )
        )
    name = None
    if owner:  # owners are resolved by the ORM service
        with env.session(write=False) as session:
            name = api.resolve_owner(session=session, ref=owner).name
            rows = items(api.Lean.of_session(session), as_of=env.today, recorded_by=env.today)
    else:
        with env.reading() as db:
            rows = items(db, as_of=env.today, recorded_by=env.today)
    rows = [
        r
        for r in rows
        if (not stage or r["stage"] == stage)
        and (not overdue or r["overdue"])
        and (not name or name in r["responsible"])
    ]
    emit(
        rows,
        [
            ("id", "ID", "int"),
            ("number", api.t("No.")),
            ("title", api.t("Problem")),
            ("responsible", api.t("Responsible")),
            ("deadline", api.t("Deadline"), "date"),
            ("stage_label", api.t("Stage")),
            ("overdue", api.t("Overdue"), "bool"),
        ],
        fmt,
        max_width=36,
        output=output,
        title=api.t("Rectification ledger"),
    )


@ledger.command("show")
@click.argument("ref", metavar="ID")
@format_option("table", "json")
@pass_env
def show_cmd(env: Env, ref: str, fmt: str) -> None:
    """Show one ledger item."""
    from .ledger import _ledger_item, describe

    with env.session(write=False) as session:
        item = describe(session=session, ob=_ledger_item(session, ref), as_of=env.today)
    if fmt != "json":  # the stage in words, in the stage's place
        label = item.pop("stage_label")
        item = {key: label if key == "stage" else value for key, value in item.items()}
    emit_one(item, fmt)


@ledger.command("accept")
@click.argument("ref", metavar="ID")
@click.option("--note", help="What the on-site acceptance found.")
@pass_env
def accept_cmd(env: Env, ref: str, note: str | None) -> None:
    """验收: record the on-site acceptance of a close-out application."""
    from .ledger import accept

    with env.session() as session:
        accept(session=session, ref=ref, note=note)


@ledger.command("reopen")
@click.argument("ref", metavar="ID")
@click.option("--reason", required=True, help="What the re-inspection found (表面整改, 虚假整改…).")
@pass_env
def reopen_cmd(env: Env, ref: str, reason: str) -> None:
    """Reopen a closed item that re-inspection found not rectified."""
    from .ledger import reopen

    with env.session() as session:
        reopen(session=session, ref=ref, reason=reason)


@ledger.command("report")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month reported on.")
@listing_options("md", "docx", default="md")
@document_options
@pass_env
def report_cmd(env: Env, month: str, fmt: str, output: Path | None, **head: str | None) -> None:
    """Monthly progress report (月调度) per responsible body, with totals that count each item
    once; as a workbook, CSV or a 公文 (docx)."""
    from duban.core.api import parse_month

    from .ledger import report
    from .report import columns, markdown, write_docx

    _, last = parse_month(month, what="--month")
    with env.session(write=False) as session:
        rows, totals = report(session=session, month_end=last)
    if fmt in ("csv", "xlsx", "table"):
        emit(rows, columns(), fmt, output=output, title=month, totals=totals)
        return
    if fmt == "docx":
        if output is None:
            raise api.UserError(api.t("-o: a document (--format docx) needs a file to write"))
        write_docx(rows, totals, output, month=month, dated=env.today, **head)
        return
    text = (
        json.dumps({"rows": rows, "totals": totals}, ensure_ascii=False, indent=2)
        if fmt == "json"
        else markdown(rows, totals, month=month)
    )
    if output:
        output.write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)
