"""``duban import plan FILE``: a plan document (.txt, .md, .docx), a division-of-work table
(.csv, .xlsx) or a YAML plan (duban-plan/1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import UserError
from ..i18n import t
from .context import Env, pass_env
from .output import dumps, emit, format_option

YAML_SUFFIXES = (".yaml", ".yml")


@click.command("plan")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Read the file and print what would be imported; write nothing."
)
@click.option(
    "--draft",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="OUT.yaml",
    help="Write the parsed document as a YAML plan to review (imports nothing).",
)
@format_option("table", "json")
@pass_env
def import_plan_cmd(env: Env, path: Path, dry_run: bool, draft: Path | None, fmt: str) -> None:
    """Import a plan: a document (.txt, .md, .docx), a division-of-work table (.csv, .xlsx) or a
    YAML plan file (.yaml)."""
    from ..planparse import DOCUMENT_SUFFIXES, parse_file, summarize
    from ..planparse.documents import unsupported

    suffix = path.suffix.lower()
    if suffix not in (*DOCUMENT_SUFFIXES, *YAML_SUFFIXES):
        raise unsupported(path)
    if not path.is_file():
        raise UserError(t("{path}: no such file", path=path))
    if suffix in YAML_SUFFIXES:
        if draft is not None:
            raise UserError(t("--draft: {path} is already a YAML plan", path=path))
        data, unparsed = _read_yaml_plan(path), []
    else:
        from ..services.plans import plan_reference

        result = parse_file(path, reference=plan_reference())
        data, unparsed = result.data, result.unparsed
    if draft is not None:
        from ..planparse import draft_yaml

        draft.write_text(draft_yaml(data, unparsed, source=path.name), encoding="utf-8")
        click.echo(
            t(
                "Draft written to {path}: {tasks} tasks, {unparsed} items to review",
                path=draft,
                tasks=len(data.get("tasks") or []),
                unparsed=len(unparsed),
            )
        )
        return
    if dry_run:
        _print_summary(summarize(data, unparsed), fmt)
        return
    from ..services.plans import import_parsed_plan

    with env.session() as session:
        plan, created = import_parsed_plan(session=session, data=data, source=str(path))
        report = {
            "plan": plan.key,
            "title": plan.title,
            "tasks": len(data.get("tasks") or []),
            "owners_created": created,
            "unparsed": unparsed,
        }
    if fmt == "json":
        click.echo(dumps(report))
        return
    click.echo(
        t(
            "Imported {title} ({key}): {tasks} tasks",
            title=report["title"],
            key=report["plan"],
            tasks=report["tasks"],
        )
    )
    if created:
        click.echo(t("New owners: {names}", names="、".join(created)))
    _print_unparsed(unparsed)


def _read_yaml_plan(path: Path) -> dict[str, Any]:
    from ..services.plans import read_plan_file

    return read_plan_file(path)


def _print_summary(summary: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        click.echo(dumps(summary))
        return
    plan = summary["plan"]
    click.echo(
        f"{plan.get('title')}  {plan.get('issued_on') or ''} → {plan.get('valid_until') or ''}"
    )
    if plan.get("issuers"):
        click.echo(t("Issued by: {names}", names="、".join(plan["issuers"])))
    rows = [
        {
            "code": task["code"],
            "title": task["title"],
            "lead": task["lead"],
            "participants": len(task["participants"]),
            "milestones": sorted({m["due"] for m in task["milestones"] if m["due"]}),
            "targets": [_target_label(g) for g in task["targets"]],
        }
        for task in summary["tasks"]
    ]
    emit(
        rows,
        [
            ("code", t("Code")),
            ("title", t("Title")),
            ("lead", t("Lead")),
            ("participants", t("Participants")),
            ("milestones", t("Milestones")),
            ("targets", t("Targets")),
        ],
        "table",
        max_width=40,
    )
    _print_unparsed(summary["unparsed"])


_SIGNS = {
    "gte": "≥",
    "lte": "≤",
    "eq": "=",
    "decrease_pct": "↓",
    "increase_pct": "↑",
    "trend_down": "↘",
    "trend_up": "↗",
    "eliminate": "0",
}


def _target_label(target: dict[str, Any]) -> str:
    value = (
        "" if target["value"] is None or target["comparator"] == "eliminate" else target["value"]
    )
    unit = target["unit"] if value != "" and target["unit"] not in (None, "class") else ""
    label = f"{target['name']}{_SIGNS.get(target['comparator'], target['comparator'])}{value}{unit}"
    if target.get("alternative"):  # one target, met either way
        from ..labels import route_text

        label += " " + t("or {route}", route=route_text(target["alternative"]))
    return label


def _print_unparsed(unparsed: list[dict[str, Any]]) -> None:
    if not unparsed:
        return
    click.echo(t("Not interpreted ({n}) — review these:", n=len(unparsed)))
    for item in unparsed:
        where = f"{item['task']} " if item.get("task") else ""
        text = f" «{item['text']}»" if item.get("text") else ""
        click.echo(f"  {where}{item['why']}{text}")
