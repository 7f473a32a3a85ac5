"""Export obligations as JSON lines and import them back (all-or-nothing, fast in bulk).

The line shape is ``duban show --format json``'s. An import is one audited action: the
audit event records the file's fingerprint and the ids it created.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from .. import audit
from ..bulk import insert_many, reserve_ids
from ..errors import UserError
from ..i18n import t
from ..models import (
    Assignment,
    Escalation,
    Milestone,
    Obligation,
    Owner,
    Plan,
    Region,
    Role,
    Site,
    State,
    Target,
)
from .base import now, require_coordinator
from .listing import ListFilter, iterate
from .obligations import new_uid, scope_of
from .owners import find_owner
from .regions import add_region

BATCH = 2000


def export_rows(*, session: Session, as_of: date) -> Iterator[dict[str, Any]]:
    """Every obligation in ``show`` shape, in id order."""
    batch: list[dict[str, Any]] = []
    for row in iterate(session=session, f=ListFilter(), as_of=as_of, sort="id", batch=BATCH):
        batch.append(row)
        if len(batch) == BATCH:
            yield from _complete(session, batch)
            batch = []
    yield from _complete(session, batch)


def _complete(session: Session, rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    if not rows:
        return
    ids = [r["id"] for r in rows]
    obs = {o.id: o for o in session.exec(select(Obligation).where(Obligation.id.in_(ids)))}
    extra: dict[int, dict[str, list[Any]]] = {
        i: {"assignments": [], "milestones": [], "targets": [], "escalations": []} for i in ids
    }
    for ob_id, role, name in session.exec(
        select(Assignment.obligation_id, Assignment.role, Owner.name)
        .join(Owner, Owner.id == Assignment.owner_id)
        .where(Assignment.obligation_id.in_(ids))
        .order_by(Assignment.id)
    ):
        extra[ob_id]["assignments"].append({"owner": name, "role": role})
    for m in session.exec(
        select(Milestone)
        .where(Milestone.obligation_id.in_(ids))
        .order_by(Milestone.due, Milestone.id)
    ):
        extra[m.obligation_id]["milestones"].append(
            {
                "id": m.id,
                "title": m.title,
                "title_en": m.title_en,
                "due": m.due.isoformat(),
                "done": m.done_on.isoformat() if m.done_on else None,
            }
        )
    for tg in session.exec(select(Target).where(Target.obligation_id.in_(ids)).order_by(Target.id)):
        extra[tg.obligation_id]["targets"].append(
            {
                "id": tg.id,
                "indicator": tg.indicator,
                "name": tg.name,
                "name_en": tg.name_en,
                "comparator": tg.comparator,
                "value": tg.value,
                "unit": tg.unit,
                "due": tg.due.isoformat(),
                "scope": scope_of(session, tg.region_id, tg.site_id),
                "baseline": None
                if tg.baseline_value is None
                else {
                    "value": tg.baseline_value,
                    "date": tg.baseline_date.isoformat() if tg.baseline_date else None,
                },
            }
        )
    for e in session.exec(
        select(Escalation).where(Escalation.obligation_id.in_(ids)).order_by(Escalation.id)
    ):
        extra[e.obligation_id]["escalations"].append(
            {
                "id": e.id,
                "level": e.level,
                "rule": e.rule,
                "reason": e.reason,
                "opened": e.opened_at.isoformat(),
                "resolved": e.resolved_at.isoformat() if e.resolved_at else None,
            }
        )
    plans = {p.id: p.key for p in session.exec(select(Plan))}
    for row in rows:
        ob = obs[row["id"]]
        yield {
            **row,
            "body": ob.body,
            "body_en": ob.body_en,
            "plan": plans.get(ob.plan_id),
            "parent": ob.parent_id,
            "version": ob.version,
            **extra[row["id"]],
        }


# Import ----------------------------------------------------------------------------------
_REQUIRED = ("title",)


def _fail(where: str, message: str) -> UserError:
    return UserError(f"{where}: {message}")


def _as_date(value: Any, where: str) -> date:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise _fail(where, t("not a date (YYYY-MM-DD): {value!r}", value=value)) from None
    if not date(1990, 1, 1) <= day <= date(2100, 12, 31):
        raise _fail(where, t("date out of range: {value}", value=value))
    return day


def _read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UserError(
            t("{path}: cannot read: {why}", path=path, why=exc.strerror or exc)
        ) from None
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise _fail(
                        f"{path}:{number}", t("not valid JSON: {why}", why=exc.msg)
                    ) from None
                if not isinstance(data, dict):
                    raise _fail(f"{path}:{number}", t("expected a JSON object"))
                yield number, data
        except UnicodeDecodeError:
            raise UserError(t("{path}: not UTF-8 text", path=path)) from None


def _validate(path: Path, number: int, data: dict[str, Any]) -> dict[str, Any]:
    where = f"{path}:{number}"
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _fail(where, t("`title` must be a non-empty string"))
    state = data.get("state") or State.open
    if state not in State.__members__:
        raise _fail(where, t("unknown state {value!r}", value=state))
    assignments = data.get("assignments")
    if assignments is None:
        assignments = [{"owner": o, "role": "lead"} for o in data.get("lead") or []] + [
            {"owner": o, "role": "participant"} for o in data.get("participants") or []
        ]
    if not isinstance(assignments, list):
        raise _fail(where, t("`assignments` must be a list"))
    for a in assignments:
        if not isinstance(a, dict) or not isinstance(a.get("owner"), str) or not a["owner"].strip():
            raise _fail(where, t("each assignment needs an owner name"))
        if a.get("role") not in Role.__members__:
            raise _fail(where, t("unknown role {value!r}", value=a.get("role")))
    if not any(a["role"] == Role.lead for a in assignments):
        raise _fail(where, t("an obligation needs at least one lead owner"))
    milestones = []
    for j, m in enumerate(data.get("milestones") or []):
        if not isinstance(m, dict):
            raise _fail(where, t("milestones[{j}] must be an object", j=j))
        milestones.append(
            {
                "title": m.get("title") or title,
                "title_en": m.get("title_en"),
                "due": _as_date(m.get("due"), f"{where}: milestones[{j}].due"),
                "done_on": _as_date(m["done"], f"{where}: milestones[{j}].done")
                if m.get("done")
                else None,
            }
        )
    targets = []
    for j, tg in enumerate(data.get("targets") or []):
        w = f"{where}: targets[{j}]"
        if not isinstance(tg, dict) or not tg.get("indicator") or not tg.get("comparator"):
            raise _fail(w, t("a target needs indicator and comparator"))
        value = tg.get("value")
        if value is not None and not isinstance(value, int | float):
            raise _fail(w, t("value must be a number, not {value!r}", value=value))
        baseline = tg.get("baseline") or {}
        targets.append(
            {
                **tg,
                "due": _as_date(tg.get("due"), f"{w}.due"),
                "baseline_value": baseline.get("value"),
                "baseline_date": _as_date(baseline["date"], f"{w}.baseline")
                if baseline.get("date")
                else None,
            }
        )
    return {
        "raw": data,
        "title": title.strip(),
        "state": state,
        "assignments": assignments,
        "milestones": milestones,
        "targets": targets,
    }


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_obligations(*, session: Session, path: Path, progress: Any = None) -> dict[str, Any]:
    """Import a JSONL export; creates missing owners and regions by name. All or nothing."""
    require_coordinator(session)
    if not path.is_file():
        raise UserError(t("{path}: no such file", path=path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    owners = {o.name: o.id for o in session.exec(select(Owner))}
    created_owners: list[str] = []

    def owner_id(name: str) -> int:
        name = name.strip()
        if name not in owners:
            found = find_owner(session=session, ref=name)
            if found is None:
                found = Owner(name=name)
                session.add(found)
                session.flush()
                created_owners.append(name)
            owners[name] = found.id
        return owners[name]

    regions = {r.code: r for r in session.exec(select(Region))}
    regions_by_name = {r.name: r for r in regions.values()}

    def region_id(raw: dict[str, Any]) -> int | None:
        code, name = raw.get("region_code"), raw.get("region")
        if not code and not name:
            return None
        region = regions.get(code) if code else None
        region = region or regions_by_name.get(name)
        if region is None:
            region = add_region(
                session=session, code=code or name, name=name or code, level="county", audited=False
            )
            regions[region.code] = regions_by_name[region.name] = region
        return region.id

    plans = {p.key: p.id for p in session.exec(select(Plan))}
    sites = {s.key: s.id for s in session.exec(select(Site))}
    stamp = now(session)
    id_map: dict[Any, int] = {}
    first_id = last_id = None
    all_ids: list[int] = []
    total = 0
    # Stream the file a batch at a time; a bad line raises and the transaction rolls back.
    for chunk in _batches((_validate(path, n, d) for n, d in _read_lines(path)), BATCH):
        new_ids = reserve_ids(session, Obligation, len(chunk))
        ob_rows, assignments, milestones, targets = [], [], [], []
        for r, new_id in zip(chunk, new_ids, strict=True):
            raw = r["raw"]
            ob_rows.append(
                {
                    "id": new_id,
                    "plan_id": plans.get(raw.get("plan")),
                    "code": raw.get("code"),
                    "seq": int(raw.get("seq") or 0),
                    "title": r["title"],
                    "title_en": raw.get("title_en"),
                    "body": raw.get("body"),
                    "body_en": raw.get("body_en"),
                    "domain": raw.get("domain") or "general",
                    "region_id": region_id(raw),
                    "parent_id": id_map.get(raw.get("parent")),
                    "state": r["state"],
                    "version": 1,
                    "reopened": 0,
                    "attrs": None,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
            if raw.get("id") is not None:
                id_map[raw["id"]] = new_id
            seen = set()
            for a in r["assignments"]:
                key = (owner_id(a["owner"]), a["role"])
                if key not in seen:
                    seen.add(key)
                    assignments.append(
                        {"obligation_id": new_id, "owner_id": key[0], "role": key[1]}
                    )
            milestones.extend(
                {"obligation_id": new_id, "uid": new_uid(), "sequence": 0, "updated_at": stamp, **m}
                for m in r["milestones"]
            )
            for tg in r["targets"]:
                scope = tg.get("scope") or {}
                targets.append(
                    {
                        "obligation_id": new_id,
                        "indicator": tg["indicator"],
                        "name": tg.get("name"),
                        "name_en": tg.get("name_en"),
                        "comparator": tg["comparator"],
                        "value": tg.get("value"),
                        "unit": tg.get("unit"),
                        "due": tg["due"],
                        "baseline_value": tg["baseline_value"],
                        "baseline_date": tg["baseline_date"],
                        "text": tg.get("text"),
                        "attrs": None,
                        "uid": new_uid(),
                        "sequence": 0,
                        "updated_at": stamp,
                        "site_id": sites.get(scope.get("key"))
                        if scope.get("type") == "site"
                        else None,
                        "region_id": region_id(
                            {"region_code": scope.get("code"), "region": scope.get("name")}
                        )
                        if scope.get("type") == "region"
                        else None,
                    }
                )
        for model, rows in (
            (Obligation, ob_rows),
            (Assignment, assignments),
            (Milestone, milestones),
            (Target, targets),
        ):
            insert_many(session, model, rows)
        all_ids.extend(new_ids)
        first_id = first_id or new_ids[0]
        last_id = new_ids[-1]
        total += len(chunk)
        if progress is not None:
            progress(len(chunk))
    if not total:
        raise UserError(t("{path}: no obligations in the file", path=path))
    summary = {
        "file": str(path),
        "sha256": digest,
        "obligations": total,
        "first_id": first_id,
        "last_id": last_id,
        "owners_created": created_owners,
    }
    # One event for the batch, naming every id it created: each one's history starts here.
    audit.record(
        session, "import.obligations", "obligation", None, after={**summary, "ids": all_ids}
    )
    return summary
