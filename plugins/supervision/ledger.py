"""The rectification ledger (整改台账): problems handed down by inspection, each an obligation.

Stages follow the core lifecycle: 交办 (open) -> 整改中 (in_progress) -> 申请销号 (submitted,
with evidence) -> 验收 (submitted and accepted on site) -> 销号 (closed); a rejected close-out
(退回) goes back to 整改中, and re-inspection can reopen a closed item (表面整改 / 虚假整改).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from duban.core import api

from .items import DOMAIN, STAGES, STATE_OF_STAGE, Stage, items, stage_of

SOURCES = (
    "中央生态环境保护督察",
    "省级生态环境保护督察",
    "长江经济带生态环境警示片",
    "省生态环境警示片",
    "河湖长巡查",
    "其他",
)
COLUMNS = (  # the first header is the documented one; columns not listed here are ignored
    api.Column("number", ("序号", "编号", "number"), required=True),
    api.Column("description", ("问题描述", "问题", "description"), required=True),
    api.Column("responsible", ("责任单位", "responsible"), required=True),
    api.Column("deadline", ("整改时限", "时限", "deadline"), required=True),
    api.Column("measures", ("整改措施", "measures")),
    api.Column("progress", ("整改进展", "进展", "progress")),
    api.Column("source", ("问题来源", "来源", "source")),
    api.Column("region", ("地区", "region")),
)
_SPLIT = re.compile(r"[、，,;；/\n]+")
IMMEDIATE = "立行立改"
LONG_TERM = "长期坚持"


# The obligations filter line (the TUI's) that lists the ledger's items at one stage.
SCOPE = f"domain:{DOMAIN} has:ledger"
_ACCEPTED = "ledger.accepted_at"
_STAGE_FILTERS = {"applied": f"lacks:{_ACCEPTED}", "accepted": f"has:{_ACCEPTED}"}


def stage_filter(key: str) -> str:
    """The filter line for the items at stage ``key``: their state, and for the two stages
    of a submitted item whether it was accepted on site."""
    extra = _STAGE_FILTERS.get(key)
    return f"{SCOPE} state:{STATE_OF_STAGE[key]}" + (f" {extra}" if extra else "")


def parse_deadline(value: Any, *, today: date) -> tuple[date | None, str]:
    """A deadline cell -> (due date or None, how it was written). ValueError if unreadable.

    Besides what ``api.parse_deadline`` reads (dates, serial numbers, 2024年底前, 2024年6月底前),
    立行立改 is due the day it is handed down and 长期坚持 has no deadline."""
    text = api.cell_text(value).replace(" ", "")
    if not text:
        raise ValueError("empty")
    if text == IMMEDIATE:
        return today, IMMEDIATE  # rectify at once: due the day it is handed down
    if text == LONG_TERM:
        return None, LONG_TERM  # standing obligation: no deadline, reviewed each month
    try:
        return api.parse_deadline(value)
    except ValueError:
        raise ValueError(text) from None


@dataclass
class Item:
    row: int
    number: str
    description: str
    responsible: list[str]
    due: date | None
    deadline_text: str
    measures: str | None
    progress: str | None
    source: str | None
    region: str | None
    region_cell: str = ""  # where the region is written: FILE:SHEET:ROW:COL (地区)


@dataclass
class Ledger:
    """A ledger file's items, and the headers of the columns it has that are not read."""

    items: list[Item]
    ignored: list[str]


def parse_ledger(
    path: Path, *, today: date, sheet: str | None = None, session: Session | None = None
) -> Ledger:
    """Every row checked; all problems reported together, naming sheet, row and column. With
    a session, the regions named are looked up too, so that an unknown one is reported with
    the rest (and nothing written)."""
    table = api.Table(path, COLUMNS, sheet=sheet, ignore_unknown=True)
    items, seen = [], {}
    for row in table:
        for column in COLUMNS:
            problem = api.control_problem(row.text(column.key))
            if problem is not None:
                table.reject(row, column.key, problem)
        region = row.text("region")
        if region and session is not None:
            try:
                api.resolve_region(session=session, ref=region, what=row.header("region"))
            except api.UserError as exc:
                table.reject(row, "region", str(exc).removeprefix(f"{row.header('region')}: "))
        number, description = row.text("number"), row.text("description")
        responsible = [n.strip() for n in _SPLIT.split(row.text("responsible")) if n.strip()]
        if not number:
            table.reject(row, "number", api.t("missing"))
        elif number in seen:
            table.reject(
                row, "number", api.t("{number} repeats row {row}", number=number, row=seen[number])
            )
        seen.setdefault(number, row.line)
        if not description:
            table.reject(row, "description", api.t("missing"))
        if not responsible:
            table.reject(row, "responsible", api.t("no responsible body"))
        try:
            due, how = parse_deadline(row.value("deadline"), today=today)
        except ValueError as exc:
            table.reject(
                row,
                "deadline",
                api.t(
                    "cannot read {value!r} (a date, 立行立改, 长期坚持 or YYYY年底前)",
                    value=str(exc),
                ),
            )
            continue
        if due is not None and not date(1990, 1, 1) <= due <= date(2100, 12, 31):
            table.reject(row, "deadline", api.t("{value} is out of range", value=due.isoformat()))
            continue
        items.append(
            Item(  # type: ignore[call-arg]  # mypy cannot count the starred arguments
                row.line,
                number,
                description,
                responsible,
                due,
                how,
                *(row.text(key) or None for key in ("measures", "progress", "source", "region")),
                f"{table.sheet.where(row.line, table.columns.get('region'))} "
                f"({row.header('region')})",
            )
        )
    table.check()
    return Ledger(items, table.sheet.ignored)


