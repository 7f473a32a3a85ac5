"""``duban import shipping-receipts FILE``: ship pollutant receipts (接收-转运-处置联单), one row
each, and the closure indicators computed from them. Layout: docs/plugins/shipping.md.

Receipts are kept as sites of kind ``pollutant_receipt`` keyed by receipt number, so that a later
export of the same ledger updates each receipt (a transfer or disposal confirmed since) instead
of counting it twice. After an import, every month of every port the file touches is recomputed
from all the port's receipts: issued, closed, the closure rate (by month of issue), and the
receipts open at each month's end for longer than the unclosed-receipt rule's ``days``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from duban.core.api import (
    LOCAL_TZ,
    Column,
    Row,
    Site,
    Table,
    UserError,
    audit_record,
    config_number,
    get_settings,
    last_of_month,
    month_ends,
    month_start,
    now,
    parse_moment,
    percent,
    require_coordinator,
    site_reading,
    t,
    today,
    upsert_readings,
    upsert_sites,
)

from . import indicators as ind
from .ports import Port, load_ports, port_key

RECEIPT_KIND = "pollutant_receipt"
UNCLOSED_RULE = "shipping.receipt_unclosed"
UNCLOSED_DEFAULTS = {"level": "supervise", "days": 30}

COLUMNS = (
    Column("number", ("联单编号", "联单号", "receipt"), required=True),
    Column("ship", ("船舶名称", "船名", "ship"), required=True),
    Column("port", ("港口", "接收港口", "port"), required=True),
    Column("pollutant", ("污染物类型", "污染物种类", "pollutant"), required=True),
    Column("quantity", ("数量", "接收量", "quantity"), required=True),
    Column("unit", ("单位", "unit")),
    Column("received", ("接收时间", "received_at"), required=True),
    Column("transferred", ("转运时间", "transferred_at")),
    Column("disposed", ("处置时间", "disposed_at")),
    Column("note", ("备注", "note")),
)

# Accepted spellings -> the kind stored.
POLLUTANTS = {
    "生活污水": "生活污水",
    "含油污水": "含油污水",
    "油污水": "含油污水",
    "舱底油污水": "含油污水",
    "生活垃圾": "生活垃圾",
    "船舶垃圾": "生活垃圾",
    "化学品洗舱水": "化学品洗舱水",
    "洗舱水": "化学品洗舱水",
    "残油": "残油",
    "油泥": "残油",
    "废油": "残油",
    "其他": "其他",
}
UNITS = {"m³", "m3", "立方米", "t", "吨", "kg", "千克"}


def unclosed_days() -> int:
    return int(
        config_number(
            get_settings().rule(UNCLOSED_RULE, UNCLOSED_DEFAULTS),
            UNCLOSED_RULE,
            "days",
            1,
            whole=True,
        )
    )


def _stamp(row: Row, key: str, limit: datetime) -> datetime | None:
    """A local time (2024-06-01 08:30, 2024/6/1 8:30:00, a time cell, or a date alone)."""
    raw = row.text(key)
    if not raw:
        return None
    try:
        value = parse_moment(row.value(key))
    except ValueError:
        raise row.bad(key, t("not a time (2024-06-01 08:30): {value!r}", value=raw)) from None
    if value.tzinfo is not None:
        value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
    if value > limit:
        raise row.bad(key, t("{value} is after now", value=raw))
    return value


def _parse(row: Row, ports: dict[str, Port], limit: datetime) -> dict[str, Any]:
    number = row.required("number")
    ship = row.required("ship")
    name = row.required("port")
    port = ports.get(name) or ports.get(port_key(name))
    if port is None:
        raise row.bad(
            "port", t("unknown port {name!r}; `duban import shipping` adds ports", name=name)
        )
    kind = POLLUTANTS.get(row.required("pollutant"))
    if kind is None:
        raise row.bad(
            "pollutant",
            t(
                "{value!r} is not one of {choices}",
                value=row.text("pollutant"),
                choices="、".join(dict.fromkeys(POLLUTANTS.values())),
            ),
        )
    quantity = row.number("quantity")
    if quantity is None:
        raise row.bad("quantity", t("empty"))
    unit = row.text("unit") or None
    if unit is not None and unit not in UNITS:
        raise row.bad(
            "unit",
            t("{value!r} is not one of {choices}", value=unit, choices="、".join(sorted(UNITS))),
        )
    received = _stamp(row, "received", limit)
    if received is None:
        raise row.bad("received", t("empty"))
    transferred, disposed = _stamp(row, "transferred", limit), _stamp(row, "disposed", limit)
    if transferred is not None and transferred < received:
        raise row.bad(
            "transferred",
            t(
                "before {other} ({value})",
                other=row.header("received"),
                value=received.isoformat(sep=" "),
            ),
        )
    if disposed is not None:
        if transferred is None:
            raise row.bad(
                "disposed",
                t(
                    "disposed but never transferred: fill in {other}",
                    other=row.header("transferred"),
                ),
            )
        if disposed < transferred:
            raise row.bad(
                "disposed",
                t(
                    "before {other} ({value})",
                    other=row.header("transferred"),
                    value=transferred.isoformat(sep=" "),
                ),
            )
    return {
        "key": f"{RECEIPT_KIND}:{number}",
        "name": number,
        "region_id": port.region_id,
        "attrs": {
            "port": port.key,
            "ship": ship,
            "pollutant": kind,
            "quantity": quantity,
            "unit": unit,
            "received": received.isoformat(sep=" "),
            "transferred": transferred.isoformat(sep=" ") if transferred else None,
            "disposed": disposed.isoformat(sep=" ") if disposed else None,
            "note": row.text("note") or None,
        },
    }


def import_receipts(*, session: Session, path: Path, dry_run: bool = False) -> dict[str, Any]:
    """Import receipts (all or nothing), then recompute the touched ports' closure indicators."""
    require_coordinator(session)
    table = Table(path, COLUMNS)
    ports = load_ports(session)
    if not ports:
        raise UserError(
            t("{path}: no ports yet; `duban import shipping` adds them", path=table.source)
        )
    limit = now(session).astimezone(LOCAL_TZ).replace(tzinfo=None)
    parsed: dict[str, dict[str, Any]] = {}
    for row, found in table.parse(lambda row: _parse(row, ports, limit)):
        other = table.earlier(row, found["key"])
        if other:
            table.reject(
                row,
                "number",
                t("receipt {no} is already on row {other}", no=found["name"], other=other),
            )
        else:
            parsed[found["key"]] = found
    table.check()
    if not parsed:
        raise UserError(t("{path}: no receipts in the file", path=table.source))
    changes = upsert_sites(session=session, kind=RECEIPT_KIND, sites=parsed)
    touched = {p["attrs"]["port"] for p in parsed.values()}
    # The touched ports' receipts: those already stored (as now corrected) and the new ones.
    ledger = {
        k: attrs for k, attrs in changes.before.items() if attrs and attrs.get("port") in touched
    }
    ledger.update({k: p["attrs"] for k, p in parsed.items()})
    written = refresh_closure(
        session=session, ports=[ports[k] for k in sorted(touched)], receipts=list(ledger.values())
    )
    summary = table.summary(
        **changes.counts(len(parsed)), ports=len(touched), closure_readings=written, dry_run=dry_run
    )
    if changes.created or changes.updated:
        audit_record(session, "import.shipping_receipts", "site", None, after=summary)
    return summary


