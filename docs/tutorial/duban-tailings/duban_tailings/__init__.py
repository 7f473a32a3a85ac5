"""Tailings ponds (尾矿库): the ponds as sites, their count, and idle ponds left unclosed.

Task （十五） of the Hunan plan wants at most 300 ponds by the end of 2025 and every pond idle
for more than three years without an operator closed (闭库). This plugin keeps the pond
register as sites, records the count per county (and so, summed, per city and province) as
the plan's indicator ``general.tailings_pond_count``, and escalates ponds idle too long.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from duban.core import api
from duban.core.api import EscalationRule, Finding, Importer, SiteKind, hookimpl

DUBAN_API = (1, 0)
KIND = "tailings.pond"
COUNT = "general.tailings_pond_count"  # registered by duban's core for the built-in plan
STATUSES = {
    "在用": "operating",
    "停用": "idle",
    "闭库": "closed",
    "operating": "operating",
    "idle": "idle",
    "closed": "closed",
}
COLUMNS = {
    "编号": "key",
    "key": "key",
    "名称": "name",
    "name": "name",
    "地区": "region",
    "region": "region",
    "状态": "status",
    "status": "status",
    "停用日期": "idle_since",
    "idle_since": "idle_since",
}


@hookimpl
def duban_register_site_kinds(register: Any) -> None:
    register(
        SiteKind(key=KIND, name="尾矿库", name_en="Tailings pond", attrs=("status", "idle_since"))
    )


def _rows(path: Path) -> list[dict[str, Any]]:
    """Parse the register; any bad row rejects the whole file, naming row and column."""
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, raw in enumerate(csv.DictReader(handle), start=2):
            row = {
                COLUMNS.get((k or "").strip().lower(), k): (v or "").strip() for k, v in raw.items()
            }
            for column in ("key", "name", "region", "status"):
                if not row.get(column):
                    raise api.UserError(f"{path}:{line}: {column}: missing")
            if row["status"] not in STATUSES:
                raise api.UserError(f"{path}:{line}: status: unknown {row['status']!r}")
            row["status"] = STATUSES[row["status"]]
            if row["status"] == "idle":
                row["idle_since"] = api.parse_date(
                    row.get("idle_since") or "", what=f"{path}:{line}: idle_since"
                )
            rows.append(row)
    return rows


def import_register(*, session: Any, path: Path, dry_run: bool = False) -> dict[str, Any]:
    """Upsert the ponds, then record how many are not closed in each county as of today."""
    from sqlmodel import select

    rows = _rows(path)
    counts: dict[str, int] = {}
    for row in rows:
        region = api.resolve_region(
            session=session, ref=row["region"], what=f"{path}: {row['key']}"
        )
        attrs = {
            "status": row["status"],
            "idle_since": row["idle_since"].isoformat() if row["status"] == "idle" else None,
        }
        site = session.exec(select(api.Site).where(api.Site.key == row["key"])).first()
        if site is None:
            site = api.Site(key=row["key"], name=row["name"], kind=KIND, region_id=region.id)
        site.attrs = attrs
        session.add(site)
        if row["status"] != "closed":
            counts[region.code] = counts.get(region.code, 0) + 1
    session.flush()
    api.audit_record(
        session, "tailings.import", "site", None, after={"file": str(path), "ponds": len(rows)}
    )
    day = api.today(session)
    for code, count in counts.items():
        api.record_measurement(
            session=session,
            indicator=COUNT,
            value=count,
            subject=f"region:{code}",
            period_start=day,
            period_end=day,
        )
    return {"file": str(path), "ponds": len(rows), "counties": len(counts)}


@hookimpl
def duban_register_importers(register: Any) -> None:
    register(
        Importer(
            key="tailings-ponds",
            name="尾矿库台账",
            name_en="Tailings pond register",
            run=import_register,
            extensions=(".csv",),
            description="Columns 编号, 名称, 地区, 状态 (在用/停用/闭库), 停用日期.",
        )
    )


def idle_unclosed(ctx: api.SweepContext):
    """Ponds idle for longer than ``years`` and still not closed: supervise the county."""
    from sqlmodel import select

    years = int(ctx.config["years"])
    for site in ctx.session.exec(select(api.Site).where(api.Site.kind == KIND)):
        attrs = site.attrs or {}
        if attrs.get("status") != "idle" or not attrs.get("idle_since"):
            continue
        since = date.fromisoformat(attrs["idle_since"])
        limit = since.replace(year=since.year + years)
        if ctx.as_of <= limit:
            continue
        region = ctx.session.get(api.Region, site.region_id)
        government = api.find_owner(session=ctx.session, ref=api.government_name(region))
        yield Finding(
            condition=f"tailings.idle:{site.key}",
            level="supervise",
            reason=f"尾矿库“{site.name}”自{since}停用超过{years}年仍未闭库",
            reason_en=f"Tailings pond {site.name} idle since {since}, over {years} years, not closed",
            subject_type="site",
            subject_id=site.id,
            region_id=region.id,
            addressed_to_id=government.id if government else None,
        )


@hookimpl
def duban_register_escalation_rules(register: Any) -> None:
    register(
        EscalationRule(
            key="tailings.idle_unclosed",
            name="停用尾矿库逾期未闭库",
            name_en="Idle tailings pond not closed",
            evaluate=idle_unclosed,
            defaults={"years": 3},
        )
    )
