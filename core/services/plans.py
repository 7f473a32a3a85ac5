"""Loading plans: the built-in Hunan plan, regions, and YAML plan files (docs/plan-format.md)."""

from __future__ import annotations

import csv
import io
import math
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from .. import audit
from ..config import checked_date
from ..errors import UserError, located
from ..i18n import t
from ..models import (
    Milestone,
    Obligation,
    Owner,
    OwnerAlias,
    Plan,
    PlanIssuer,
    Region,
    RegionLevel,
    Setting,
    Site,
    Target,
)
from ..planparse.parser import PLAN_FORMAT
from ..planparse.reference import KnownIndicator, Reference, builtin_reference, with_indicators
from .base import SANDBOX, now, require_coordinator, snapshot, today
from .evaluation import COMPARATORS
from .obligations import add_milestone, add_obligation, new_uid
from .owners import _add_alias, add_owner, find_owner, resolve_owner
from .regions import add_region, government_name, resolve_region

BUILTIN_PLAN = "hunan-yangtze-2023"


def builtin_plan_text() -> str:
    return (resources.files("duban.core") / "data" / "plans" / f"{BUILTIN_PLAN}.yaml").read_text(
        "utf-8"
    )


def load_regions(*, session: Session) -> int:
    """Load Hunan's divisions (and their people's governments as owners) once."""
    if session.exec(select(Region.id)).first() is not None:
        return 0
    text = (resources.files("duban.core") / "data" / "regions.csv").read_text("utf-8")
    by_code: dict[str, Region] = {}
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:  # parents precede children in the file
        parent = by_code.get(row["parent_code"]) if row["parent_code"] else None
        by_code[row["code"]] = add_region(
            session=session,
            code=row["code"],
            name=row["name"],
            name_en=row["name_en"] or None,
            level=row["level"],
            parent=parent,
            audited=False,
        )
    for region in by_code.values():
        parent_gov = None
        if region.parent_id:
            parent_region = session.get(Region, region.parent_id)
            parent_gov = find_owner(session=session, ref=government_name(parent_region))
        name_en = None
        if region.name_en:
            name_en = (
                f"{region.name_en} Administrative Committee"
                if region.level == RegionLevel.zone
                else f"People's Government of {region.name_en}"
            )
        owner = Owner(
            name=government_name(region),
            name_en=name_en,
            kind="government",
            region_id=region.id,
            parent_id=parent_gov.id if parent_gov else None,
        )
        session.add(owner)
        session.flush()
    audit.record(session, "regions.load", "region", None, after={"count": len(by_code)})
    return len(by_code)


