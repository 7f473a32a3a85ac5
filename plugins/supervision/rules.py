"""Escalation rules of the rectification ledger. Thresholds: ``[rules."supervision.*"]``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlmodel import select

from duban.core import api
from duban.core.api import EscalationRule, Finding, SweepContext

from .ledger import DOMAIN

OVERDUE = "supervision.overdue"
REOPENED = "supervision.reopened"
SPECIAL = "supervision.special_inspection"


def _both(msgid: str, **values: Any) -> tuple[str, str]:
    return api.t_zh(msgid, **values), msgid.format(**values)


def _overdue_items(ctx: SweepContext) -> Iterator[tuple[Any, Any, int]]:
    """(milestone, obligation, days overdue) for ledger items past their deadline."""
    rows = ctx.session.exec(
        select(api.Milestone, api.Obligation)
        .join(api.Obligation, api.Obligation.id == api.Milestone.obligation_id)
        .where(
            api.Obligation.domain == DOMAIN,
            api.Obligation.state.notin_(["closed", "cancelled"]),
            api.Milestone.due < ctx.as_of,
            (api.Milestone.done_on.is_(None)) | (api.Milestone.done_on >= ctx.as_of),
        )
    )
    for ms, ob in rows:
        if (ob.attrs or {}).get("ledger"):
            yield ms, ob, (ctx.as_of - ms.due).days


def overdue(ctx: SweepContext) -> Iterator[Finding]:
    """Past the rectification deadline -> supervise; ``list`` days past -> public listing."""
    ladder = sorted(((int(days), level) for level, days in ctx.config.items()), reverse=True)
    for ms, ob, days in _overdue_items(ctx):
        level = next((lv for threshold, lv in ladder if days >= threshold), None)
        if level is None:
            continue
        zh, en = _both(
            "Rectification of ledger item {code} was due {due} and is {days} days overdue",
            code=ob.code,
            due=ms.due.isoformat(),
            days=days,
        )
        # The same condition as core's milestone rule: the item carries one escalation.
        yield Finding(
            condition=f"milestone:{ms.id}:overdue",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="milestone",
            subject_id=ms.id,
            obligation_id=ob.id,
            addressed_to_id=ctx.address(level, ob.id),
        )


def reopened(ctx: SweepContext) -> Iterator[Finding]:
    """A closed item reopened by re-inspection (表面整改 / 虚假整改): summon the responsible
    body's head and refer the case for accountability, until the item is closed again."""
    items = ctx.session.exec(
        select(api.Obligation).where(
            api.Obligation.domain == DOMAIN,
            api.Obligation.reopened > 0,
            api.Obligation.state.notin_(["closed", "cancelled"]),
        )
    )
    for ob in items:
        last = ((ob.attrs or {}).get("reopenings") or [{}])[-1]
        for level in ("summon", "refer"):
            zh, en = _both(
                "Ledger item {code} was closed out and reopened by re-inspection: {reason}",
                code=ob.code,
                reason=last.get("reason", ""),
            )
            yield Finding(
                condition=f"{REOPENED}:{ob.id}:{level}",
                level=level,
                reason=zh,
                reason_en=en,
                subject_type="obligation",
                subject_id=ob.id,
                obligation_id=ob.id,
                addressed_to_id=ctx.address(level, ob.id),
            )


def special_inspection(ctx: SweepContext) -> Iterator[Finding]:
    """More than ``max_overdue`` overdue ledger items in one city: a special inspection
    (专项督察) is recorded against that city's people's government."""
    limit = int(ctx.config["max_overdue"])
    level = str(ctx.config["level"])
    cities: Counter[int] = Counter()
    for _, ob, _ in _overdue_items(ctx):
        city = _city_of(ctx, ob.region_id)
        if city is not None:
            cities[city.id] += 1
    for city_id, count in sorted(cities.items()):
        if count <= limit:
            continue
        city = ctx.session.get(api.Region, city_id)
        zh, en = _both(
            "{city} has {n} overdue rectification items (more than {limit}): special inspection",
            city=city.name,
            n=count,
            limit=limit,
        )
        yield Finding(
            condition=f"{SPECIAL}:{city.code}",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="region",
            subject_id=city.id,
            region_id=city.id,
            addressed_to_id=ctx.government(city.id),
        )


def _city_of(ctx: SweepContext, region_id: int | None) -> Any:
    region = ctx.session.get(api.Region, region_id) if region_id else None
    while region is not None and region.level not in ("city", "province"):
        region = ctx.session.get(api.Region, region.parent_id) if region.parent_id else None
    return region if region is not None and region.level == "city" else None


RULES = (
    EscalationRule(
        key=OVERDUE,
        name="整改逾期",
        name_en="Rectification overdue",
        evaluate=overdue,
        defaults={"supervise": 1, "list": 60},
        description="Days past the deadline per level.",
    ),
    EscalationRule(
        key=REOPENED,
        name="销号后复发（表面整改、虚假整改）",
        name_en="Reopened after close-out",
        evaluate=reopened,
    ),
    EscalationRule(
        key=SPECIAL,
        name="逾期问题过多（专项督察）",
        name_en="Too many overdue items",
        evaluate=special_inspection,
        defaults={"max_overdue": 5, "level": "list"},
    ),
)
