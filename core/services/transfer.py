"""Export obligations as JSON lines and import them back (all-or-nothing, fast in bulk).

The line shape is ``duban show --format json``'s. An import is one audited action: the
audit event records the file's fingerprint and the ids it created.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from itertools import pairwise, repeat
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from .. import audit, search, visibility
from ..batch_writes import (
    insert_many,
    insert_tuples,
    loading,
    new_uids,
    reserve_ids,
    stored_as,
    without_gc,
)
from ..errors import Conflict, NotFound, UserError, located
from ..filters import ObligationFilter
from ..i18n import t
from ..models import (
    Assignment,
    Escalation,
    Milestone,
    Obligation,
    Owner,
    Plan,
    Region,
    Site,
    Target,
)
from ..obligation_lines import Reader, failure
from .base import actor, now, require_coordinator, snapshot
from .escalations import as_of_then
from .listing import iterate
from .obligations import new_uid, scope_of, set_state
from .owners import add_owner, find_owner
from .regions import add_region
from .targets import target_scope

BATCH = 2000  # obligations exported at a time (an import's batches: obligation_lines.BATCH)
# Rebuilding the indexes pays from about this many new lines (LINE_BYTES: a line of an
# export without bodies, a little more than most; a file of longer lines is taken for fewer).
LOAD_AT = 10_000
LINE_BYTES = 1000
# A helper process reads and checks the lines of a file from about this many lines.
HELPED_AT = 10_000
LOADED = ("obligation", "assignment", "milestone")
# The columns of the rows an import writes, in the order its tuples hold them.
_OBLIGATION = (
    "id",
    "plan_id",
    "code",
    "seq",
    "title",
    "title_en",
    "body",
    "body_en",
    "domain",
    "region_id",
    "parent_id",
    "state",
    "reopened",
    "version",
    "attrs",
    "created_at",
    "updated_at",
)
_ASSIGNMENT = ("obligation_id", "owner_id", "role")
_MILESTONE = (
    "obligation_id",
    "title",
    "title_en",
    "due",
    "done_on",
    "uid",
    "sequence",
    "updated_at",
)


def export_rows(*, session: Session, as_of: date) -> Iterator[dict[str, Any]]:
    """Every obligation in ``show`` shape, in id order, as the record stood at the end of
    ``as_of`` (``visibility``, as ``show`` sees it)."""
    batch: list[dict[str, Any]] = []
    for row in iterate(session=session, f=ObligationFilter(sort="id"), as_of=as_of, batch=BATCH):
        batch.append(row)
        if len(batch) == BATCH:
            yield from _complete(session, batch, as_of)
            batch = []
    yield from _complete(session, batch, as_of)


def _complete(
    session: Session, rows: list[dict[str, Any]], as_of: date
) -> Iterator[dict[str, Any]]:
    if not rows:
        return
    seen = visibility.seen_at(as_of)
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
                "done": done.isoformat() if (done := visibility.done_recorded(m, seen)) else None,
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
                if tg.baseline_value is None and tg.baseline_date is None
                else {
                    "value": tg.baseline_value,
                    "date": tg.baseline_date.isoformat() if tg.baseline_date else None,
                },
            }
        )
    escalations = session.exec(
        select(Escalation)
        .where(Escalation.obligation_id.in_(ids), Escalation.opened_at <= seen)
        .order_by(Escalation.id)
    ).all()
    for e in as_of_then(session=session, rows=escalations, cutoff=seen):
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
# An obligation in the file is the same as one in the database when both have the same plan
# and code (without a code: the same plan and title). Importing it again changes nothing when
# they agree; when they differ the import stops with a Conflict listing every difference,
# unless ``update`` is given, which makes the database agree with the file.
_SCALARS = ("title", "title_en", "body", "body_en", "domain", "state", "region_id")


def _key(plan_id: int | None, code: str | None, title: str) -> tuple[Any, ...]:
    return (plan_id, "code", code) if code else (plan_id, "title", title)


def _pick(column: list[Any], chosen: list[int] | None) -> list[Any]:
    """``column``'s items at the places ``chosen``; all of them where None."""
    return column if chosen is None else [column[i] for i in chosen]