def _title(description: str) -> str:
    first = re.split(r"[。；;]", description, maxsplit=1)[0]
    return first if len(first) <= 60 else first[:59] + "…"


def _owner(session: Session, name: str, created: list[str]) -> api.Owner:
    owner = api.find_owner(session=session, ref=name)
    if owner is None:
        kind = "government" if name.endswith(("人民政府", "管理委员会")) else "department"
        owner = api.add_owner(session=session, name=name, kind=kind, check_role=False)
        created.append(name)
    return owner


def import_ledger(
    *,
    session: Session,
    path: Path,
    dry_run: bool = False,
    source: str | None = None,
    batch: str | None = None,
    sheet: str | None = None,
) -> dict[str, Any]:
    """Create an obligation per new ledger row and update rows already imported (same batch and
    number): all or nothing."""
    api.require_coordinator(session)
    if not path.is_file():
        raise api.UserError(api.t("{path}: no such file", path=path))
    today = api.today(session)
    parsed = parse_ledger(path, today=today, sheet=sheet, session=session)
    items = parsed.items
    batch = batch or path.stem
    created_owners: list[str] = []
    added = updated = 0
    existing = {
        ob.code: ob
        for ob in session.exec(
            select(api.Obligation).where(
                api.Obligation.domain == DOMAIN, api.Obligation.code.startswith(f"{batch}#")
            )
        )
    }
    for item in items:
        owners = [_owner(session, name, created_owners) for name in item.responsible]
        if item.region:
            region = api.resolve_region(session=session, ref=item.region, what=item.region_cell)
        else:  # the responsible government's region
            region_id = next((o.region_id for o in owners if o.region_id), None)
            region = session.get(api.Region, region_id) if region_id else None
        ledger = {
            "batch": batch,
            "number": item.number,
            "source": item.source or source,
            "measures": item.measures,
            "progress": item.progress,
            "deadline": item.deadline_text,
        }
        code = f"{batch}#{item.number}"
        ob = existing.get(code)
        if ob is None:
            ob = api.add_obligation(
                session=session,
                title=_title(item.description),
                body=item.description,
                leads=[o.name for o in owners],
                dues=[item.due] if item.due else [],
                domain=DOMAIN,
                code=code,
                region=region.code if region else None,
                attrs={"ledger": ledger, "overdue_rule": "supervision.overdue"},
                state="in_progress" if item.progress else "open",
                check_role=False,
            )
            added += 1
        else:
            old = dict((ob.attrs or {}).get("ledger", {}))
            if {k: old.get(k) for k in ledger} != ledger:
                # Progress reported moves an open item on, through the one state-setting
                # service (reads as of an earlier date still see it open).
                api.set_state(
                    session=session,
                    obligation=ob,
                    state="in_progress" if item.progress and ob.state == "open" else ob.state,
                    action="ledger.update",
                    changes={"attrs": {**(ob.attrs or {}), "ledger": {**old, **ledger}}},
                )
                updated += 1
    session.flush()
    summary = {
        "file": str(path),
        "batch": batch,
        "rows": len(items),
        "added": added,
        "updated": updated,
        "unchanged": len(items) - added - updated,
        "owners_created": created_owners,
        **({"ignored_columns": parsed.ignored} if parsed.ignored else {}),
    }
    api.audit_record(session, "ledger.import", "obligation", None, after=summary)
    return summary


def ledger_items(*, session: Session, as_of: date | None = None) -> list[api.Obligation]:
    """Obligations imported from a ledger (the plan's own supervision tasks are not items);
    with ``as_of``, those recorded by then (``api.seen_at``)."""
    query = select(api.Obligation).where(api.Obligation.domain == DOMAIN)
    if as_of is not None:
        query = query.where(api.Obligation.created_at <= api.seen_at(as_of))
    rows = session.exec(query.order_by(api.Obligation.id))
    return [ob for ob in rows if (ob.attrs or {}).get("ledger")]


def describe(*, session: Session, ob: api.Obligation, as_of: date) -> dict[str, Any]:
    """``items.items`` of ``ob`` on the session's connection."""
    session.flush()  # the SQL runs on the connection: it sees what was flushed
    return items(api.Lean.of_session(session), as_of=as_of, only=ob.id)[0]


