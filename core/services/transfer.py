"""Export obligations as JSON lines and import them back (all-or-nothing, fast in bulk).

The line shape is ``duban show --format json``'s. An import is one audited action: the
audit event records the file's fingerprint and the ids it created.
"""

from __future__ import annotations

import hashlib
import json
import json.scanner
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
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
from ..clock import EARLIEST, LATEST, parse_date
from ..controls import check_text
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
    Role,
    Site,
    State,
    Target,
)
from ..spreadsheet_reader import text_encoding
from .base import actor, now, require_coordinator, snapshot
from .escalations import as_of_then
from .listing import iterate
from .obligations import check_obligation, new_uid, scope_of, set_state
from .owners import add_owner, find_owner
from .regions import add_region
from .targets import check_target, target_scope

BATCH = 2000
# Rebuilding the indexes pays from about this many new lines (LINE_BYTES: a line of an
# export without bodies, a little more than most; a file of longer lines is taken for fewer).
LOAD_AT = 10_000
LINE_BYTES = 1000
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


def _fail(where: str, message: str) -> UserError:
    return UserError(f"{where}: {message}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _string(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _fail(where, t("`{key}` must be a string, not {value}", key=key, value=_short(value)))


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, t("value must be a number, not {value}", value=_short(value)))
    return float(value)


def _as_date(value: Any, what: str) -> date:
    if not isinstance(value, str):
        raise UserError(t("{what}: not a date (YYYY-MM-DD): {value!r}", what=what, value=value))
    return parse_date(value, what=what)


def _read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """The file's objects, a line at a time (exports run to gigabytes), each with whether
    its line is plain: without a control character or a backslash, so that no string in it
    holds a control character (JSON escapes start with a backslash; a raw C0 character is
    not valid JSON)."""
    try:
        handle = path.open(encoding=text_encoding(path), newline="")
    except OSError as exc:
        raise UserError(
            t("{path}: cannot read: {why}", path=path, why=exc.strerror or exc)
        ) from None
    with handle:
        for number, line in enumerate(handle, 1):
            text = line.rstrip("\r\n")
            # The common line is one object, nothing around it: the decoder's scanner alone,
            # without json.loads' checks of the text around the object.
            try:
                data, end = _scan(text, 0)
            except (StopIteration, ValueError, RecursionError):
                end = -1
            if end != len(text):
                if not line.strip():
                    continue
                try:
                    data = json.loads(text)
                except RecursionError:
                    raise _fail(f"{path}:{number}", t("nested too deeply")) from None
                except json.JSONDecodeError as exc:
                    raise _fail(
                        f"{path}:{number}:{exc.colno}", t("not valid JSON: {why}", why=exc.msg)
                    ) from None
            if not isinstance(data, dict):
                raise _fail(f"{path}:{number}", t("expected a JSON object"))
            yield number, data, _UNPLAIN.search(text) is None


_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[attr-defined]
_UNPLAIN = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
_TEXTS = ("title_en", "body", "body_en", "code", "domain", "plan", "region", "region_code")
_STR_OR_NONE = frozenset((str, type(None)))
_STATES = frozenset(State.__members__)
_ROLES = frozenset(Role.__members__)