def _spread(values: list[Any], starts: list[int]) -> list[Any]:
    """Each of ``values`` repeated as many times as its line has items (owners, milestones):
    the items of line ``i`` run from ``starts[i]`` to ``starts[i + 1]``."""
    return [v for v, (a, b) in zip(values, pairwise(starts), strict=True) for _ in range(b - a)]


def _comparable(
    *,
    scalars: dict[str, Any],
    assignments: list[tuple[int, str]],
    milestones: list[dict[str, Any]],
    targets: list[dict[str, Any]],
) -> dict[str, Any]:
    """What two versions of an obligation are compared on."""
    return {
        **{key: scalars.get(key) for key in _SCALARS},
        "assignments": sorted(set(assignments)),
        "milestones": sorted(
            (m["due"], m["title"], m.get("title_en"), m.get("done_on")) for m in milestones
        ),
        "targets": sorted(
            (
                tg["indicator"],
                tg["due"],
                tg["comparator"],
                tg["value"],
                tg["region_id"],
                tg["site_id"],
                tg["baseline_value"],
                tg["baseline_date"],
            )
            for tg in targets
        ),
    }


def _stored(session: Session, ob: Obligation) -> dict[str, Any]:
    rows = session.exec(select(Assignment).where(Assignment.obligation_id == ob.id)).all()
    milestones = session.exec(select(Milestone).where(Milestone.obligation_id == ob.id)).all()
    targets = session.exec(select(Target).where(Target.obligation_id == ob.id)).all()
    return _comparable(
        scalars=snapshot(ob),
        assignments=[(a.owner_id, a.role) for a in rows],
        milestones=[snapshot(m) for m in milestones],
        targets=[snapshot(tg) for tg in targets],
    )


def import_obligations(
    *, session: Session, path: Path, update: bool = False, progress: Any = None
) -> dict[str, Any]:
    """Import a JSONL export; creates missing owners and regions by name. All or nothing.

    Obligations already there (same plan and code) are left as they are when the file
    agrees; when it differs, ``update`` brings them in line, otherwise a Conflict lists
    every difference.
    """
    with without_gc():
        return _import(session, path, update, progress)


