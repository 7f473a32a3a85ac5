"""The spreadsheets of reporting: the form sent to an owner (``duban report template``), the
forms it returns (``duban report import``) and the consolidated summary (``report summary``).

The form's sheet is the table (a header row, one row per obligation; only the columns an
owner fills are unlocked); the workbook's description says whose form it is and for which
period, so that a returned file cannot report for another owner.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from ..controls import control_problem
from ..errors import PermissionDenied, UserError
from ..i18n import t
from ..models import Assignment, Milestone, Obligation, Owner, Report, Role, UserRole
from ..queries import LIGHTS
from ..reporting import Period, parse_period
from ..spreadsheet import Field
from ..spreadsheet_reader import BadCell, Column, Row, Table
from .base import current_user
from .obligations import CLOSED_STATES
from .owners import find_owner, resolve_owner
from .reports import Entry, calendar_of, check_period, store_reports

COLUMNS = (
    Column("seq", ("序号", "No.")),
    Column("code", ("任务编号", "Task number"), required=True),
    Column("title", ("任务名称", "Task")),
    Column("owner", ("责任单位", "Responsible body")),
    Column("due", ("完成时限", "Deadline")),
    Column("progress", ("进展情况", "Progress"), required=True),
    Column("problems", ("存在问题", "Problems")),
    Column("next", ("下步计划", "Next steps")),
    Column("percent", ("完成比例(%)", "Percent complete")),
)
EDITABLE = ("progress", "problems", "next", "percent")
META = "duban-report"
_CLOSED = [s.value for s in CLOSED_STATES]


def _assigned(session: Session, owner: Owner) -> list[tuple[Obligation, str]]:
    """The owner's live obligations and its role in each (lead first when it has several)."""
    rows = session.exec(
        select(Obligation, Assignment.role)
        .join(Assignment, Assignment.obligation_id == Obligation.id)
        .where(Assignment.owner_id == owner.id, Obligation.state.notin_(_CLOSED))
        .order_by(Obligation.plan_id, Obligation.seq, Obligation.id)
    ).all()
    found: dict[int, tuple[Obligation, str]] = {}
    for ob, role in rows:
        if ob.id not in found or role == Role.lead:
            found[ob.id] = (ob, role)
    return list(found.values())


def _task_numbers(obligations: Sequence[Obligation]) -> dict[str, Obligation]:
    """The number each obligation goes by on the form: its code when unique here, else its id."""
    codes: dict[str, int] = {}
    for ob in obligations:
        if ob.code:
            codes[ob.code] = codes.get(ob.code, 0) + 1
    return {(ob.code if ob.code and codes[ob.code] == 1 else str(ob.id)): ob for ob in obligations}


