"""The shipping escalation rules (thresholds in duban.toml under ``[rules."<key>"]``).

* ``shipping.receipt_unclosed``: a receipt not closed (disposal unconfirmed) more than ``days``
  (30) after reception -> supervise, addressed to the port's transport authority; one
  escalation per receipt, resolved once a later import confirms its disposal.
* ``shipping.shore_power_falling``: a port's latest shore-power kWh below the same period a
  year before by more than ``min_drop_pct`` (0) % -> supervise, to the port's authority.
* ``shipping.closure_below_full_at_deadline``: from ``deadline`` (2025-12-31) on, a port whose
  receipts issued in the deadline's year are closed at a rate below ``threshold`` (100 %)
  -> summon, addressed to the body above the port's authority (the city government).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlmodel import select

from duban.core import api
from duban.core.api import EscalationRule, Finding, Level, SweepContext

from . import indicators as ind
from .ports import authorities, load_ports, shift_year
from .receipts import UNCLOSED_DEFAULTS, UNCLOSED_RULE, receipt_rows

SHORE_FALLING = "shipping.shore_power_falling"
CLOSURE_DEADLINE = "shipping.closure_below_full_at_deadline"

DEFAULTS: dict[str, dict[str, Any]] = {
    UNCLOSED_RULE: dict(UNCLOSED_DEFAULTS),
    SHORE_FALLING: {"level": Level.supervise.value, "min_drop_pct": 0.0},
    CLOSURE_DEADLINE: {"level": Level.summon.value, "threshold": 100.0, "deadline": "2025-12-31"},
}


def receipt_unclosed(ctx: SweepContext) -> Iterator[Finding]:
    level = api.config_level(ctx.config, UNCLOSED_RULE)
    days = int(api.config_number(ctx.config, UNCLOSED_RULE, "days", 1, whole=True))
    session = ctx.session
    cutoff = (ctx.as_of - timedelta(days=days + 1)).isoformat()
    day = ctx.as_of.isoformat()
    late = [
        (sid, no, a)
        for sid, no, a in receipt_rows(session)
        if a.get("received", "9")[:10] <= cutoff
        and (not a.get("disposed") or a["disposed"][:10] > day)
    ]
    if not late:
        return
    ports = {p.key: p for p in load_ports(session).values()}
    owners = authorities(session, list({p.id: p for p in ports.values()}.values()))
    ob_id = api.obligation_for(session=session, indicator=ind.CLOSURE_RATE, domain="shipping")
    for sid, number, attrs in late:
        port = ports.get(attrs.get("port", ""))
        if port is None:
            continue
        stage = "awaiting disposal" if attrs.get("transferred") else "awaiting transfer"
        open_days = (ctx.as_of - date.fromisoformat(attrs["received"][:10])).days
        values = {
            "no": number,
            "port": port.name,
            "ship": attrs.get("ship", ""),
            "pollutant": attrs.get("pollutant", ""),
            "day": attrs["received"][:10],
            "days": open_days,
        }
        msgid = (
            "Receipt {no} ({pollutant} from {ship} at {port}, received {day}) is still open after "
            "{days} days: {stage}"
        )
        zh, en = (
            api.t_zh(msgid, stage=api.t_zh(stage), **values),
            msgid.format(stage=stage, **values),
        )
        yield Finding(
            condition=f"shipping:receipt:{sid}:unclosed",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="site",
            subject_id=sid,
            obligation_id=ob_id,
            addressed_to_id=owners[port.id][0],
            region_id=port.region_id,
        )


def shore_power_falling(ctx: SweepContext) -> Iterator[Finding]:
    level = api.config_level(ctx.config, SHORE_FALLING)
    min_drop = api.config_number(ctx.config, SHORE_FALLING, "min_drop_pct", 0)
    session = ctx.session
    ports = {p.id: p for p in load_ports(session).values()}
    if not ports:
        return
    kwh: dict[int, dict[tuple[date, date], float]] = defaultdict(dict)
    m = api.readings_as_of(session=session, as_of=ctx.as_of)
    for sid, start, end, value in session.exec(
        select(m.site_id, m.period_start, m.period_end, m.value).where(
            m.indicator == ind.SHORE_KWH,
            m.site_id.in_(list(ports)),
            m.period_end <= ctx.as_of,
        )
    ):
        kwh[sid][(start, end)] = value
    owners = authorities(session, list(ports.values()))
    ob_id = api.obligation_for(session=session, indicator=ind.SHORE_KWH, domain="shipping")
    for sid, readings in kwh.items():
        start, end = max(readings, key=lambda p: (p[1], p[0]))
        before = readings.get((shift_year(start, -1), shift_year(end, -1)))
        current = readings[(start, end)]
        if not before or current >= before * (1 - min_drop / 100):
            continue
        port = ports[sid]
        change = 100.0 * (current - before) / before
        zh, en = api.both(
            "Shore power at {port} fell year on year: {now} kWh in {start}～{end} against {before} kWh "
            "a year before ({change}%)",
            port=port.name,
            now=f"{current:g}",
            before=f"{before:g}",
            start=start.isoformat(),
            end=end.isoformat(),
            change=f"{change:+.1f}",
        )
        yield Finding(
            condition=f"shipping:shore_power_falling:{sid}",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="site",
            subject_id=sid,
            obligation_id=ob_id,
            addressed_to_id=owners[sid][0],
            region_id=port.region_id,
        )


def closure_at_deadline(ctx: SweepContext) -> Iterator[Finding]:
    level = api.config_level(ctx.config, CLOSURE_DEADLINE)
    threshold = api.config_number(ctx.config, CLOSURE_DEADLINE, "threshold", 0)
    deadline = api.config_date(ctx.config, CLOSURE_DEADLINE, "deadline")
    if ctx.as_of < deadline:
        return
    session = ctx.session
    ports = {p.id: p for p in load_ports(session).values()}
    totals: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    m = api.readings_as_of(session=session, as_of=ctx.as_of)
    for sid, closed, issued in session.exec(
        select(m.site_id, m.numerator, m.denominator).where(
            m.indicator == ind.CLOSURE_RATE,
            m.site_id.in_(list(ports) or [0]),
            m.period_start >= date(deadline.year, 1, 1),
            m.period_end <= deadline,
        )
    ):
        totals[sid][0] += closed or 0
        totals[sid][1] += issued or 0
    owners = authorities(session, list(ports.values()))
    ob_id = api.obligation_for(session=session, indicator=ind.CLOSURE_RATE, domain="shipping")
    for sid, (closed, issued) in sorted(totals.items()):
        if not issued or 100.0 * closed / issued >= threshold:
            continue
        port = ports[sid]
        authority, head = owners[sid]
        zh, en = api.both(
            "Receipts of {port} issued in {year}: {closed} of {issued} closed ({rate}%) by the deadline "
            "{deadline}, below {target}%",
            port=port.name,
            year=deadline.year,
            closed=f"{closed:g}",
            issued=f"{issued:g}",
            rate=f"{100.0 * closed / issued:.2f}",
            deadline=deadline.isoformat(),
            target=f"{threshold:g}",
        )
        yield Finding(
            condition=f"shipping:closure_at_deadline:{sid}:{deadline.isoformat()}",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="site",
            subject_id=sid,
            obligation_id=ob_id,
            addressed_to_id=head or authority,
            region_id=port.region_id,
        )


RULES: tuple[EscalationRule, ...] = (
    EscalationRule(
        UNCLOSED_RULE,
        "船舶污染物联单超期未闭环",
        "Ship pollutant receipt open too long",
        receipt_unclosed,
        DEFAULTS[UNCLOSED_RULE],
        "A receipt whose disposal is not confirmed this many days after reception; addressed "
        "to the port's transport authority.",
    ),
    EscalationRule(
        SHORE_FALLING,
        "港口岸电使用量同比下降",
        "Shore power use at a port falling year on year",
        shore_power_falling,
        DEFAULTS[SHORE_FALLING],
        "The latest period's kWh below the same period a year before by more than min_drop_pct %.",
    ),
    EscalationRule(
        CLOSURE_DEADLINE,
        "联单闭环率到期未达100%",
        "Receipt closure rate below 100% at the deadline",
        closure_at_deadline,
        DEFAULTS[CLOSURE_DEADLINE],
        "From the deadline on: a port's receipts of the deadline's year closed at a rate below "
        "the threshold (%).",
    ),
)
