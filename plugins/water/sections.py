"""Monitoring sections (断面) as sites: the built-in ones, CSV/Excel import, listing.

A section is a ``Site`` of kind ``water_section`` whose ``attrs`` hold ``code``,
``river_or_lake``, ``water_body`` (river | lake), ``control`` (national | provincial),
``target_class`` (I … V), and optionally ``group`` (the key of the lake or river-reach site it
belongs to, e.g. ``dongting-lake``) and ``drinking_source`` (prefecture | county).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from duban.core.api import (
    Column,
    NotFound,
    Obligation,
    Plan,
    Region,
    Sheet,
    Site,
    Target,
    UserError,
    audit_record,
    cell_text,
    new_uid,
    now,
    read_table,
    require_coordinator,
    resolve_region,
    snapshot,
    t,
)

from .gb3838 import CLASSES, class_rank
from .indicators import SECTION_CLASS

SECTION_KIND = "water_section"
# Plan sites judged by their member sections (docs/plan-format.md: lake, river_reach).
GROUP_KINDS = ("lake", "river_reach")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# The columns of a sections file and the headers each may have (the first is documented).
COLUMNS = (
    Column("key", ("标识", "key")),
    Column("code", ("断面编码", "code", "断面代码", "编码", "代码")),
    Column("name", ("断面名称", "name", "断面", "名称"), required=True),
    Column("name_en", ("英文名称", "name_en")),
    Column("region", ("所在地区", "region", "行政区", "行政区划", "地区", "所在区县", "区县")),
    Column(
        "river_or_lake",
        ("河流湖库", "river_or_lake", "河流/湖库", "所在水体", "河流", "湖库", "水体"),
    ),
    Column("water_body", ("水体类型", "water_body", "类型")),
    Column("control", ("考核级别", "control", "断面级别", "级别", "断面类型")),
    Column("target_class", ("水质目标", "target_class", "目标水质", "考核目标", "目标类别")),
    Column("group", ("所属水域", "group", "reach", "所属河段")),
    Column("drinking_source", ("饮用水水源地", "drinking_source", "水源地级别")),
    Column("plan", ("方案", "plan")),
    Column("task", ("任务", "task")),
)

_WATER_BODY = {
    "river": "river",
    "河流": "river",
    "河": "river",
    "lake": "lake",
    "湖库": "lake",
    "湖泊": "lake",
    "湖": "lake",
    "水库": "lake",
    "reservoir": "lake",
}
_CONTROL = {
    "national": "national",
    "国考": "national",
    "国控": "national",
    "国家": "national",
    "provincial": "provincial",
    "省考": "provincial",
    "省控": "provincial",
    "省级": "provincial",
}
_DRINKING = {
    "prefecture": "prefecture",
    "地级": "prefecture",
    "地级城市": "prefecture",
    "市级": "prefecture",
    "county": "county",
    "县级": "county",
    "县级城市": "county",
}
_ROMAN = str.maketrans({"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V"})


def parse_class(text: str) -> str:
    """``III``, ``Ⅲ类``, ``3``, ``劣V``, ``劣五类`` -> a GB 3838 class name; ValueError otherwise."""
    raw = text.strip().translate(_ROMAN).upper().removesuffix("类").replace("五", "V")
    if raw.isdigit() and 1 <= int(raw) <= len(CLASSES):
        return CLASSES[int(raw) - 1]
    if raw in ("劣V", "WORSE_THAN_V", ">V"):
        return "劣V"
    if raw in CLASSES:
        return raw
    raise ValueError(text)


@dataclass(frozen=True)
class SectionInfo:
    """What the rules, indicators and panels need to know about a section."""

    id: int
    key: str
    name: str
    region_id: int | None
    city_id: int | None  # the city (地级) containing it; None for province-level sites
    lake: bool
    national: bool
    target_rank: int | None
    group: str | None
    drinking_source: str | None


def region_cities(session: Session) -> tuple[dict[int, int | None], dict[int, Region]]:
    """Region id -> id of its city (the region itself for a city), and regions by id."""
    regions = {r.id: r for r in session.exec(select(Region))}
    by_code = {r.code: r for r in regions.values()}
    city_of: dict[int, int | None] = {}
    for r in regions.values():
        parts = r.path.split("/")
        city = by_code.get(parts[1]) if len(parts) > 1 else None
        city_of[r.id] = city.id if city is not None else None  # type: ignore[assignment]
    return city_of, regions


def load_sections(session: Session) -> list[SectionInfo]:
    city_of, _ = region_cities(session)
    out = []
    for site in session.exec(select(Site).where(Site.kind == SECTION_KIND).order_by(Site.id)):
        attrs = site.attrs or {}
        target = attrs.get("target_class")
        out.append(
            SectionInfo(
                id=site.id,
                key=site.key,
                name=site.name,
                region_id=site.region_id,  # type: ignore[arg-type]
                city_id=city_of.get(site.region_id) if site.region_id else None,
                lake=attrs.get("water_body") == "lake",
                national=attrs.get("control") == "national",
                target_rank=class_rank(target) if target in CLASSES else None,
                group=attrs.get("group"),
                drinking_source=attrs.get("drinking_source"),
            )
        )
    return out


# Import ------------------------------------------------------------------------------------


def _row_error(where: str, column: str, message: str) -> UserError:
    return UserError(
        t("{where}, column {column}: {message}", where=where, column=column, message=message)
    )


def _parse_row(session: Session, cells: dict[str, str], where: str) -> dict[str, Any]:
    name = cells.get("name", "")
    if not name:
        raise _row_error(where, "name", t("a section needs a name"))
    code = cells.get("code", "")
    # A code in ASCII gives a key; a section already known by name or code needs neither.
    key = cells.get("key", "") or re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")
    if key and not SLUG.match(key):
        raise _row_error(where, "key", t("{value!r} is not a slug (a-z, 0-9, -)", value=key))
    region = None
    if cells.get("region"):
        try:
            region = resolve_region(session=session, ref=cells["region"], what=where)
        except NotFound:
            raise _row_error(
                where, "region", t("unknown region {value!r}", value=cells["region"])
            ) from None
    attrs: dict[str, Any] = {}
    for col, table in (
        ("water_body", _WATER_BODY),
        ("control", _CONTROL),
        ("drinking_source", _DRINKING),
    ):
        value = cells.get(col, "")
        if value:
            if value.casefold() not in table:
                raise _row_error(
                    where,
                    col,
                    t(
                        "{value!r} is not one of {choices}",
                        value=value,
                        choices=", ".join(sorted(set(table.values()))),
                    ),
                )
            attrs[col] = table[value.casefold()]
    if cells.get("target_class"):
        try:
            attrs["target_class"] = parse_class(cells["target_class"])
        except ValueError:
            raise _row_error(
                where,
                "target_class",
                t("{value!r} is not a water class (I … V, 劣V)", value=cells["target_class"]),
            ) from None
    for col in ("code", "river_or_lake", "group"):
        if cells.get(col):
            attrs[col] = cells[col]
    return {
        "where": where,
        "key": key,
        "name": name,
        "name_en": cells.get("name_en") or None,
        "region": region,
        "attrs": attrs,
        "plan": cells.get("plan"),
        "task": cells.get("task"),
    }


def _find(session: Session, parsed: dict[str, Any]) -> Site | None:
    """The same section under its key, its code, or its name (with or without 断面)."""
    if parsed["key"]:
        site = session.exec(select(Site).where(Site.key == parsed["key"])).first()
        if site is not None:
            return site
    code = parsed["attrs"].get("code")
    name = parsed["name"]
    names = {name, name.removesuffix("断面"), name.removesuffix("断面") + "断面"}
    for candidate in session.exec(select(Site).where(Site.kind == SECTION_KIND)):
        if code and (candidate.attrs or {}).get("code") == code:
            return candidate
    return session.exec(select(Site).where(Site.kind == SECTION_KIND, Site.name.in_(names))).first()


def upsert_section(session: Session, parsed: dict[str, Any]) -> tuple[Site, str]:
    """Create the section or merge into the existing one; returns it and created|updated|unchanged."""
    site = _find(session, parsed)
    region_id = parsed["region"].id if parsed["region"] is not None else None
    if site is None:
        if not parsed["key"]:
            raise _row_error(parsed["where"], "key", t("give a key or a code"))
        site = Site(
            key=parsed["key"],
            name=parsed["name"],
            name_en=parsed["name_en"],
            kind=SECTION_KIND,
            region_id=region_id,
            attrs={"water_body": "river", **parsed["attrs"]},
        )
        session.add(site)
        session.flush()
        audit_record(session, "site.add", "site", site.id, after=snapshot(site))
        return site, "created"
    before = snapshot(site)
    attrs = {**(site.attrs or {}), **parsed["attrs"]}
    changed = {
        "attrs": attrs,
        "name_en": parsed["name_en"] or site.name_en,
        "kind": SECTION_KIND,
        "region_id": region_id or site.region_id,
    }
    if all(getattr(site, k) == v for k, v in changed.items()):
        return site, "unchanged"
    for k, v in changed.items():
        setattr(site, k, v)
    session.add(site)
    session.flush()
    audit_record(session, "site.update", "site", site.id, before=before, after=snapshot(site))
    return site, "updated"


def _rows(session: Session, sheet: Sheet) -> list[tuple[str, dict[str, Any]]]:
    parsed = []
    seen: dict[str, str] = {}
    for number, cells in sheet.rows:
        where = sheet.where(number)
        values = {
            col: cell_text(cells[i]) if i < len(cells) else "" for col, i in sheet.columns.items()
        }
        row = _parse_row(session, values, where)
        if row["key"] and row["key"] in seen:
            raise _row_error(
                where,
                "key",
                t(
                    "section {key!r} already given on {other}",
                    key=row["key"],
                    other=seen[row["key"]],
                ),
            )
        seen[row["key"]] = where
        parsed.append((where, row))
    return parsed


def import_sections(
    *, session: Session, path: Path, dry_run: bool = False, sheet: str | None = None
) -> dict[str, Any]:
    """Import sections from a CSV or Excel file; all-or-nothing (the caller rolls back on error)."""
    require_coordinator(session)
    rows = _rows(session, read_table(path, COLUMNS, sheet=sheet))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for _where, row in rows:
        _, outcome = upsert_section(session, row)
        counts[outcome] += 1
    audit_record(
        session,
        "water.sections.import",
        "site",
        None,
        after={"file": path.name, **counts, "dry_run": dry_run},
    )
    return {"file": str(path), "rows": len(rows), **counts, "dry_run": dry_run}


# Built-in sections and the plan -----------------------------------------------------------


def builtin_rows() -> list[dict[str, str]]:
    text = (resources.files("duban.plugins.water") / "data" / "sections.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _normalise_plan_site(session: Session, site: Site) -> None:
    """Give a plan's water site the attributes the plugin reads (river_or_lake, water_body)."""
    attrs = dict(site.attrs or {})
    river_or_lake = attrs.get("river_or_lake") or attrs.get("river") or attrs.get("lake")
    if river_or_lake:
        attrs["river_or_lake"] = river_or_lake
    attrs.setdefault("water_body", "lake" if site.kind == "lake" else "river")
    if site.kind == SECTION_KIND:
        attrs.setdefault("control", "provincial")
    if attrs != (site.attrs or {}):
        before = snapshot(site)
        site.attrs = attrs
        session.add(site)
        session.flush()
        audit_record(session, "site.update", "site", site.id, before=before, after=snapshot(site))