def _import(session: Session, path: Path, update: bool, progress: Any) -> dict[str, Any]:
    require_coordinator(session)
    if not path.is_file():
        raise UserError(t("{path}: no such file", path=path))
    with path.open("rb") as handle:  # a block at a time: the file is not held whole
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    owners = {o.name: o.id for o in session.exec(select(Owner))}
    created_owners: list[str] = []

    def owner_id(name: str) -> int:
        name = name.strip()
        if name not in owners:
            found = find_owner(session=session, ref=name)
            if found is None:
                found = add_owner(session=session, name=name, check_role=False)
                created_owners.append(name)
            owners[name] = found.id
        return owners[name]

    regions = {r.code: r for r in session.exec(select(Region))}
    regions_by_name = {r.name: r for r in regions.values()}

    def region_id(code: str | None, name: str | None) -> int | None:
        if not code and not name:
            return None
        region = regions.get(code) if code else None
        region = region or regions_by_name.get(name or "")
        if region is None:
            region = add_region(
                session=session, code=code or name, name=name or code, level="county", audited=False
            )
            regions[region.code] = regions_by_name[region.name] = region
            region_of.clear()
        return region.id

    # (region code, name) -> region id, as region_id answers until it creates a region.
    region_of: dict[tuple[str | None, str | None], int | None] = {}

    plans = {p.key: p.id for p in session.exec(select(Plan))}
    sites = {s.key: s.id for s in session.exec(select(Site))}
    existing = {
        _key(plan_id, code, title): ob_id
        for ob_id, plan_id, code, title in session.exec(
            select(Obligation.id, Obligation.plan_id, Obligation.code, Obligation.title)
        )
    }
    stamp = now(session)
    # The new rows' stamps and dates as the driver takes them, each converted once.
    stored_stamp = stored_as(session, Obligation, "updated_at")(stamp)
    stored_day = stored_as(session, Milestone, "due")
    days: dict[int | None, Any] = {None: None}  # dates by ordinal, as the driver takes them
    id_map: dict[Any, int] = {}
    seen: dict[tuple[Any, ...], int] = {}
    first_id = last_id = None
    created = unchanged = 0
    updated: list[str] = []
    conflicts: list[str] = []
    all_ids: list[int] = []
    total = 0

    def resolve(r: dict[str, Any], ob_region: int | None) -> dict[str, Any]:
        """The parts of a validated line that need the database."""
        where = f"{path}:{r['line']}"
        with located(where):
            region = region_id(r["region_code"], r["region"])
            assignments = [(owner_id(a["owner"]), a["role"]) for a in r["assignments"]]
        targets = []
        for j, tg in enumerate(r["targets"]):
            scope = tg["scope"] or {}
            with located(f"{where}: targets[{j}]"):
                if scope.get("type") == "site":
                    site_id = sites.get(scope.get("key"))
                    if site_id is None:
                        raise NotFound(t("unknown site {key!r}", key=scope.get("key")))
                    scoped = (None, site_id)
                else:
                    scoped = target_scope(
                        session=session,
                        obligation=None,
                        region_id=region_id(scope.get("code"), scope.get("name"))
                        if scope
                        else (region if region is not None else ob_region),
                    )
            targets.append({**tg, "region_id": scoped[0], "site_id": scoped[1]})
        return {"region_id": region, "assignments": assignments, "targets": targets}

    # A load of about as many obligations as are stored, or more, rebuilds the indexes
    # faster than it keeps them; a file of many lines is read and checked by a helper
    # process while the batches before are written.
    lines_in_file = path.stat().st_size // LINE_BYTES
    large = lines_in_file >= max(LOAD_AT, len(existing))
    # A batch at a time; a bad line raises and the transaction rolls back. The new rows are
    # indexed for search once, when the loop ends (FTS5 writes fewer and larger segments than
    # batch by batch), and a large load's indexes built again then (or when it fails). Rows
    # updated meanwhile were there before: their triggers keep them.
    loaded = False
    with Reader(path, helped=lines_in_file >= HELPED_AT) as reader, ExitStack() as loads:
        for lines in reader:
            numbers = lines.numbers
            plan_ids = [plans.get(key) if key else None for key in lines.text("plan")]
            fresh: list[int] = []  # the places in the batch of the lines that are new
            for i, key in enumerate(map(_key, plan_ids, lines.text("code"), lines.titles)):
                if key in seen:
                    raise failure(
                        f"{path}:{numbers[i]}",
                        t(
                            "the same obligation as line {line} (same plan and code)",
                            line=seen[key],
                        ),
                    )
                seen[key] = numbers[i]
                ob_id = existing.get(key)
                if ob_id is None:
                    fresh.append(i)
                    continue
                r = {**lines.line(i), "plan_id": plan_ids[i]}
                ob = session.get(Obligation, ob_id)
                assert ob is not None
                if r["id"] is not None:
                    id_map[r["id"]] = ob.id
                found = resolve(r, ob.region_id)
                incoming = _comparable(
                    scalars={**r, "region_id": found["region_id"]},
                    assignments=found["assignments"],
                    milestones=r["milestones"],
                    targets=found["targets"],
                )
                stored = _stored(session, ob)
                changed = [key for key in incoming if incoming[key] != stored[key]]
                label = r["code"] or r["title"]
                if not changed:
                    unchanged += 1
                elif not update:
                    conflicts.append(
                        f"{path}:{r['line']}: "
                        + t(
                            "{label} (#{id}) differs in {fields}",
                            label=label,
                            id=ob.id,
                            fields=", ".join(changed),
                        )
                    )
                else:
                    _update(session, ob, r, found, changed, stamp)
                    updated.append(f"{label} (#{ob.id}): {', '.join(changed)}")
            total += len(numbers)
            if progress is not None:
                progress(len(numbers))
            if not fresh or conflicts:
                continue
            new_ids = reserve_ids(session, Obligation, len(fresh))
            ob_ids: list[int | None] = [None] * len(numbers)  # each line's new id
            region_ids: list[int | None] = []
            parent_ids: list[int | None] = []
            targets: list[dict[str, Any]] = []
            owners_unknown = not owners.keys() >= set(lines.owners)
            regions_named = list(zip(lines.text("region_code"), lines.text("region"), strict=True))
            for i, new_id in zip(fresh, new_ids, strict=True):
                ob_ids[i] = new_id
                if lines.ids[i] is not None:
                    id_map[lines.ids[i]] = new_id
                parent_ids.append(id_map.get(lines.parents[i]))
                if i in lines.targets:
                    found = resolve(lines.line(i), None)
                    region_ids.append(found["region_id"])
                    targets.extend(_target_row(new_id, tg, stamp) for tg in found["targets"])
                    continue
                # resolve()'s answers, from the look-ups made already where there are some.
                region = region_of.get(regions_named[i], -1)
                if region == -1:
                    with located(f"{path}:{numbers[i]}"):
                        region = region_of[regions_named[i]] = region_id(*regions_named[i])
                region_ids.append(region)
                if owners_unknown:
                    for name in lines.owners[lines.owned[i] : lines.owned[i + 1]]:
                        if name not in owners:
                            with located(f"{path}:{numbers[i]}"):
                                owner_id(name)
            chosen = None if len(fresh) == len(numbers) else fresh
            ob_rows = list(
                zip(
                    new_ids,
                    _pick(plan_ids, chosen),
                    _pick(lines.text("code"), chosen),
                    _pick(lines.seqs, chosen),
                    _pick(lines.titles, chosen),
                    _pick(lines.text("title_en"), chosen),
                    _pick(lines.text("body"), chosen),
                    _pick(lines.text("body_en"), chosen),
                    _pick(lines.text("domain"), chosen),
                    region_ids,
                    parent_ids,
                    _pick(lines.states, chosen),
                    repeat(0),
                    repeat(1),
                    repeat(None),
                    repeat(stored_stamp),
                    repeat(stored_stamp),
                )
            )
            # Each owner and milestone with its line's new id; those of lines already there
            # (None) are left out. An owner named twice in a line is assigned once.
            holders = _spread(ob_ids, lines.owned)
            owner_ids = map(owners.get, lines.owners)
            assignments = list(
                dict.fromkeys(
                    row
                    for row in zip(holders, owner_ids, lines.roles, strict=True)
                    if row[0] is not None
                )
            )
            for day in {*lines.dues, *lines.done} - days.keys():
                days[day] = stored_day(date.fromordinal(day))
            milestones = [
                row
                for row in zip(
                    _spread(ob_ids, lines.carried),
                    lines.milestone_titles,
                    lines.milestone_titles_en,
                    map(days.__getitem__, lines.dues),
                    map(days.__getitem__, lines.done),
                    strict=True,
                )
                if row[0] is not None
            ]
            if not loaded:
                if large:
                    loads.enter_context(loading(session, LOADED, keep=("obligation_id",)))
                loads.enter_context(search.indexed_after(session))
                loaded = True
            insert_tuples(session, Obligation, _OBLIGATION, ob_rows, encoded=_OBLIGATION)
            insert_tuples(session, Assignment, _ASSIGNMENT, assignments)
            insert_tuples(
                session,
                Milestone,
                _MILESTONE,
                [
                    (*row, uid, 0, stored_stamp)
                    for row, uid in zip(milestones, new_uids(len(milestones)), strict=True)
                ],
                encoded=_MILESTONE,
            )
            insert_many(session, Target, targets)
            all_ids.extend(new_ids)
            first_id = first_id or new_ids[0]
            last_id = new_ids[-1]
            created += len(fresh)
    if conflicts:
        raise Conflict(
            "\n".join([*conflicts, t("nothing was imported; give --update to bring them in line")])
        )
    if not total:
        raise UserError(t("{path}: no obligations in the file", path=path))
    summary = {
        "file": str(path),
        "sha256": digest,
        "obligations": created,
        "first_id": first_id,
        "last_id": last_id,
        "unchanged": unchanged,
        "updated": updated,
        "owners_created": created_owners,
    }
    # One event for the batch, naming every id it created: each one's history starts here.
    audit.record(
        session, "import.obligations", "obligation", None, after={**summary, "ids": all_ids}
    )
    return summary