def _month(day: date) -> tuple[date, date]:
    return month_start(day), last_of_month(day)


def refresh_closure(*, session: Session, ports: list[Port], receipts: list[dict[str, Any]]) -> int:
    """Closure readings of ``ports`` from all their ``receipts`` (attrs dicts); returns how many
    readings were written or corrected."""
    days = unclosed_days()
    by_key = {p.key: p for p in ports}
    issued: dict[tuple[str, date], int] = defaultdict(int)
    closed: dict[tuple[str, date], int] = defaultdict(int)
    spans: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
    first = None
    for r in receipts:
        port = r["port"]
        if port not in by_key:
            continue
        received = date.fromisoformat(r["received"][:10])
        month = received.replace(day=1)
        issued[(port, month)] += 1
        disposed = date.fromisoformat(r["disposed"][:10]) if r.get("disposed") else None
        if disposed is not None:
            closed[(port, month)] += 1
        # Overdue at a month's end E when E - received > days and it was still open at E.
        spans[port].append((received + timedelta(days=days + 1), disposed))
        first = received if first is None or received < first else first
    if first is None:
        return 0
    rows = []
    for (port_key_, month), n in issued.items():
        port = by_key[port_key_]
        period = _month(month)
        done = closed.get((port_key_, month), 0)
        rows.append(
            site_reading(ind.RECEIPTS_ISSUED, port.key, port.id, port.region_id, period, float(n))
        )
        rows.append(
            site_reading(
                ind.RECEIPTS_CLOSED, port.key, port.id, port.region_id, period, float(done)
            )
        )
        rows.append(
            site_reading(
                ind.CLOSURE_RATE,
                port.key,
                port.id,
                port.region_id,
                period,
                percent(done, n),
                float(done),
                float(n),
            )
        )
    ends = month_ends(first, today(session))
    for port_key_, items in spans.items():
        port = by_key[port_key_]
        counts = [0] * len(ends)
        for late_from, closed_on in items:
            i = bisect_left(ends, late_from)
            while i < len(ends) and (closed_on is None or ends[i] < closed_on):
                counts[i] += 1
                i += 1
        for end, count in zip(ends, counts, strict=True):
            rows.append(
                site_reading(
                    ind.RECEIPTS_OVERDUE,
                    port.key,
                    port.id,
                    port.region_id,
                    _month(end),
                    float(count),
                )
            )
    inserted, updated = upsert_readings(session=session, rows=rows, source="shipping-receipts")
    return inserted + updated


def receipt_rows(session: Session) -> list[tuple[int, str, dict[str, Any]]]:
    """(site id, receipt number, attrs) of every receipt."""
    return [
        (sid, name, attrs or {})
        for sid, name, attrs in session.exec(
            select(Site.id, Site.name, Site.attrs).where(Site.kind == RECEIPT_KIND)
        )
    ]
