"""Ports as sites, their transport authorities, and ``duban import shipping FILE`` (port
statistics: shore power, small ships' sewage, tank washing). Layout: docs/plugins/shipping.md.

A port is a ``Site`` of kind ``port`` keyed ``port:<name>``. Rules about a port are addressed to
the transport authority of its city, ``<city>交通运输局``: created (audited) with the port when
it does not exist yet, under the city's people's government, which a summons goes to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from duban.core.api import (
    Column,
    Measurement,
    Owner,
    Region,
    Regions,
    Row,
    Site,
    Table,
    UserError,
    add_owner,
    audit_record,
    find_owner,
    government_name,
    percent,
    require_coordinator,
    site_reading,
    snapshot,
    t,
    today,
    upsert_readings,
)

from . import indicators as ind

PORT_KIND = "port"

COLUMNS = (
    Column("port", ("港口", "港区", "port"), required=True),
    Column("region", ("所在地区", "地区", "region")),
    Column("period", ("时间", "统计时间", "period"), required=True),
    Column("berths", ("岸电泊位数", "具备岸电供应能力泊位数", "shore_power_berths")),
    Column("calls", ("使用岸电艘次", "shore_power_calls")),
    Column("kwh", ("岸电用电量", "shore_power_kwh")),
    Column("small_ships", ("400总吨以下船舶数", "small_ships")),
    Column("small_ashore", ("船上储存交岸处置船舶数", "small_ships_ashore")),
    Column("washes_required", ("应洗舱次数", "washes_required")),
    Column("washes_done", ("已洗舱次数", "washes_done")),
    Column("note", ("备注", "note")),
)


def port_key(name: str) -> str:
    return f"{PORT_KIND}:{name}"


def authority_name(city: Region) -> str:
    return f"{city.name}交通运输局"


@dataclass(frozen=True)
class Port:
    id: int
    key: str
    name: str
    region_id: int | None
    authority: str | None


def load_ports(session: Session) -> dict[str, Port]:
    """Ports by key and by name."""
    out: dict[str, Port] = {}
    for site in session.exec(select(Site).where(Site.kind == PORT_KIND)):
        port = Port(
            site.id, site.key, site.name, site.region_id, (site.attrs or {}).get("authority")
        )
        out[site.key] = out[site.name] = port
    return out


def authorities(session: Session, ports: list[Port]) -> dict[int, tuple[int | None, int | None]]:
    """Port id -> (its transport authority's owner id, that authority's head body's owner id)."""
    names = {p.authority for p in ports if p.authority}
    owners = (
        {o.name: o for o in session.exec(select(Owner).where(Owner.name.in_(names)))}
        if names
        else {}
    )
    out = {}
    for p in ports:
        owner = owners.get(p.authority or "")
        out[p.id] = (owner.id, owner.parent_id) if owner else (None, None)
    return out


def _ensure_authority(session: Session, regions: Regions, region: Region) -> str | None:
    city = regions.city_of(region)
    if city is None:
        return None
    name = authority_name(city)
    if find_owner(session=session, ref=name) is None:
        parent = government_name(city)
        add_owner(
            session=session,
            name=name,
            region=city.code,
            kind="department",
            parent=parent if find_owner(session=session, ref=parent) else None,
            name_en=f"{city.name_en or city.name} Transport Bureau",
            check_role=False,
        )
    return name


def add_port(session: Session, regions: Regions, name: str, region: Region) -> Port:
    authority = _ensure_authority(session, regions, region)
    site = Site(
        key=port_key(name),
        name=name,
        kind=PORT_KIND,
        region_id=region.id,
        attrs={"authority": authority},
    )
    session.add(site)
    session.flush()
    audit_record(session, "site.add", "site", site.id, after=snapshot(site))
    return Port(site.id, site.key, site.name, site.region_id, authority)


def shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def year_on_year(
    session: Session, ports: dict[int, Port], periods: set[tuple[int, date, date]]
) -> list[dict[str, Any]]:
    """Year-on-year readings of shore power for the given (port id, start, end) and for the same
    periods a year later, from the stored kWh readings: the change and the year-before figure."""
    wanted = {(pid, s, e) for pid, s, e in periods}
    wanted |= {(pid, shift_year(s, 1), shift_year(e, 1)) for pid, s, e in periods}
    kwh = {
        (sid, s, e): v
        for sid, s, e, v in session.exec(
            select(
                Measurement.site_id,
                Measurement.period_start,
                Measurement.period_end,
                Measurement.value,
            ).where(
                Measurement.indicator == ind.SHORE_KWH,
                Measurement.site_id.in_({p for p, _, _ in wanted}),
            )
        )
    }
    out = []
    for pid, start, end in sorted(wanted):
        now_kwh = kwh.get((pid, start, end))
        before = kwh.get((pid, shift_year(start, -1), shift_year(end, -1)))
        if now_kwh is None or not before:
            continue
        port = ports[pid]
        out.append(
            site_reading(
                ind.SHORE_KWH_YOY,
                port.key,
                port.id,
                port.region_id,
                (start, end),
                percent(now_kwh - before, before),
                now_kwh - before,
                before,
            )
        )
    return out


def _port_row(
    row: Row,
    regions: Regions,
    ports: dict[str, Port],
    new_ports: dict[str, tuple[Region, int]],
    day: date,
) -> tuple[str, Port | None, tuple[date, date], dict[str, Any]]:
    """(port name, the known port or None, period, figures); a new port is noted in ``new_ports``."""
    name = row.required("port")
    ref = row.text("region")
    region = regions.get(ref) if ref else None
    if ref and region is None:
        raise row.bad("region", t("unknown region {ref!r}", ref=ref))
    known = ports.get(name) or ports.get(port_key(name))
    if known is None and name in new_ports and region is None:
        region = new_ports[name][0]  # given on an earlier row of this file
    if known is None:
        if region is None:
            raise row.bad("region", t("port {name} is new: give the region it lies in", name=name))
        if regions.city_of(region) is None:
            raise row.bad("region", t("{name} lies in no city", name=region.name))
        if name in new_ports and new_ports[name][0].id != region.id:
            raise row.bad(
                "region",
                t(
                    "port {name} is in {other} on row {row}",
                    name=name,
                    other=new_ports[name][0].name,
                    row=new_ports[name][1],
                ),
            )
        new_ports.setdefault(name, (region, row.line))
    elif region is not None and region.id != known.region_id:
        raise row.bad("region", t("port {name} is already known in another region", name=name))
    period = row.period("period", day)
    figures: dict[str, Any] = {}
    for col in ("berths", "calls", "kwh"):
        value = row.number(col, whole=col != "kwh")
        if value is not None:
            figures[col] = value
    for part, whole in (("small_ashore", "small_ships"), ("washes_done", "washes_required")):
        pair = row.ratio(part, whole)
        if pair is not None:
            figures[part] = pair
    if not figures:
        raise row.bad("port", t("no figures in this row"))
    return name, known, period, {**figures, "note": row.text("note") or None}


def import_port_statistics(
    *, session: Session, path: Path, dry_run: bool = False
) -> dict[str, Any]:
    """Port figures per period; unknown ports are created (with their 所在地区)."""
    require_coordinator(session)
    table = Table(path, COLUMNS)
    regions, day = Regions(session), today(session)
    ports = load_ports(session)
    new_ports: dict[str, tuple[Region, int]] = {}
    parsed: list[tuple[str, tuple[date, date], dict[str, Any]]] = []
    for row, (name, known, period, figures) in table.parse(
        lambda row: _port_row(row, regions, ports, new_ports, day)
    ):
        other = table.earlier(row, (known.key if known else port_key(name), *period))
        if other:
            table.reject(row, "port", t("the same port and period as row {other}", other=other))
        else:
            parsed.append((name, period, figures))
    table.check()
    if not parsed:
        raise UserError(t("{path}: no figures in the file", path=table.source))
    for name, (region, _) in new_ports.items():
        port = add_port(session, regions, name, region)
        ports[port.name] = ports[port.key] = port
    readings: list[dict[str, Any]] = []
    kwh_periods: set[tuple[int, date, date]] = set()
    single = {"berths": ind.SHORE_BERTHS, "calls": ind.SHORE_CALLS, "kwh": ind.SHORE_KWH}
    pairs = {"small_ashore": ind.SMALL_SHIP_ASHORE, "washes_done": ind.TANK_WASHING}
    for name, period, figures in parsed:
        port = ports[name] if name in ports else ports[port_key(name)]
        note = figures.pop("note")
        for col, value in figures.items():
            if col in single:
                readings.append(
                    site_reading(
                        single[col], port.key, port.id, port.region_id, period, value, note=note
                    )
                )
            else:
                readings.append(
                    site_reading(
                        pairs[col],
                        port.key,
                        port.id,
                        port.region_id,
                        period,
                        percent(*value),
                        *value,
                        note=note,
                    )
                )
            if col == "kwh":
                kwh_periods.add((port.id, *period))
    inserted, updated = upsert_readings(session=session, rows=readings, source="shipping")
    by_id = {p.id: p for p in ports.values()}
    yoy = year_on_year(session, by_id, kwh_periods)
    yoy_inserted, yoy_updated = upsert_readings(session=session, rows=yoy, source="shipping")
    summary = table.summary(
        ports_created=len(new_ports),
        readings=len(readings) + len(yoy),
        inserted=inserted + yoy_inserted,
        updated=updated + yoy_updated,
        unchanged=len(readings) + len(yoy) - inserted - updated - yoy_inserted - yoy_updated,
        dry_run=dry_run,
    )
    if inserted or updated or yoy_inserted or yoy_updated:
        audit_record(session, "import.shipping", "measurement", None, after=summary)
    return summary
