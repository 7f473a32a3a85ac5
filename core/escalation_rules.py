"""Core's escalation rules. Each yields a ``Finding`` per condition holding as of the sweep
date; the sweep (services/sweep.py) opens, raises and resolves escalations from them.

Thresholds are the rules' ``defaults``, overridable in duban.toml under ``[rules."<key>"]``
(docs/configuration.md). ``ctx.engine`` is the sweep's ``SweepEngine``: bulk look-ups shared
by every rule, so no rule queries per obligation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from fnmatch import fnmatchcase
from typing import Any

from .contributions import EscalationRule, Finding, SweepContext
from .errors import UserError
from .i18n import t, t_zh
from .models import LEVEL_ORDER, Level
from .rule_settings import config_count, config_level, rule_place

MILESTONE_OVERDUE = "core.milestone_overdue"
TARGET_OFF_TRACK = "core.target_off_track"
TARGET_MISSED = "core.target_missed"
REGION_QUALITY = "core.region_quality_missed"
CLOSEOUT_REJECTED = "core.closeout_rejected"
REPORT_MISSING = "core.report_missing"


def both(msgid: str, **values: Any) -> tuple[str, str]:
    """A reason in Chinese and English: escalations store both, whoever reads them later."""
    return t_zh(msgid, **values), msgid.format(**values)


def _target_name(target: Any) -> str:
    return target.name or target.name_en or target.indicator


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


# Milestones -------------------------------------------------------------------------------
def day_ladder(cfg: Mapping[str, Any], rule: str) -> list[tuple[int, int, str]]:
    """Settings whose keys are levels and values days: (days, rank, level), most days first,
    so that the first threshold reached decides."""
    ladder = []
    for key in cfg:
        if key != "enabled":
            level = config_level({key: key}, rule, key)
            ladder.append((config_count(cfg, rule, key, 1), LEVEL_ORDER[level], level))
    return sorted(ladder, reverse=True)


def milestone_overdue(ctx: SweepContext) -> Iterator[Finding]:
    """Days past a milestone's due date map to a rung: by default 1 -> supervise,
    30 -> list, 90 -> summon. Keys of the settings are levels, values days overdue."""
    ladder = day_ladder(ctx.config, MILESTONE_OVERDUE)
    engine = ctx.engine
    overdue = engine.overdue_milestones()
    delegated = _delegated(ctx, {ob_id for _, ob_id, _, _ in overdue})
    for ms_id, ob_id, title, due in overdue:
        if ob_id in delegated:
            continue
        days = (ctx.as_of - due).days
        level = next((lv for threshold, _, lv in ladder if days >= threshold), None)
        if level is None:
            continue
        zh, en = both(
            "Milestone “{title}” was due {due} and is {days} days overdue",
            title=title,
            due=due.isoformat(),
            days=days,
        )
        yield Finding(
            condition=f"milestone:{ms_id}:overdue",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="milestone",
            subject_id=ms_id,
            obligation_id=ob_id,
            addressed_to_id=engine.address(level, ob_id),
        )


def _delegated(ctx: SweepContext, obligation_ids: set[int]) -> set[int]:
    """Obligations whose ``attrs.overdue_rule`` hands their deadlines to another registered rule
    (a plugin with a ladder of its own, like the rectification ledger's)."""
    from sqlmodel import select

    from .models import Obligation
    from .plugins import get_host

    others = set(get_host().rules()) - {MILESTONE_OVERDUE}
    found: set[int] = set()
    wanted = sorted(obligation_ids)
    for start in range(0, len(wanted), 900):
        rows = ctx.session.exec(
            select(Obligation.id, Obligation.attrs).where(
                Obligation.id.in_(wanted[start : start + 900]), Obligation.attrs.is_not(None)
            )
        ).all()
        found.update(
            ob_id
            for ob_id, attrs in rows
            if isinstance(attrs, dict) and attrs.get("overdue_rule") in others
        )
    return found


# Targets ----------------------------------------------------------------------------------
def target_off_track(ctx: SweepContext) -> Iterator[Finding]:
    """A target evaluated ``off_track`` now and in the previous ``sweeps - 1`` sweeps."""
    sweeps = config_count(ctx.config, TARGET_OFF_TRACK, "sweeps", 1)
    level = config_level(ctx.config, TARGET_OFF_TRACK)
    engine = ctx.engine
    held = engine.held_before("off_track", sweeps - 1)
    for target, ev in engine.target_evaluations():
        if ev.status != "off_track" or (sweeps > 1 and target.id not in held):
            continue
        zh, en = both(
            "Target “{name}” has been off track in {n} consecutive sweeps (latest {value}, "
            "expected {expected} by now, forecast {forecast} at {due})",
            name=_target_name(target),
            n=sweeps,
            value=_fmt(ev.latest_value),
            expected=_fmt(ev.expected),
            forecast=_fmt(ev.forecast),
            due=target.due.isoformat(),
        )
        yield _target_finding(engine, target, level, zh, en)


def target_missed(ctx: SweepContext) -> Iterator[Finding]:
    """A target evaluated ``missed``: its due date passed without it being met."""
    level = config_level(ctx.config, TARGET_MISSED)
    engine = ctx.engine
    for target, ev in engine.target_evaluations():
        if ev.status != "missed":
            continue
        zh, en = both(
            "Target “{name}” was missed at its due date {due} (latest {value}, needed {op} {goal})",
            name=_target_name(target),
            due=target.due.isoformat(),
            value=_fmt(ev.latest_value),
            op=target.comparator,
            goal=_fmt(target.value),
        )
        yield _target_finding(engine, target, level, zh, en)


def _target_finding(engine: Any, target: Any, level: str, zh: str, en: str) -> Finding:
    # Off track and missed share one condition, so the same escalation climbs from one to the other.
    return Finding(
        condition=f"target:{target.id}",
        level=level,
        reason=zh,
        reason_en=en,
        subject_type="target",
        subject_id=target.id,
        obligation_id=target.obligation_id,
        addressed_to_id=engine.address(level, target.obligation_id, target.region_id),
        region_id=target.region_id,
    )


def is_quality_target(target: Any, patterns: list[str]) -> bool:
    """``attrs.quality`` on the target decides; otherwise its indicator key matches a pattern."""
    flag = (target.attrs or {}).get("quality")
    if isinstance(flag, bool):
        return flag
    return any(fnmatchcase(target.indicator, p) for p in patterns)


def region_quality_missed(ctx: SweepContext) -> Iterator[Finding]:
    """A city or county that missed an environmental quality target at its due date: its
    people's government faces a regional approval freeze until a reading meets the target."""
    level = config_level(ctx.config, REGION_QUALITY)
    patterns = ctx.config.get("indicators")
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise UserError(
            t(
                '{where}: must be a list of indicator patterns such as "water.*"',
                where=rule_place(REGION_QUALITY, "indicators"),
            )
        )
    engine = ctx.engine
    for target, ev in engine.target_evaluations():
        if (
            ev.status != "missed"
            or target.region_id is None
            or not engine.is_sub_region(target.region_id)
        ):
            continue
        if not is_quality_target(target, patterns):
            continue
        government = engine.government(target.region_id)
        if government is None:
            continue
        zh, en = both(
            "{region} missed the quality target “{name}” due {due} (latest {value}, needed {op} {goal})",
            region=engine.region_name(target.region_id),
            name=_target_name(target),
            due=target.due.isoformat(),
            value=_fmt(ev.latest_value),
            op=target.comparator,
            goal=_fmt(target.value),
        )
        yield Finding(
            condition=f"region:{target.region_id}:target:{target.id}",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="region",
            subject_id=target.region_id,
            obligation_id=target.obligation_id,
            addressed_to_id=government,
            region_id=target.region_id,
        )


# Close-out --------------------------------------------------------------------------------
def closeout_rejected(ctx: SweepContext) -> Iterator[Finding]:
    """A close-out rejected ``rejections`` times since the obligation was last verified."""
    needed = config_count(ctx.config, CLOSEOUT_REJECTED, "rejections", 1)
    level = config_level(ctx.config, CLOSEOUT_REJECTED)
    engine = ctx.engine
    for ob_id, count in engine.rejections().items():
        if count < needed:
            continue
        zh, en = both("Its close-out was rejected {n} times", n=count)
        yield Finding(
            condition=f"obligation:{ob_id}:rejected",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="obligation",
            subject_id=ob_id,
            obligation_id=ob_id,
            addressed_to_id=engine.address(level, ob_id),
        )


# Progress reports ----------------------------------------------------------------------------
def report_missing(ctx: SweepContext) -> Iterator[Finding]:
    """The latest due period's progress report not received from the lead (催报, then 督办):
    days since the first unreported period's due day map to a rung, as for milestones."""
    from .services.reports import overdue_reports

    ladder = day_ladder(ctx.config, REPORT_MISSING)
    engine = ctx.engine
    levels: dict[date, str | None] = {}
    # Obligations on one calendar owe the same period: their reasons differ only by count.
    reasons: dict[tuple[date, str, date, int], tuple[str, str]] = {}
    for ob_id, period, due, first_due, periods in overdue_reports(
        session=ctx.session, as_of=ctx.as_of
    ):
        if first_due not in levels:
            days = (ctx.as_of - first_due).days
            levels[first_due] = next((lv for threshold, _, lv in ladder if days >= threshold), None)
        level = levels[first_due]
        if level is None:
            continue
        key = (period.start, period.frequency, due, periods)  # plain values hash fast
        if key not in reasons:
            reasons[key] = both(
                "Progress report for {period} not received (due {due}); {n} period(s) unreported",
                period=period.label,
                due=due.isoformat(),
                n=periods,
            )
        zh, en = reasons[key]
        yield Finding(
            condition=f"obligation:{ob_id}:report_missing",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="obligation",
            subject_id=ob_id,
            obligation_id=ob_id,
            addressed_to_id=engine.address(level, ob_id),
        )


RULES = (
    EscalationRule(
        key=MILESTONE_OVERDUE,
        name="里程碑逾期",
        name_en="Milestone overdue",
        evaluate=milestone_overdue,
        defaults={Level.supervise.value: 1, Level.list.value: 30, Level.summon.value: 90},
        description="Days overdue per rung (keys are levels).",
    ),
    EscalationRule(
        key=TARGET_OFF_TRACK,
        name="指标持续偏离",
        name_en="Target off track",
        evaluate=target_off_track,
        defaults={"sweeps": 2, "level": Level.supervise.value},
        description="Off track in this many consecutive sweeps.",
    ),
    EscalationRule(
        key=TARGET_MISSED,
        name="指标未完成",
        name_en="Target missed",
        evaluate=target_missed,
        defaults={"level": Level.summon.value},
    ),
    EscalationRule(
        key=REGION_QUALITY,
        name="区域环境质量目标未完成",
        name_en="Region missed a quality target",
        evaluate=region_quality_missed,
        defaults={"level": Level.freeze.value, "indicators": ["water.*", "air.*", "soil.*"]},
        description="Targets on these indicators (glob patterns) are quality targets.",
    ),
    EscalationRule(
        key=CLOSEOUT_REJECTED,
        name="销号申请多次退回",
        name_en="Close-out rejected repeatedly",
        evaluate=closeout_rejected,
        defaults={"rejections": 2, "level": Level.summon.value},
    ),
    EscalationRule(
        key=REPORT_MISSING,
        name="进展报送逾期未报",
        name_en="Progress report missing",
        evaluate=report_missing,
        defaults={Level.remind.value: 1, Level.supervise.value: 10},
        description="Days after the first unreported period's due day per rung (keys are levels).",
    ),
)