def _target_row(obligation_id: int, tg: dict[str, Any], stamp: Any) -> dict[str, Any]:
    return {
        "obligation_id": obligation_id,
        **{key: value for key, value in tg.items() if key != "scope"},
        "attrs": None,
        "uid": new_uid(),
        "sequence": 0,
        "updated_at": stamp,
    }


def _update(
    session: Session,
    ob: Obligation,
    r: dict[str, Any],
    found: dict[str, Any],
    changed: list[str],
    stamp: Any,
) -> None:
    """Bring ``ob`` in line with the file: its fields, owners, milestones and targets.
    Milestones are matched by due date and targets by indicator, due date and scope, so
    the ones that stay keep their calendar UIDs. A change of state is recorded as every
    other is (``set_state``), so that reads as of an earlier date see the state then."""
    fields = {key: r[key] for key in ("title", "title_en", "body", "body_en", "domain")}
    set_state(
        session=session,
        obligation=ob,
        state=r["state"],
        action="obligation.import",
        changes={**fields, "region_id": found["region_id"]},
    )
    if "assignments" in changed:
        for row in session.exec(select(Assignment).where(Assignment.obligation_id == ob.id)):
            session.delete(row)
        session.flush()
        for owner, role in dict.fromkeys(found["assignments"]):
            session.add(Assignment(obligation_id=ob.id, owner_id=owner, role=role))
    if "milestones" in changed:
        stored = {
            m.due: m
            for m in session.exec(select(Milestone).where(Milestone.obligation_id == ob.id))
        }
        for m in r["milestones"]:
            row = stored.pop(m["due"], None)
            if row is None:
                row = Milestone(obligation_id=ob.id, uid=new_uid(), **{**m, "done_on": None})
            else:
                row.title, row.title_en = m["title"], m["title_en"]
                row.sequence += 1
            if row.done_on != m["done_on"]:
                # Done as of now, as ``milestone done`` records it: earlier reads don't see it.
                row.done_on = m["done_on"]
                row.done_at, row.done_by = (stamp, actor(session)) if m["done_on"] else (None, None)
            row.updated_at = stamp
            session.add(row)
        for row in stored.values():
            session.delete(row)
    if "targets" in changed:
        stored_targets = {
            (tg.indicator, tg.due, tg.region_id, tg.site_id): tg
            for tg in session.exec(select(Target).where(Target.obligation_id == ob.id))
        }
        for tg in found["targets"]:
            key = (tg["indicator"], tg["due"], tg["region_id"], tg["site_id"])
            row = stored_targets.pop(key, None)
            if row is None:
                session.add(Target(**_target_row(ob.id, tg, stamp)))
                continue
            for field_name, value in tg.items():
                if field_name != "scope":
                    setattr(row, field_name, value)
            row.sequence += 1
            row.updated_at = stamp
            session.add(row)
        for row in stored_targets.values():
            session.delete(row)
    session.flush()