def parse_yaml(text: str, *, source: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise UserError(f"{source}: {t('nested too deeply')}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise UserError(
            t(
                "{where}: not valid YAML: {why}",
                where=where,
                why=getattr(exc, "problem", None) or exc,
            )
        ) from None
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise UserError(
            t("{where}: not a duban plan (expected `format: {fmt}`)", where=source, fmt=PLAN_FORMAT)
        )
    return data


def load_plan(
    *, session: Session, data: dict[str, Any], source: str = "plan"
) -> tuple[Plan, list[str]]:
    """Create a plan from its YAML structure; returns it and the names of owners created.

    All-or-nothing: any problem raises UserError and the caller's transaction rolls back.
    """
    require_coordinator(session)
    meta = data.get("plan") or {}
    key = meta.get("key")
    if not key or not meta.get("title"):
        raise UserError(t("{where}: plan.key and plan.title are required", where=source))
    if session.exec(select(Plan).where(Plan.key == key)).first():
        raise UserError(
            t("{where}: a plan with key {key!r} is already loaded", where=source, key=key)
        )
    created: list[str] = []
    directory = _Directory(session)
    for i, o in enumerate(data.get("owners") or []):
        where = f"{source}: owners[{i}]"
        if not isinstance(o, dict) or not o.get("name"):
            raise UserError(t("{where}: an owner needs a name", where=where))
        with located(where):
            existing = directory.find(o["name"])
            if existing is None:
                existing = directory.add(
                    o["name"],
                    name_en=o.get("name_en"),
                    kind=o.get("kind", "department"),
                    region=o.get("region"),
                )
                created.append(existing.name)
            for alias in o.get("aliases") or ():
                directory.alias(existing, alias)
    for o in data.get("owners") or []:
        if o.get("parent"):
            owner = directory.find(o["name"])
            parent = directory.find(o["parent"])
            if parent is None:
                raise UserError(
                    t("{where}: unknown parent owner {name!r}", where=source, name=o["parent"])
                )
            owner.parent_id = parent.id
            session.add(owner)

    plan = Plan(
        key=key,
        title=meta["title"],
        title_en=meta.get("title_en"),
        issued_on=checked_date(meta["issued_on"], where=f"{source}: plan.issued_on")
        if meta.get("issued_on")
        else None,
        valid_until=checked_date(meta["valid_until"], where=f"{source}: plan.valid_until")
        if meta.get("valid_until")
        else None,
        source=meta.get("source"),
        text={"sections": data.get("sections") or [], "framing": data.get("framing") or []},
    )
    session.add(plan)
    session.flush()
    for pos, name in enumerate(meta.get("issuers") or []):
        owner = directory.find(name)
        if owner is None:
            owner = directory.add(name)
            created.append(name)
        session.add(PlanIssuer(plan_id=plan.id, owner_id=owner.id, position=pos))

    sites: dict[str, Site] = {}
    for i, s in enumerate(data.get("sites") or []):
        where = f"{source}: sites[{i}]"
        if not s.get("key") or not s.get("name") or not s.get("kind"):
            raise UserError(t("{where}: a site needs key, name and kind", where=where))
        site = session.exec(select(Site).where(Site.key == s["key"])).first()
        if site is None:
            region = (
                resolve_region(session=session, ref=str(s["region"]), what=where)
                if s.get("region")
                else None
            )
            site = Site(
                key=s["key"],
                name=s["name"],
                name_en=s.get("name_en"),
                kind=s["kind"],
                region_id=region.id if region else None,
                attrs=s.get("attrs"),
            )
            session.add(site)
            session.flush()
        sites[s["key"]] = site

    implementers = _implementers(session, meta.get("implementers", "none"))
    for i, task in enumerate(data.get("tasks") or []):
        _load_task(
            session,
            plan,
            task,
            f"{source}: tasks[{i}] {task.get('code', '')}".rstrip(),
            sites,
            implementers,
            created,
            directory,
        )
    # Deadlines already past when the plan was loaded: their ladders start today (sweep),
    # and the dashboard says how many there were.
    session.flush()
    late = session.exec(
        select(func.count())
        .select_from(Milestone)
        .join(Obligation, Obligation.id == Milestone.obligation_id)
        .where(Obligation.plan_id == plan.id, Milestone.due < today(session))
    ).one()
    if late:
        session.add(Setting(key=late_at_load_key(plan.key), value=str(late)))
    audit.record(
        session,
        "plan.load",
        "plan",
        plan.id,
        after={**snapshot(plan), "owners_created": created, "late_at_load": late},
    )
    from ..plugins import get_host

    get_host().call("duban_plan_loaded", session=session, plan=plan)
    return plan, created


class _Directory:
    """Every owner by name, English name and alias, read once for a plan's load: looked up
    one at a time, a plan's names cost a query (and a flush) each, twice per task."""

    def __init__(self, session: Session) -> None:
        self.session = session
        owners = session.exec(select(Owner)).all()
        self.refs: dict[str, Owner] = {o.name_en: o for o in owners if o.name_en}
        self.refs.update({o.name: o for o in owners})  # a canonical name wins
        by_id = {o.id: o for o in owners}
        for alias, owner_id in session.exec(select(OwnerAlias.alias, OwnerAlias.owner_id)):
            self.refs.setdefault(alias, by_id[owner_id])

    def find(self, ref: str) -> Owner | None:
        """As ``find_owner``: by canonical name, English name, alias or id."""
        ref = ref.strip()
        found = self.refs.get(ref)
        if found is None and ref.isdigit():
            found = self.session.get(Owner, int(ref))
        return found

    def add(self, name: str, **fields: Any) -> Owner:
        owner = add_owner(session=self.session, name=name, check_role=False, **fields)
        if owner.name_en:
            self.refs.setdefault(owner.name_en, owner)
        self.refs[owner.name] = owner
        return owner

    def alias(self, owner: Owner, alias: str) -> None:
        _add_alias(self.session, owner, alias)
        if alias.strip():
            self.refs.setdefault(alias.strip(), owner)


def late_at_load_key(plan_key: str) -> str:
    """The ``setting`` holding how many of a plan's deadlines had passed when it was loaded."""
    return f"late_at_load:{plan_key}"[:64]


def _implementers(session: Session, which: str) -> list[Owner]:
    if which in (None, "none"):
        return []
    level = {"cities": RegionLevel.city, "counties": RegionLevel.county}.get(which)
    if level is None:
        raise UserError(
            t("plan.implementers: must be cities, counties or none, not {value!r}", value=which)
        )
    regions = session.exec(select(Region).where(Region.level == level).order_by(Region.code)).all()
    return [
        resolve_owner(session=session, ref=government_name(r), what="plan.implementers")
        for r in regions
    ]


def _load_task(
    session: Session,
    plan: Plan,
    task: dict[str, Any],
    where: str,
    sites: dict[str, Site],
    implementers: list[Owner],
    created: list[str],
    directory: _Directory,
    parent: Obligation | None = None,
) -> Obligation:
    if not task.get("title"):
        raise UserError(t("{where}: a task needs a title", where=where))
    with located(where):
        ob = _task_obligation(session, plan, task, implementers, created, directory, parent)
    for j, m in enumerate(task.get("milestones") or []):
        due = checked_date(m.get("due"), where=f"{where}: milestones[{j}].due")
        with located(f"{where}: milestones[{j}]"):
            add_milestone(
                session=session,
                obligation=ob,
                due=due,
                title=m.get("text") or ob.title,
                title_en=m.get("text_en"),
                recurrence=m.get("recurrence"),
                check_role=False,
            )
    for j, tg in enumerate(task.get("targets") or []):
        _add_target(session, ob, tg, f"{where}: targets[{j}]", sites)
    # parts: paragraphs or sub-items with their own responsible bodies, linked to the task
    for k, part in enumerate(task.get("parts") or []):
        _load_task(
            session,
            plan,
            {
                "seq": task.get("seq"),
                "section": task.get("section"),
                "domain": task.get("domain"),
                **part,
            },
            f"{where}: parts[{k}]",
            sites,
            implementers,
            created,
            directory,
            parent=ob,
        )
    return ob


def _task_obligation(
    session: Session,
    plan: Plan,
    task: dict[str, Any],
    implementers: list[Owner],
    created: list[str],
    directory: _Directory,
    parent: Obligation | None,
) -> Obligation:
    def owner(name: str) -> Owner:
        found = directory.find(name)
        if found is None:
            found = directory.add(name)
            created.append(name)
        return found

    leads = [owner(name) for name in task.get("lead") or []]
    participants = [owner(name) for name in task.get("participants") or []]
    regions = [str(r) for r in task.get("regions") or []]
    # the places a task names without being about them: where a split divides it
    places = regions or [str(r) for r in task.get("places") or []]
    if not task.get("lead"):
        return _leaderless(session, plan, task, implementers)
    return add_obligation(
        session=session,
        plan=plan,
        **_task_fields(task),
        leads=leads,
        participants=participants,
        implementers=implementers,
        parent=parent,
        region=regions[0] if len(regions) == 1 else None,
        attrs={"regions": places, "section": task.get("section")}
        if places or task.get("section")
        else None,
        check_role=False,
    )


def _task_fields(task: dict[str, Any]) -> dict[str, Any]:
    """What an obligation takes from its task as written: code, order, title, text, domain."""
    return {
        "code": task.get("code"),
        "seq": int(task.get("seq") or 0),
        "title": task["title"],
        "title_en": task.get("title_en"),
        "body": task.get("summary"),
        "body_en": task.get("summary_en"),
        "domain": task.get("domain") or "general",
    }


def _leaderless(
    session: Session, plan: Plan, task: dict[str, Any], implementers: list[Owner]
) -> Obligation:
    """The plan's overall goals belong to the plan as a whole: its issuers lead them."""
    issuers = [
        session.get(Owner, p.owner_id)
        for p in session.exec(
            select(PlanIssuer).where(PlanIssuer.plan_id == plan.id).order_by(PlanIssuer.position)
        ).all()
    ]
    leads = [o.name for o in issuers[:1] if o is not None]
    if not leads:
        raise UserError(
            t("task {code}: needs a lead owner", code=task.get("code") or task.get("title"))
        )
    return add_obligation(
        session=session,
        plan=plan,
        **_task_fields(task),
        leads=leads,
        participants=[o.name for o in issuers[1:] if o is not None],
        implementers=implementers,
        attrs={"section": task.get("section")},
        check_role=False,
    )


def _add_target(
    session: Session, ob: Obligation, tg: dict[str, Any], where: str, sites: dict[str, Site]
) -> Target:
    scope = tg.get("scope") or {}
    region = site = None
    if scope.get("site"):
        site = (
            sites.get(scope["site"])
            or session.exec(select(Site).where(Site.key == scope["site"])).first()
        )
        if site is None:
            raise UserError(t("{where}: unknown site {key!r}", where=where, key=scope["site"]))
    elif scope.get("region"):
        region = resolve_region(session=session, ref=str(scope["region"]), what=where)
    if not tg.get("indicator") or not tg.get("comparator"):
        raise UserError(t("{where}: a target needs indicator and comparator", where=where))
    alternative = _alternative(tg.get("alternative"), where)
    target = Target(
        obligation_id=ob.id,
        indicator=tg["indicator"],
        name=tg.get("name"),
        name_en=tg.get("name_en"),
        comparator=tg["comparator"],
        value=None if tg.get("value") is None else float(tg["value"]),
        unit=tg.get("unit"),
        due=checked_date(tg.get("due"), where=f"{where}.due"),
        region_id=region.id if region else None,
        site_id=site.id if site else None,
        baseline_date=date(int(tg["baseline_year"]), 12, 31) if tg.get("baseline_year") else None,
        text=tg.get("text"),
        source=tg.get("source") or "plan",
        attrs={"alternative": alternative} if alternative else None,
        uid=new_uid(),
        updated_at=now(session),
    )
    session.add(target)
    session.flush()
    audit.record(session, "target.add", "target", target.id, after=snapshot(target))
    return target


def _alternative(alternative: Any, where: str) -> dict[str, Any] | None:
    """A target's other route (…或比2020年提高5个百分点以上), checked as evaluation reads it."""
    if not alternative:
        return None
    comparator = alternative.get("comparator") if isinstance(alternative, dict) else None
    value = alternative.get("value") if isinstance(alternative, dict) else None
    year = alternative.get("baseline_year") if isinstance(alternative, dict) else None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if (
        comparator not in COMPARATORS
        or not (number and math.isfinite(value))
        or not (year is None or (isinstance(year, int) and 1949 <= year <= 2100))
    ):
        raise UserError(
            t(
                "{where}.alternative: expected a comparator of {choices}, a number as value "
                "and a year as baseline_year, not {value!r}",
                where=where,
                choices=", ".join(COMPARATORS),
                value=alternative,
            )
        )
    return alternative


def initialise(*, session: Session, empty: bool = False, sandbox: bool = False) -> Plan | None:
    """What ``duban init`` (and the first run of the TUI) does once per database: load the
    built-in plan unless asked for an empty database. Returns the plan it loaded, if any.
    A sandbox (training, demos, tests: its clock may be set) is made only at creation."""
    if session.get(Setting, "initialised") is not None:
        if sandbox and session.get(Setting, SANDBOX) is None:
            raise UserError(
                t("--sandbox: this database already exists; only a new database can be a sandbox")
            )
        return None
    session.add(Setting(key="initialised", value="empty" if empty else "builtin"))
    if sandbox:
        session.add(Setting(key=SANDBOX, value="1"))
    audit.record(
        session,
        "database.init",
        "setting",
        "initialised",
        after={"value": "empty" if empty else "builtin", **({SANDBOX: True} if sandbox else {})},
    )
    return None if empty else load_builtin(session=session)


def load_builtin(*, session: Session) -> Plan | None:
    """Regions, their governments and the built-in Hunan plan; None if already loaded."""
    if session.exec(select(Plan).where(Plan.key == BUILTIN_PLAN)).first():
        return None
    load_regions(session=session)
    plan, _ = load_plan(
        session=session,
        data=parse_yaml(builtin_plan_text(), source=BUILTIN_PLAN),
        source=BUILTIN_PLAN,
    )
    if session.get(Setting, "default_plan") is None:
        session.add(Setting(key="default_plan", value=plan.key))
    return plan


def read_plan_file(path: Path) -> dict[str, Any]:
    from ..spreadsheet_reader import decode_text

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(t("{path}: cannot read: {why}", path=path, why=exc)) from None
    return parse_yaml(decode_text(raw, path), source=str(path))


def plan_reference() -> Reference:
    """What the plan parser matches against: the built-in data and every loaded plugin's
    indicators (by Chinese name)."""
    from ..plugins import get_host

    return with_indicators(
        builtin_reference(),
        (
            KnownIndicator(ind.key, ind.name, ind.unit)
            for ind in get_host().indicators().values()
            if ind.name
        ),
    )


def import_parsed_plan(
    *, session: Session, data: dict[str, Any], source: str
) -> tuple[Any, list[str]]:
    """Load a parsed (or hand-written) plan into the database as a new plan.

    Owners are matched by canonical name or alias; a region or parent the database does not
    hold is left out of a new owner rather than failing the import; recurring milestones
    become one milestone per occurrence. Returns the plan and the names of owners created.
    """
    import copy

    from ..planparse import occurrences

    data = copy.deepcopy(data)
    directory = _Directory(session)
    known_regions = set(session.exec(select(Region.code)).all())
    rename: dict[str, str] = {}
    listed = {o.get("name") for o in data.get("owners") or [] if isinstance(o, dict)}
    owners = []
    for entry in data.get("owners") or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            owners.append(entry)  # load_plan reports it
            continue
        existing = next(
            (
                found
                for ref in [entry["name"], *(entry.get("aliases") or [])]
                if (found := directory.find(ref)) is not None
            ),
            None,
        )
        if existing is not None:
            rename[entry["name"]] = existing.name
            aliases = [
                a
                for a in entry.get("aliases") or []
                if (other := directory.find(a)) is None or other.id == existing.id
            ]
            owners.append({"name": existing.name, "aliases": aliases})
            continue
        entry = dict(entry)
        if entry.get("region") is not None and str(entry["region"]) not in known_regions:
            entry.pop("region")
        parent = entry.get("parent")
        if parent and parent not in listed and directory.find(parent) is None:
            entry.pop("parent")
        owners.append(entry)
    data["owners"] = owners
    meta = data.setdefault("plan", {})
    meta["issuers"] = [rename.get(n, n) for n in meta.get("issuers") or []]
    for site in data.get("sites") or []:
        if site.get("region") is not None and str(site["region"]) not in known_regions:
            site.pop("region")
    every = [x for task in data.get("tasks") or [] for x in [task, *(task.get("parts") or [])]]
    for task in every:
        task["lead"] = [rename.get(n, n) for n in task.get("lead") or []]
        task["participants"] = [rename.get(n, n) for n in task.get("participants") or []]
        for key in ("regions", "places"):
            task[key] = [r for r in task.get(key) or [] if str(r) in known_regions]
        for target in task.get("targets") or []:
            scope = target.get("scope") or {}
            if scope.get("region") is not None and str(scope["region"]) not in known_regions:
                target["scope"] = {}
        milestones = []
        for m in task.get("milestones") or []:
            if m.get("recurrence") and isinstance(m.get("due"), date):
                milestones.extend(
                    {**m, "due": d}
                    for d in occurrences(
                        m["due"], m["recurrence"], m.get("until") or meta.get("valid_until")
                    )
                )
            else:
                milestones.append(m)
        task["milestones"] = milestones
    return load_plan(session=session, data=data, source=source)