def _ledger_item(session: Session, ref: str) -> api.Obligation:
    ob = api.get_obligation(session=session, ref=ref)
    if ob.domain != DOMAIN:
        raise api.UserError(api.t("obligation #{id} is not a ledger item", id=ob.id))
    return ob


def _change(session: Session, ob: api.Obligation, action: str, **changes: Any) -> None:
    before = ob.model_dump()
    for key, value in changes.items():
        setattr(ob, key, value)
    ob.version += 1
    ob.updated_at = api.now(session)
    session.add(ob)
    session.flush()
    api.audit_record(session, action, "obligation", ob.id, before=before, after=ob.model_dump())


def accept(*, session: Session, ref: str, note: str | None = None) -> api.Obligation:
    """验收: a coordinator (not the submitter) records the on-site acceptance of a close-out."""
    user = api.require_coordinator(session)
    ob = _ledger_item(session, ref)
    if ob.state != "submitted":
        raise api.Conflict(
            api.t("ledger item #{id} has no close-out application to accept", id=ob.id)
        )
    sub = session.exec(
        select(api.Submission)
        .where(api.Submission.obligation_id == ob.id, api.Submission.decision.is_(None))
        .order_by(api.Submission.id.desc())
    ).first()
    if sub is not None and sub.submitted_by == user.name:
        raise api.PermissionDenied(
            api.t("{user} applied for this close-out and may not accept it", user=user.name)
        )
    ledger = {
        **(ob.attrs or {}).get("ledger", {}),
        "accepted_at": api.now(session).isoformat(),
        "accepted_by": user.name,
        "acceptance_note": note,
    }
    _change(session, ob, "ledger.accept", attrs={**(ob.attrs or {}), "ledger": ledger})
    return ob


def reopen(*, session: Session, ref: str, reason: str) -> api.Obligation:
    """Re-inspection found the problem again (表面整改 / 虚假整改): a closed item reopens and its
    deadline counts again."""
    api.require_coordinator(session)
    reason = (reason or "").strip()
    if not reason:
        raise api.UserError(api.t("--reason: say what the re-inspection found"))
    ob = _ledger_item(session, ref)
    if ob.state != "closed":
        raise api.Conflict(
            api.t("ledger item #{id} is not closed; only a closed item can be reopened", id=ob.id)
        )
    for ms in session.exec(select(api.Milestone).where(api.Milestone.obligation_id == ob.id)):
        before = ms.model_dump()
        ms.done_on, ms.sequence, ms.updated_at = None, ms.sequence + 1, api.now(session)
        session.add(ms)
        session.flush()
        api.audit_record(
            session, "milestone.reopen", "milestone", ms.id, before=before, after=ms.model_dump()
        )
    history = [
        *(ob.attrs or {}).get("reopenings", []),
        {"at": api.today(session).isoformat(), "reason": reason},
    ]
    ledger = {
        k: v
        for k, v in (ob.attrs or {}).get("ledger", {}).items()
        if k not in ("accepted_at", "accepted_by", "acceptance_note")
    }
    api.set_state(
        session=session,
        obligation=ob,
        state="in_progress",
        action="ledger.reopen",
        changes={
            "reopened": ob.reopened + 1,
            "attrs": {**(ob.attrs or {}), "ledger": ledger, "reopenings": history},
        },
    )
    return ob


def _tally(row: dict[str, Any], info: dict[str, Any]) -> None:
    row["total"] += 1
    row["closed"] += info["stage"] == "closed"
    row["overdue"] += info["overdue"]
    row["rejected"] += info["rejected"]
    row["reopened"] += info["reopened"]


def _rate(row: dict[str, Any]) -> dict[str, Any]:
    row["closed_rate"] = round(100 * row["closed"] / row["total"], 1) if row["total"] else None
    return row


def report(*, session: Session, month_end: date) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Monthly progress (月调度) per responsible body, as of the month's last day, and the
    totals: an item led by two bodies is on both their rows but counted once in the totals."""
    rows: dict[str, dict[str, Any]] = {}
    counters = ("total", "closed", "overdue", "rejected", "reopened")
    totals: dict[str, Any] = {"owner": api.t("Total"), **dict.fromkeys(counters, 0)}
    session.flush()  # the SQL runs on the connection: it sees what was flushed
    for info in items(
        api.Lean.of_session(session), as_of=month_end + timedelta(days=1), recorded_by=month_end
    ):
        _tally(totals, info)
        for name in info["responsible"]:
            row = rows.setdefault(name, {"owner": name, **dict.fromkeys(counters, 0)})
            _tally(row, info)
    result = sorted(rows.values(), key=lambda r: (-r["overdue"], -r["total"], r["owner"]))
    return [_rate(row) for row in result], _rate(totals)


def by_stage(*, session: Session) -> Iterator[tuple[Stage, int]]:
    counts: dict[str, int] = {}
    for ob in ledger_items(session=session):
        key = stage_of(ob).key
        counts[key] = counts.get(key, 0) + 1
    for key, stage in STAGES.items():
        if key != "cancelled" or counts.get(key):
            yield stage, counts.get(key, 0)