def attach_builtin(*, session: Session, plan: Plan) -> dict[str, int]:
    """After a plan loads: the built-in sections, water attributes on the plan's water sites, and
    a section-class target for every built-in section the plan tells to hold its target."""
    sites = session.exec(select(Site).where(Site.kind.in_((SECTION_KIND, *GROUP_KINDS)))).all()
    for site in sites:
        _normalise_plan_site(session, site)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "targets": 0}
    for number, cells in enumerate(builtin_rows(), 2):
        row = _parse_row(session, cells, f"sections.csv:{number}")
        site, outcome = upsert_section(session, row)
        counts[outcome] += 1
        if row["plan"] == plan.key and row["task"] and "target_class" in row["attrs"]:
            counts["targets"] += _class_target(
                session, plan, site, row["task"], row["attrs"]["target_class"]
            )
    return counts


def _class_target(session: Session, plan: Plan, site: Site, task: str, target_class: str) -> int:
    ob = session.exec(
        select(Obligation).where(Obligation.plan_id == plan.id, Obligation.code == task)
    ).first()
    exists = session.exec(
        select(Target.id).where(Target.indicator == SECTION_CLASS, Target.site_id == site.id)
    ).first()
    if ob is None or exists is not None:
        return 0
    target = Target(
        obligation_id=ob.id,
        indicator=SECTION_CLASS,
        name=f"{site.name}断面水质类别（考核目标{target_class}类）",
        name_en=f"Water quality class of the {site.name_en or site.name} section (target class {target_class})",
        comparator="lte",
        value=float(class_rank(target_class)),
        unit="class",
        due=plan.valid_until or date(now(session).year, 12, 31),
        site_id=site.id,
        text=f"{site.name}等国考断面稳定达到国家考核目标",
        uid=new_uid(),
        updated_at=now(session),
    )
    session.add(target)
    session.flush()
    audit_record(session, "target.add", "target", target.id, after=snapshot(target))
    return 1


def list_sections(*, session: Session) -> list[dict[str, Any]]:
    _, regions = region_cities(session)
    out = []
    for site in session.exec(select(Site).where(Site.kind == SECTION_KIND).order_by(Site.key)):
        attrs = site.attrs or {}
        region = regions.get(site.region_id) if site.region_id else None
        out.append(
            {
                "key": site.key,
                "code": attrs.get("code"),
                "name": site.name,
                "region": region.name if region else None,
                "region_code": region.code if region else None,
                "river_or_lake": attrs.get("river_or_lake"),
                "water_body": attrs.get("water_body"),
                "control": attrs.get("control"),
                "target_class": attrs.get("target_class"),
                "group": attrs.get("group"),
                "drinking_source": attrs.get("drinking_source"),
            }
        )
    return out