def _quick(
    path: Path, number: int, data: dict[str, Any], dates: dict[str, date]
) -> dict[str, Any] | None:
    """``_validate``'s result for a plain line (``_read_lines``) that passes each of its
    checks in the common way, else None: then ``_validate`` runs and says what is wrong.
    Plain dict and type checks: no control character can hide in a plain line, so the
    checks of the texts hold already. ``dates`` keeps the dates already read."""
    get = data.get
    title = get("title")
    if type(title) is not str or not (title := title.strip()):
        return None
    values = list(map(get, _TEXTS))
    if not _STR_OR_NONE.issuperset(map(type, values)):
        return None
    texts = dict(zip(_TEXTS, values, strict=True))
    state = get("state") or State.open
    if state is not State.open and (type(state) is not str or state not in _STATES):
        return None
    assignments = get("assignments")
    if assignments is None:
        leads, participants = get("lead") or [], get("participants") or []
        if type(leads) is not list or type(participants) is not list:
            return None
        assignments = [{"owner": o, "role": "lead"} for o in leads] + [
            {"owner": o, "role": "participant"} for o in participants
        ]
    elif type(assignments) is not list:
        return None
    lead = False
    for a in assignments:
        if type(a) is not dict:
            return None
        owner, role = a.get("owner"), a.get("role")
        if type(owner) is not str or not owner.strip() or type(role) is not str:
            return None
        if role not in _ROLES:
            return None
        lead = lead or role == Role.lead
    if not lead:
        return None
    raw_milestones = get("milestones") or []
    if type(raw_milestones) is not list:
        return None
    milestones = []
    for m in raw_milestones:
        if type(m) is not dict:
            return None
        m_title, m_title_en, due, done = (
            m.get("title"),
            m.get("title_en"),
            m.get("due"),
            m.get("done"),
        )
        if m_title is not None and type(m_title) is not str:
            return None
        if m_title_en is not None and type(m_title_en) is not str:
            return None
        if type(due) is not str or (day := dates.get(due) or _day(due, dates)) is None:
            return None
        done_on = (dates.get(done) or _day(done, dates)) if done and type(done) is str else None
        if done and done_on is None:
            return None
        milestones.append(
            {"title": m_title or title, "title_en": m_title_en, "due": day, "done_on": done_on}
        )
    raw_targets = get("targets") or []
    if type(raw_targets) is not list:
        return None
    # Everything before the targets passed, so the targets' own errors come first, as there.
    targets = _targets(f"{path}:{number}", raw_targets) if raw_targets else []
    seq = get("seq") or 0
    if type(seq) is not int or not 0 <= seq < 2**31:
        return None
    return _line(data, number, texts, title, state, seq, assignments, milestones, targets)


def _line(
    data: dict[str, Any],
    number: int,
    texts: dict[str, str | None],
    title: str,
    state: str,
    seq: int,
    assignments: list[dict[str, Any]],
    milestones: list[dict[str, Any]],
    targets: list[dict[str, Any]],
) -> dict[str, Any]:
    """A checked line as the import takes it (``_quick`` and ``_validate`` alike)."""
    return {
        "raw": data,
        "line": number,
        **texts,
        "title": title,
        "domain": texts["domain"] or "general",
        "state": state,
        "seq": seq,
        "assignments": assignments,
        "milestones": milestones,
        "targets": targets,
    }