def write_template(*, session: Session, owner: str, period: str, path: Path) -> int:
    """Write ``owner``'s form for ``period``, pre-filled with what it reported already."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    who = resolve_owner(session=session, ref=owner)
    per = parse_period(period)
    assigned = [
        (ob, role)
        for ob, role in _assigned(session, who)
        if calendar_of(session, ob).frequency in (per.frequency, "none")
    ]
    numbers = {ob.id: number for number, ob in _task_numbers([ob for ob, _ in assigned]).items()}
    ids = [ob.id for ob, _ in assigned]
    dues: dict[int, Any] = {}
    for ob_id, due in session.exec(
        select(Milestone.obligation_id, Milestone.due)
        .where(Milestone.obligation_id.in_(ids or [0]))
        .order_by(Milestone.due)
    ):
        dues[ob_id] = due  # the last
    current = {
        r.obligation_id: r
        for r in session.exec(
            select(Report).where(
                Report.owner_id == who.id,
                Report.period == per.label,
                Report.superseded_by_id.is_(None),
            )
        )
    }
    book = Workbook()
    sheet = book.active
    sheet.title = per.label
    sheet.append([c.headers[0] for c in COLUMNS])
    for n, (ob, _) in enumerate(assigned, 1):
        r = current.get(ob.id)
        sheet.append(
            [
                n,
                numbers[ob.id],
                ob.title,
                who.name,
                dues[ob.id].isoformat() if ob.id in dues else "",
                r.progress if r else "",
                (r.problems or "") if r else "",
                (r.next_steps or "") if r else "",
                r.percent if r else None,
            ]
        )
    editable = [i for i, c in enumerate(COLUMNS, 1) if c.key in EDITABLE]
    for row in sheet.iter_rows(min_row=2, max_row=len(assigned) + 1):
        for cell in row:
            if cell.column in editable:
                cell.protection = Protection(locked=False)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHI", (6, 12, 40, 20, 12, 50, 30, 30, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    percent = DataValidation(type="whole", operator="between", formula1="0", formula2="100")
    sheet.add_data_validation(percent)
    percent.add(f"I2:I{max(len(assigned) + 1, 2)}")
    sheet.freeze_panes = "A2"
    sheet.protection.sheet = True
    book.properties.title = t(
        "{owner}: progress report for {period}", owner=who.name, period=per.label
    )
    book.properties.description = json.dumps(
        {META: 1, "owner": who.name, "period": per.label}, ensure_ascii=False
    )
    book.save(path)
    return len(assigned)


def _meta(path: Path) -> dict[str, str]:
    """The owner and period a returned form was made for (``write_template`` keeps them in
    the workbook's description); empty for any other file."""
    if path.suffix.lower() != ".xlsx":
        return {}
    import zipfile
    from xml.etree.ElementTree import fromstring

    try:
        with zipfile.ZipFile(path) as package:
            core = fromstring(package.read("docProps/core.xml"))
        found = core.find("{http://purl.org/dc/elements/1.1/}description")
        meta = json.loads(found.text or "") if found is not None else {}
    except Exception:  # no such part, or not ours: Table() says what is wrong with the file
        return {}
    return {k: str(v) for k, v in meta.items()} if isinstance(meta, dict) and META in meta else {}


def import_file(*, session: Session, path: Path, period: str | None = None) -> dict[str, Any]:
    """Read one returned form; all of it is written or, on any bad cell, nothing."""
    if not path.is_file():
        raise UserError(t("{path}: no such file", path=path))
    meta = _meta(path)
    table = Table(path, COLUMNS, ignore_unknown=True)
    raw_period = meta.get("period") or period
    if not raw_period:
        raise UserError(t("{path}: the file does not say its period; give --period", path=path))
    per = parse_period(raw_period, what=f"{path}: period" if meta.get("period") else "--period")
    rows = list(table)
    owner_name = meta.get("owner") or next((r.text("owner") for r in rows if r.text("owner")), "")
    if not owner_name:
        raise UserError(t("{path}: the file does not say whose it is (责任单位)", path=path))
    owner = resolve_owner(session=session, ref=owner_name, what=f"{path}: 责任单位")
    user = current_user(session)
    if (
        user is None
        or user.role == UserRole.viewer
        or (user.role == UserRole.member and user.owner_id != owner.id)
    ):
        raise PermissionDenied(
            t(
                "{path}: {user} may not report for {owner}",
                path=path,
                user=user.name if user else session.info["actor"],
                owner=owner.name,
            )
        )
    assigned = _assigned(session, owner)
    roles = {ob.id: role for ob, role in assigned}
    numbers = _task_numbers([ob for ob, _ in assigned])
    by_id = {str(ob.id): ob for ob, _ in assigned}
    entries: list[Entry] = []
    checked: dict[int, Period] = {}
    names: dict[str, Owner | None] = {owner.name: owner}
    for row in rows:
        texts = {k: row.text(k) for k in EDITABLE}
        if not any(texts.values()):
            continue  # a task the owner did not report on
        number = row.text("code")
        ob = numbers.get(number) or by_id.get(number)
        if not number:
            table.reject(row, "code", t("empty"))
            continue
        if ob is None:
            table.reject(
                row,
                "code",
                t("unknown task number {value!r} for {owner}", value=number, owner=owner.name),
            )
            continue
        named = row.text("owner")
        if named and named not in names:
            names[named] = find_owner(session=session, ref=named)
        other = names[named] if named else owner
        if other is None or other.id != owner.id:
            table.reject(
                row,
                "owner",
                t(
                    "this file is {owner}'s; it cannot report for {other}",
                    owner=owner.name,
                    other=named,
                ),
            )
            continue
        if table.earlier(row, ob.id) is not None:
            table.reject(row, "code", t("task {value} is reported twice", value=number))
            continue
        try:
            if ob.id not in checked:
                checked[ob.id] = check_period(session, ob, per.label, what=number)
        except UserError as exc:
            table.reject(row, "code", str(exc).removeprefix(f"{number}: "))
            continue

        try:
            progress = _cell(row, "progress", required=True)
            problems, next_steps = _cell(row, "problems"), _cell(row, "next")
            percent = row.number("percent", whole=True)
            if percent is not None and percent > 100:
                raise row.bad(
                    "percent", t("must be from 0 to 100: {value!r}", value=row.text("percent"))
                )
        except BadCell as exc:
            table.problems.add(row.line, exc.column, exc.reason, exc.position)
            continue
        entries.append(
            Entry(
                ob.id,
                roles[ob.id],
                progress or "",
                problems,
                next_steps,
                None if percent is None else int(percent),
            )
        )
    table.check()
    store_reports(session, owner, per, entries, source=path.name)
    return {"file": str(path), "owner": owner.name, "period": per.label, "reports": len(entries)}


def _cell(row: Row, key: str, *, required: bool = False) -> str | None:
    """A text cell, checked as any text a person gives (``BadCell`` otherwise)."""
    value = row.text(key)
    problem = control_problem(value)
    if problem is not None:
        raise row.bad(key, problem)
    if required and not value.strip():
        raise row.bad(key, t("empty"))
    return value.strip() or None


def import_files(
    *, session: Session, paths: Sequence[Path], period: str | None = None
) -> tuple[list[dict[str, Any]], list[UserError]]:
    """Import each file on its own: (what was imported, the errors of the files refused)."""
    done, failed = [], []
    for path in paths:
        try:
            with session.begin_nested():
                done.append(import_file(session=session, path=path, period=period))
        except UserError as exc:
            failed.append(exc)
    return done, failed


# The summary --------------------------------------------------------------------------------
def _summary_fields() -> tuple[list[Field], list[Field]]:
    tasks = [
        Field("number", t("Code")),
        Field("title", t("Title")),
        Field("leads", t("Lead")),
        Field("light_label", t("Light")),
        Field("percent", t("Percent complete"), "percent100"),
        Field("text", t("Progress made")),
        Field("problems", t("Problems")),
        Field("next_steps", t("Next steps")),
    ]
    owners = [
        Field("owner", t("Owner")),
        Field("due", t("Due")),
        Field("received", t("Received")),
        Field("late", t("Late")),
        Field("missing", t("Missing")),
    ]
    return tasks, owners


def _summary_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per task, as the table shows it: the lead's text, then what the others reported."""
    rows = []
    for task in data["tasks"]:
        text = task["progress"] if task["received"] else t("(not received)")
        for other in task["others"]:
            text = f"{text}\n{other['owner']}: {other['progress']}"
        rows.append(
            {
                **task,
                "number": task["code"] or str(task["id"]),
                "leads": "、".join(task["lead"]),
                "light_label": t(task["light"]) if task["light"] else "",
                "text": text,
            }
        )
    return rows


def summary_markdown(data: dict[str, Any]) -> str:
    """The 调度 summary as Markdown: per owner, then per task with its reports' text."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        return text.replace("|", "\\|").replace("\n", "<br>")

    def table(fields: list[Field], rows: list[dict[str, Any]]) -> list[str]:
        return [
            "| " + " | ".join(f.header for f in fields) + " |",
            "| " + " | ".join("---" for _ in fields) + " |",
            *("| " + " | ".join(cell(r.get(f.key)) for f in fields) + " |" for r in rows),
        ]

    task_fields, owner_fields = _summary_fields()
    lines = [
        f"# {summary_title(data)}",
        "",
        t("As of {day}", day=data["as_of"]),
        "",
        f"## {t('Owners')}",
        "",
        *table(owner_fields, data["owners"]),
        "",
        f"## {t('Tasks')}",
        "",
        *table(task_fields, _summary_rows(data)),
    ]
    return "\n".join(lines) + "\n"


def summary_title(data: dict[str, Any]) -> str:
    return t("Progress summary {period}", period=data["period"])


def write_summary(
    data: dict[str, Any], fmt: str, path: Path, *, charts: Sequence[Any] = (), **head: Any
) -> None:
    """The summary as a workbook (a sheet per task and per owner; below the tasks, a chart of
    each off-track target's readings against its target line) or a 公文 (docx)."""
    task_fields, owner_fields = _summary_fields()
    if fmt == "xlsx":
        from ..spreadsheet import Listing, write_xlsx

        write_xlsx(
            path,
            [
                Listing(t("Tasks"), task_fields, _summary_rows(data), charts=charts),
                Listing(t("Owners"), owner_fields, data["owners"]),
            ],
        )
        return
    from ..gongwen import OfficialDocument

    doc = OfficialDocument(title=summary_title(data), **{k: v for k, v in head.items() if v})
    received = sum(o["received"] for o in data["owners"])
    due = sum(o["due"] for o in data["owners"])
    lights = {light: sum(1 for task in data["tasks"] if task["light"] == light) for light in LIGHTS}
    doc.paragraph(
        t(
            "For {period}, {received} of {due} progress reports were received. "
            "Red: {red}, yellow: {yellow}, green: {green}.",
            period=data["period"],
            received=received,
            due=due,
            **lights,
        )
    )
    doc.heading(t("Reporting by responsible body"), level=1)
    doc.table(owner_fields, data["owners"])
    doc.heading(t("Progress by task"), level=1)
    doc.table(task_fields, _summary_rows(data))
    doc.save(path)