def _day(text: str, dates: dict[str, date]) -> date | None:
    """The date ``parse_date`` reads in ``text``, kept in ``dates``; None where it refuses."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if not EARLIEST <= day <= LATEST:
        return None
    dates[text] = day
    return day


def _validate(path: Path, number: int, data: dict[str, Any]) -> dict[str, Any]:
    """The checks that need no database: those of ``duban add`` and ``duban target add``."""
    where = f"{path}:{number}"
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _fail(where, t("`title` must be a non-empty string"))
    texts = {
        key: _string(data, key, where)
        for key in (
            "title_en",
            "body",
            "body_en",
            "code",
            "domain",
            "plan",
            "region",
            "region_code",
        )
    }
    state = data.get("state") or State.open
    with located(where):
        title = check_obligation(
            title=title,
            title_en=texts["title_en"],
            body=texts["body"],
            body_en=texts["body_en"],
            code=texts["code"],
            domain=texts["domain"] or "general",
            state=state if isinstance(state, str) else _short(state),
        )
        check_text(texts["region"], "region", single_line=True)
        check_text(texts["region_code"], "region_code", single_line=True)
    assignments = data.get("assignments")
    if assignments is None:
        leads, participants = data.get("lead") or [], data.get("participants") or []
        if not isinstance(leads, list) or not isinstance(participants, list):
            raise _fail(where, t("`lead` and `participants` must be lists"))
        assignments = [{"owner": o, "role": "lead"} for o in leads] + [
            {"owner": o, "role": "participant"} for o in participants
        ]
    if not isinstance(assignments, list):
        raise _fail(where, t("`assignments` must be a list"))
    for j, a in enumerate(assignments):
        if not isinstance(a, dict) or not isinstance(a.get("owner"), str) or not a["owner"].strip():
            raise _fail(where, t("each assignment needs an owner name"))
        role = a.get("role")
        if not isinstance(role, str) or role not in Role.__members__:
            raise _fail(where, t("unknown role {value}", value=_short(role)))
        with located(f"{where}: assignments[{j}]"):
            check_text(a["owner"], "owner", single_line=True)
    if not any(a["role"] == Role.lead for a in assignments):
        raise _fail(where, t("an obligation needs at least one lead owner"))
    milestones = []
    raw_milestones = data.get("milestones") or []
    if not isinstance(raw_milestones, list):
        raise _fail(where, t("`milestones` must be a list"))
    for j, m in enumerate(raw_milestones):
        if not isinstance(m, dict):
            raise _fail(where, t("milestones[{j}] must be an object", j=j))
        w = f"milestones[{j}]"
        with located(where):
            m_title = _string(m, "title", f"{where}: {w}") or title
            m_title_en = _string(m, "title_en", f"{where}: {w}")
            check_text(m_title, f"{w}.title")
            check_text(m_title_en, f"{w}.title_en")
            milestones.append(
                {
                    "title": m_title,
                    "title_en": m_title_en,
                    "due": _as_date(m.get("due"), f"{w}.due"),
                    "done_on": _as_date(m["done"], f"{w}.done") if m.get("done") else None,
                }
            )
    raw_targets = data.get("targets") or []
    if not isinstance(raw_targets, list):
        raise _fail(where, t("`targets` must be a list"))
    targets = _targets(where, raw_targets)
    seq = data.get("seq") or 0
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**31:
        raise _fail(where, t("`seq` must be a whole number, not {value}", value=_short(seq)))
    return _line(data, number, texts, title, state, seq, assignments, milestones, targets)


def _targets(where: str, raw_targets: list[Any]) -> list[dict[str, Any]]:
    """The checks of ``duban target add`` on a line's targets."""
    targets = []
    for j, tg in enumerate(raw_targets):
        w = f"{where}: targets[{j}]"
        if not isinstance(tg, dict) or not tg.get("indicator") or not tg.get("comparator"):
            raise _fail(w, t("a target needs indicator and comparator"))
        indicator, comparator = _string(tg, "indicator", w), _string(tg, "comparator", w)
        value = _number(tg.get("value"), w)
        baseline = tg.get("baseline") or {}
        if not isinstance(baseline, dict):
            raise _fail(w, t("`baseline` must be an object"))
        scope = tg.get("scope")
        if scope is not None and (
            not isinstance(scope, dict) or scope.get("type") not in ("region", "site")
        ):
            raise _fail(
                w,
                t(
                    "`scope` must be an object with type region or site, not {value}",
                    value=_short(scope),
                ),
            )
        for key in ("code", "name", "key"):
            if scope is not None:
                _string(scope, key, f"{w}.scope")
        with located(w):
            due = _as_date(tg.get("due"), "due")
            baseline_date = _as_date(baseline["date"], "baseline") if baseline.get("date") else None
            ind, value = check_target(
                indicator=indicator or "",
                comparator=comparator or "",
                value=value,
                due=due,
                baseline_value=_number(baseline.get("value"), w),
                baseline_date=baseline_date,
                name=_string(tg, "name", w),
                name_en=_string(tg, "name_en", w),
                text=_string(tg, "text", w),
            )
        targets.append(
            {
                "indicator": ind.key,
                "name": tg.get("name") or ind.name,
                "name_en": tg.get("name_en") or ind.name_en,
                "comparator": comparator,
                "value": value,
                "unit": ind.unit or None,
                "due": due,
                "baseline_value": _number(baseline.get("value"), w),
                "baseline_date": baseline_date,
                "text": tg.get("text"),
                "scope": scope,
            }
        )
    return targets


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _key(plan_id: int | None, code: str | None, title: str) -> tuple[Any, ...]:
    return (plan_id, "code", code) if code else (plan_id, "title", title)


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
    days: dict[date | None, Any] = {None: None}
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

    dates: dict[str, date] = {}
    lines = (
        (plain and _quick(path, n, d, dates)) or _validate(path, n, d)
        for n, d, plain in _read_lines(path)
    )
    # A load of about as many obligations as are stored, or more, rebuilds the indexes
    # faster than it keeps them.
    large = path.stat().st_size // LINE_BYTES >= max(LOAD_AT, len(existing))
    # Stream the file a batch at a time; a bad line raises and the transaction rolls back.
    # The new rows are indexed for search once, when the loop ends (FTS5 writes fewer and
    # larger segments than batch by batch), and a large load's indexes built again then (or
    # when it fails). Rows updated meanwhile were there before: their triggers keep them.
    loaded = False
    with ExitStack() as loads:
        for chunk in _batches(lines, BATCH):
            fresh = []
            for r in chunk:
                plan_key = r["plan"]
                plan_id = plans.get(plan_key) if plan_key else None
                key = _key(plan_id, r["code"], r["title"])
                if key in seen:
                    raise _fail(
                        f"{path}:{r['line']}",
                        t(
                            "the same obligation as line {line} (same plan and code)",
                            line=seen[key],
                        ),
                    )
                seen[key] = r["line"]
                r["plan_id"] = plan_id
                ob_id = existing.get(key)
                if ob_id is None:
                    fresh.append(r)
                    continue
                ob = session.get(Obligation, ob_id)
                assert ob is not None
                if r["raw"].get("id") is not None:
                    id_map[r["raw"]["id"]] = ob.id
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
            total += len(chunk)
            if progress is not None:
                progress(len(chunk))
            if not fresh or conflicts:
                continue
            new_ids = reserve_ids(session, Obligation, len(fresh))
            ob_rows, assignments, targets = [], [], []
            milestones, holders = [], []  # each milestone, and its obligation's id
            for r, new_id in zip(fresh, new_ids, strict=True):
                raw = r["raw"]
                if raw.get("id") is not None:
                    id_map[raw["id"]] = new_id
                if r["targets"]:
                    found = resolve(r, None)
                    region, pairs = found["region_id"], found["assignments"]
                    targets.extend(_target_row(new_id, tg, stamp) for tg in found["targets"])
                else:
                    # resolve()'s answers, from the look-ups made already where there are some.
                    place = (r["region_code"], r["region"])
                    region = region_of.get(place, -1)
                    if region == -1:
                        with located(f"{path}:{r['line']}"):
                            region = region_of[place] = region_id(*place)
                    pairs = []
                    for a in r["assignments"]:
                        owner = owners.get(a["owner"].strip())
                        if owner is None:
                            with located(f"{path}:{r['line']}"):
                                owner = owner_id(a["owner"])
                        pairs.append((owner, a["role"]))
                ob_rows.append(
                    (
                        new_id,
                        r["plan_id"],
                        r["code"],
                        r["seq"],
                        r["title"],
                        r["title_en"],
                        r["body"],
                        r["body_en"],
                        r["domain"],
                        region,
                        id_map.get(raw.get("parent")),
                        r["state"],
                        0,
                        1,
                        None,
                        stored_stamp,
                        stored_stamp,
                    )
                )
                assignments += [(new_id, owner, role) for owner, role in dict.fromkeys(pairs)]
                for m in r["milestones"]:
                    for day in (m["due"], m["done_on"]):
                        if day not in days:
                            days[day] = stored_day(day)
                milestones += r["milestones"]
                holders += [new_id] * len(r["milestones"])
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
                    (
                        held,
                        m["title"],
                        m["title_en"],
                        days[m["due"]],
                        days[m["done_on"]],
                        uid,
                        0,
                        stored_stamp,
                    )
                    for held, m, uid in zip(
                        holders, milestones, new_uids(len(milestones)), strict=True
                    )
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
