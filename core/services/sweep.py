"""The escalation sweep: run every rule, then open, raise and resolve escalations.

One escalation per condition (``Finding.condition``): it opens when the condition is first
found, its level only climbs while the condition holds, and it is resolved (time and
reason) when no rule finds it any more. Escalations are never deleted; a condition found
again after resolution opens a new one. Sweeping twice as of the same date changes nothing.

Speed: everything is read in bulk (a handful of queries whatever the number of
obligations) and written in batches (``batch_writes``); a sweep of a date already swept,
when nothing changed since (database, duban.toml, plugins), returns at once.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import func, or_, text
from sqlmodel import Session, select

from ..audit import record_many
from ..batch_writes import insert_many, insert_tuples, reserve_ids, update_many, without_gc
from ..clock import local_midnight, to_local_date
from ..contributions import Evaluation, Finding, SweepContext
from ..errors import UserError
from ..escalation_rules import MILESTONE_OVERDUE, both
from ..i18n import pick, t, t_zh
from ..models import (
    LEVEL_ORDER,
    Escalation,
    EscalationChange,
    Measurement,
    Milestone,
    Obligation,
    Owner,
    Region,
    Submission,
    Sweep,
    Target,
    TargetStatus,
)
from ..rule_settings import config_count, config_level
from ..search import indexed_after
from ..settings import FollowUpSettings, get_settings
from .base import actor, now, require_coordinator
from .escalations import (
    MANUAL_RULE,
    Addressing,
    FollowUp,
    create_follow_ups,
    first_leads,
)
from .evaluation_store import FIGURES_COLUMNS, EvaluationStore
from .obligations import CLOSED_STATES

_CLOSED = [s.value for s in CLOSED_STATES]
# An opened escalation's columns as the sweep writes them (its instant and ``manual`` apart).
_OPENED = (
    "subject_type",
    "subject_id",
    "obligation_id",
    "condition",
    "rule",
    "level",
    "reason",
    "reason_en",
    "addressed_to_id",
    "convened_by_id",
    "region_id",
    "id",
)
_CHUNK = 900


class SweepEngine:
    """What the rules share during one sweep (``SweepContext.engine``): bulk look-ups, cached."""

    def __init__(self, session: Session, as_of: date) -> None:
        self.session = session
        self.as_of = as_of
        self.now = now(session)
        self.sweep_row: Sweep | None = session.exec(
            select(Sweep)
            .where(Sweep.as_of == as_of, Sweep.dry_run.is_(False))
            .order_by(Sweep.id.desc())
        ).first()
        self._addressing: Addressing | None = None
        self._leads: array[int] | None = None
        self._evaluated: EvaluationStore | None = None
        self._fingerprint: str | None = None
        self._rows: list[tuple[Any, ...]] | None = None
        self._regions: dict[int, str] | None = None

    # Addressing ----------------------------------------------------------------------------
    @property
    def addressing(self) -> Addressing:
        if self._addressing is None:
            self._addressing = Addressing.load(self.session)
        return self._addressing

    def lead(self, obligation_id: int | None) -> int | None:
        if self._leads is None:
            self._leads = first_leads(session=self.session)
        if obligation_id is None or obligation_id >= len(self._leads):
            return None
        return self._leads[obligation_id] or None

    def address(
        self, level: str, obligation_id: int | None, region_id: int | None = None
    ) -> int | None:
        """The lead owner, or a sub-region's government for a regional subject."""
        return self.addressing.address(level, self.lead(obligation_id), region_id)

    def government(self, region_id: int) -> int | None:
        return self.addressing.governments.get(region_id)

    def is_sub_region(self, region_id: int) -> bool:
        return self.addressing.region_parent.get(region_id) is not None

    def region_name(self, region_id: int) -> str:
        if self._regions is None:
            self._regions = dict(self.session.exec(select(Region.id, Region.name)).all())
        return self._regions.get(region_id, str(region_id))

    # Obligations ---------------------------------------------------------------------------
    def split_parents(self) -> set[int]:
        """Obligations decomposed by ``duban split``: their children carry the deadlines."""
        from .split import split_parents

        parents = self.session.exec(
            select(Obligation.parent_id).where(Obligation.parent_id.is_not(None)).distinct()
        ).all()
        return split_parents(session=self.session, candidates=parents)

    def overdue_milestones(self) -> list[tuple[int, int, str, date]]:
        """(milestone id, obligation id, title, due) for milestones past due and not done as
        of the sweep date, on live obligations that are not split into children."""
        rows = _read(
            self.session,
            select(Milestone.id, Milestone.obligation_id, Milestone.title, Milestone.due)
            .join(Obligation, Obligation.id == Milestone.obligation_id)
            .where(
                Milestone.due < self.as_of,
                or_(Milestone.done_on.is_(None), Milestone.done_on >= self.as_of),
                Obligation.state.notin_(_CLOSED),
            ),
        )
        split = self.split_parents()
        return [tuple(r) for r in rows if r[1] not in split]  # type: ignore[misc]

    def rejections(self) -> dict[int, int]:
        """{live obligation id: close-outs rejected since it was last verified}."""
        rows = self.session.exec(
            select(Submission.obligation_id, Submission.decision)
            .join(Obligation, Obligation.id == Submission.obligation_id)
            .where(
                Submission.decision.is_not(None),
                Submission.decided_at <= self.now,
                Obligation.state.notin_(_CLOSED),
            )
            .order_by(Submission.decided_at, Submission.id)
        ).all()
        counts: dict[int, int] = {}
        for ob_id, decision in rows:
            counts[ob_id] = counts.get(ob_id, 0) + 1 if decision == "rejected" else 0
        return counts

    # Targets -------------------------------------------------------------------------------
    def fingerprint(self, *, again: bool = False) -> str:
        """What a sweep depends on, cheaply: every change through duban moves the audit
        chain's head; row counts and highest ids catch readings and targets written around
        it; then the plugins loaded (their rules and evaluators) and duban.toml. ``again``:
        worked out anew (after the sweep's own writes moved the head), not as first read."""
        if self._fingerprint is None or again:
            from ..plugins import get_host

            head = self.session.execute(
                text("SELECT seq, last_hash FROM audit_head WHERE id = 1")
            ).first()
            if self._rows is None:  # read once: a sweep writes neither (counting is not free)
                self._rows = [
                    tuple(self.session.exec(select(func.count(), func.max(model.id))).one())
                    for model in (Measurement, Target)
                ]
            # Names and versions only: a hook failing mid-sweep changes a plugin's status.
            plugins = sorted((p.name, p.version or "") for p in get_host().plugins.values())
            config = get_settings().digest
            digest = hashlib.sha256(repr((tuple(head or ()), self._rows, plugins, config)).encode())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def nothing_changed(self) -> bool:
        """True when this date was swept before and nothing has changed since."""
        stored = (self.sweep_row.counts or {}).get("inputs") if self.sweep_row else None
        return stored is not None and stored == self.fingerprint()

    @property
    def evaluated(self) -> EvaluationStore:
        """Every target's evaluation as of the sweep date, evaluated once per sweep."""
        if self._evaluated is None:
            self._evaluated = EvaluationStore(self.session, self.as_of, _CLOSED)
        return self._evaluated

    @property
    def evaluated_so_far(self) -> EvaluationStore | None:
        """The evaluations if a rule asked for them, else None (nothing evaluated)."""
        return self._evaluated

    def forget_evaluations(self) -> None:
        """Free the evaluations once read for the last time (before the escalations' rows)."""
        self._evaluated = None

    def evaluations(self) -> Iterator[tuple[Any, Evaluation]]:
        """Every target's evaluation as of the sweep date (obligations in any state), in
        target id order."""
        return self.evaluated.pairs()

    def target_evaluations(self) -> Iterator[tuple[Any, Evaluation]]:
        """Evaluations of targets whose obligation is still live (not closed or cancelled)."""
        return self.evaluated.live_pairs()

    def held_before(self, status: str, sweeps: int) -> set[int]:
        """Targets recorded with ``status`` in each of the ``sweeps`` sweeps before this date."""
        if sweeps <= 0:
            return set()
        ids = self.session.exec(
            select(Sweep.id)
            .where(Sweep.as_of < self.as_of, Sweep.dry_run.is_(False))
            .order_by(Sweep.as_of.desc())
            .limit(sweeps)
        ).all()
        if len(ids) < sweeps:
            return set()
        rows = self.session.exec(
            select(TargetStatus.target_id)
            .where(TargetStatus.sweep_id.in_(ids), TargetStatus.status == status)
            .group_by(TargetStatus.target_id)
            .having(func.count() == sweeps)
        ).all()
        return set(rows)


@dataclass(slots=True)  # one per escalation changed: a national sweep holds 860,000
class Change:
    """One escalation opened, raised or resolved (``escalation_id`` is None for a dry-run open)."""

    action: str  # open | raise | resolve
    escalation_id: int | None
    condition: str
    rule: str
    level: str
    previous_level: str | None
    subject_type: str
    subject_id: int
    obligation_id: int | None
    addressed_to_id: int | None
    region_id: int | None
    reason: str
    reason_en: str
    follow_up_id: int | None = None
    before: dict[str, Any] | None = (
        None  # a raised escalation's level, reason and addressee until now
    )


@dataclass
class SweepResult:
    as_of: date
    dry_run: bool
    sweep_id: int | None = None
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    wrote: bool = False

    def of(self, action: str) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    def counts(self) -> dict[str, Any]:
        return {
            "opened": len(self.of("open")),
            "raised": len(self.of("raise")),
            "resolved": len(self.of("resolve")),
            "unchanged": self.unchanged,
            "follow_ups": len(self.follow_ups),
            "failures": len(self.failures),
            "statuses": dict(sorted(self.statuses.items())),
        }

    def to_dict(self, owner_names: dict[int, str]) -> dict[str, Any]:
        def change(c: Change) -> dict[str, Any]:
            return {
                "id": c.escalation_id,
                "action": c.action,
                "level": c.level,
                "previous_level": c.previous_level,
                "rule": c.rule,
                "condition": c.condition,
                "subject_type": c.subject_type,
                "subject_id": c.subject_id,
                "obligation_id": c.obligation_id,
                "addressed_to": owner_names.get(c.addressed_to_id) if c.addressed_to_id else None,
                "reason": pick(c.reason, c.reason_en),
                "follow_up_id": c.follow_up_id,
            }

        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "sweep_id": self.sweep_id,
            "wrote": self.wrote,
            **self.counts(),
            "changes": [change(c) for c in self.changes],
            "follow_up_obligations": self.follow_ups,
            "rule_failures": self.failures,
        }


def last_sweep_date(*, session: Session) -> date | None:
    return session.exec(select(func.max(Sweep.as_of)).where(Sweep.dry_run.is_(False))).one()


def sweep(*, session: Session, as_of: date, dry_run: bool = False) -> SweepResult:
    """Evaluate every rule as of ``as_of`` and bring escalations in line with what they find.

    ``dry_run`` computes the same result and writes nothing. A rule that raises is reported
    in ``failures`` and its open escalations are left as they are.
    """
    with without_gc():
        return _sweep(session, as_of, dry_run)


def _sweep(session: Session, as_of: date, dry_run: bool) -> SweepResult:
    if not dry_run:
        require_coordinator(session)
        last = last_sweep_date(session=session)
        if last is not None and as_of < last:
            raise UserError(
                t(
                    "--as-of {day}: the last sweep was as of {last}; sweeps only move forward "
                    "(use --dry-run to look at an earlier date)",
                    day=as_of.isoformat(),
                    last=last.isoformat(),
                )
            )
    settings = get_settings().escalation
    engine = SweepEngine(session, as_of)
    result = SweepResult(as_of=as_of, dry_run=dry_run)
    if engine.nothing_changed():
        # The same date again over the same database, settings and plugins: every rule would
        # find what the last sweep found, which the escalations already reflect.
        result.sweep_id = engine.sweep_row.id
        result.statuses = dict(engine.sweep_row.counts.get("statuses") or {})
        result.unchanged = session.exec(
            select(func.count())
            .select_from(Escalation)
            .where(Escalation.resolved_at.is_(None), Escalation.manual.is_(False))
        ).one()
        return result
    best, ran = _collect(session, engine, result)
    opened_rows = _read(
        session,
        select(
            Escalation.id,
            Escalation.condition,
            Escalation.level,
            Escalation.rule,
            Escalation.manual,
            Escalation.obligation_id,
            Escalation.follow_up_id,
            Escalation.subject_type,
            Escalation.subject_id,
            Escalation.addressed_to_id,
            Escalation.region_id,
            Escalation.reason,
            Escalation.reason_en,
            Escalation.convened_by_id,
            Escalation.acknowledged_at,
            Escalation.acknowledged_by,
            Escalation.ack_note,
        )
        .where(Escalation.resolved_at.is_(None))
        .order_by(Escalation.id),
    )
    by_condition = {row.condition: row for row in opened_rows if not row.manual}

    for condition, (rule, f) in best.items():
        current = by_condition.get(condition)
        if current is None:
            result.changes.append(_change("open", None, rule, f, None))
        elif LEVEL_ORDER[f.level] > LEVEL_ORDER.get(current.level, -1):
            change = _change("raise", current.id, rule, f, current.level)
            # All the raise replaces, so that reads as of an earlier day restore it.
            change.before = {
                "level": current.level,
                "rule": current.rule,
                "reason": current.reason,
                "reason_en": current.reason_en,
                "addressed_to_id": current.addressed_to_id,
                "convened_by_id": current.convened_by_id,
                "acknowledged_at": current.acknowledged_at,
                "acknowledged_by": current.acknowledged_by,
                "ack_note": current.ack_note,
            }
            result.changes.append(change)
        else:
            result.unchanged += 1
    _plan_resolutions(session, engine, result, opened_rows, best, ran)

    follow_levels = settings.levels
    changed_ids = {c.escalation_id for c in result.changes}
    has_follow_up = {r.id for r in opened_rows if r.follow_up_id is not None}
    pending_follow_ups = [
        c
        for c in result.changes
        if c.action != "resolve"
        and c.level in follow_levels
        and c.escalation_id not in has_follow_up
    ]
    # An open escalation at a follow-up level that still lacks its report (e.g. a rule's level
    # was raised in duban.toml) gets one too.
    pending_follow_ups += [
        _change("keep", r.id, r.rule, r, None)
        for r in opened_rows
        if r.level in follow_levels
        and r.id not in has_follow_up
        and r.id not in changed_ids
        and r.condition in best
    ]
    if engine.evaluated_so_far is not None:
        result.statuses = engine.evaluated_so_far.statuses()
    if dry_run:
        result.follow_ups = [
            {
                "escalation": c.escalation_id,
                "obligation": None,
                "due": (as_of + _days(settings)).isoformat(),
            }
            for c in pending_follow_ups
        ]
        return result
    del best, by_condition, opened_rows  # not read again: freed before the writes
    _apply(session, engine, result, pending_follow_ups, settings)
    return result


def _days(settings: FollowUpSettings) -> timedelta:
    return timedelta(days=settings.days)


def _change(action: str, esc_id: int | None, rule: str, f: Any, previous: str | None) -> Change:
    return Change(
        action=action,
        escalation_id=esc_id,
        condition=f.condition,
        rule=rule,
        level=f.level,
        previous_level=previous,
        subject_type=f.subject_type,
        subject_id=f.subject_id,
        obligation_id=f.obligation_id,
        addressed_to_id=f.addressed_to_id,
        region_id=f.region_id,
        reason=f.reason,
        reason_en=f.reason_en,
    )


def _collect(
    session: Session, engine: SweepEngine, result: SweepResult
) -> tuple[dict[str, tuple[str, Finding]], set[str]]:
    """Run each rule on its own (in a savepoint), keeping the highest finding per condition."""
    from ..plugins import get_host

    best: dict[str, tuple[str, Finding]] = {}
    ran: set[str] = set()
    for key, rule in get_host().rules().items():
        config = get_settings().rule(key, rule.defaults)
        if config.get("enabled", True) is False:
            ran.add(key)  # a disabled rule finds nothing: its escalations resolve
            continue
        config = {k: v for k, v in config.items() if k != "enabled"}
        ctx = SweepContext(session=session, as_of=engine.as_of, config=config, engine=engine)
        try:
            with session.begin_nested():
                found = list(rule.evaluate(ctx))
            for f in found:
                if not isinstance(f, Finding) or f.level not in LEVEL_ORDER:
                    raise TypeError(f"expected Finding with a ladder level, got {f!r:.80}")
        except Exception as exc:  # a broken plugin rule is reported; the other rules still count
            result.failures.append(
                {
                    "rule": key,
                    "plugin": rule.plugin,
                    "error": str(exc)
                    if isinstance(exc, UserError)
                    else f"{type(exc).__name__}: {exc}",
                }
            )
            continue
        ran.add(key)
        for f in found:
            held = best.get(f.condition)
            # On a tie the later rule wins: plugins load after core, and a domain's own rule
            # for a shared condition (a ledger item's milestone) says more than core's.
            if held is None or LEVEL_ORDER[f.level] >= LEVEL_ORDER[held[1].level]:
                best[f.condition] = (key, f)
    _climb_from_record(session, engine.as_of, best)
    return best, ran


def _climb_from_record(session: Session, as_of: date, best: dict[str, tuple[str, Finding]]) -> None:
    """The ladder of an obligation starts when it was recorded: a plan loaded after its
    deadlines passed gets at most the first rung on the day it is loaded, and climbs from
    there by the milestone ladder's days (``core.milestone_overdue``), not from deadlines
    that passed before anyone could act on them."""
    from ..plugins import get_host

    rule = get_host().rules().get(MILESTONE_OVERDUE)
    if rule is None:
        return
    config = get_settings().rule(MILESTONE_OVERDUE, rule.defaults)
    try:
        ladder = sorted(
            (
                config_count(config, MILESTONE_OVERDUE, key, 1),
                config_level({key: key}, MILESTONE_OVERDUE, key),
            )
            for key in config
            if key != "enabled"
        )
    except UserError:
        return  # reported as that rule's failure
    if not ladder:
        return
    # Only obligations recorded within the ladder's span can be capped; read just those.
    since = local_midnight(as_of - timedelta(days=ladder[-1][0]))
    until = local_midnight(as_of + timedelta(days=1))
    recorded = dict(
        _read(
            session,
            select(Obligation.id, Obligation.created_at).where(
                Obligation.created_at > since, Obligation.created_at < until
            ),
        )
    )
    for condition, (key, f) in list(best.items()):
        if f.obligation_id not in recorded:
            continue
        days = (as_of - to_local_date(recorded[f.obligation_id])).days + 1
        allowed = [level for threshold, level in ladder if days >= threshold]
        cap = max(allowed, key=LEVEL_ORDER.__getitem__) if allowed else ladder[0][1]
        if LEVEL_ORDER[f.level] > LEVEL_ORDER[cap]:
            best[condition] = (key, replace(f, level=cap))


def _plan_resolutions(
    session: Session,
    engine: SweepEngine,
    result: SweepResult,
    opened_rows: list[Any],
    best: dict[str, Any],
    ran: set[str],
) -> None:
    """Open escalations whose condition is gone (by a rule that ran) and hand-made ones whose
    obligation was closed or cancelled."""
    candidates = [
        r
        for r in opened_rows
        if (r.manual and r.rule == MANUAL_RULE)
        or (not r.manual and r.condition not in best and r.rule in ran)
    ]
    ids = sorted({r.obligation_id for r in candidates if r.obligation_id})
    states: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        states.update(
            session.exec(
                select(Obligation.id, Obligation.state).where(
                    Obligation.id.in_(ids[start : start + _CHUNK])
                )
            ).all()
        )
    day = engine.as_of.isoformat()
    for r in candidates:
        state = states.get(r.obligation_id)
        if r.manual and state not in _CLOSED:
            continue
        if state in _CLOSED:
            # The state itself is translated too, so not both() (which formats one set of values).
            zh = t_zh(
                "obligation #{id} was {state} by {day}",
                id=r.obligation_id,
                day=day,
                state=t_zh(state),
            )
            en = f"obligation #{r.obligation_id} was {state} by {day}"
        else:
            zh, en = both("the condition no longer holds as of {day}", day=day)
        change = _change("resolve", r.id, r.rule, r, r.level)
        change.reason, change.reason_en = zh, en
        result.changes.append(change)


def _apply(
    session: Session,
    engine: SweepEngine,
    result: SweepResult,
    follow_ups: list[Change],
    settings: FollowUpSettings,
) -> None:
    stamp = engine.now
    events: list[tuple[str, str, Any, Any, Any]] = []
    sweep_row = engine.sweep_row
    statuses = _status_changes(session, engine)
    if sweep_row is not None:
        # The date swept again: usually few figures differ, and whether any does decides.
        statuses = [_joined(statuses)]
    differ = sweep_row is not None and any(statuses[0])
    if not (result.changes or follow_ups or differ or sweep_row is None):
        result.sweep_id = sweep_row.id
        _remember_inputs(session, engine, sweep_row, result)  # e.g. after an unrelated change
        return  # the same sweep again: nothing to write
    result.wrote = True
    counts = {**result.counts(), "failed_rules": {f["rule"]: f["error"] for f in result.failures}}
    if sweep_row is None:
        sweep_row = Sweep(
            as_of=engine.as_of, ran_at=stamp, actor=actor(session), dry_run=False, counts=counts
        )
    else:
        sweep_row.ran_at, sweep_row.actor, sweep_row.counts = stamp, actor(session), counts
    session.add(sweep_row)
    session.flush()
    result.sweep_id = sweep_row.id
    events.append(("sweep.run", "sweep", sweep_row.id, None, {"as_of": engine.as_of, **counts}))
    for status_rows, status_updates in statuses:
        insert_tuples(
            session,
            TargetStatus,
            FIGURES_COLUMNS,
            status_rows,
            same={"as_of": engine.as_of, "sweep_id": sweep_row.id},
        )
        update_many(session, TargetStatus, status_updates)
    engine.forget_evaluations()

    opens = result.of("open")
    # Tuples (``_OPENED``), not dicts: a national sweep holds 126,000 until their events.
    ids = reserve_ids(session, Escalation, len(opens)) if opens else []
    open_rows = [
        (
            c.subject_type,
            c.subject_id,
            c.obligation_id,
            c.condition,
            c.rule,
            c.level,
            c.reason,
            c.reason_en,
            c.addressed_to_id,
            engine.addressing.convener(c.level, c.addressed_to_id),
            c.region_id,
            new_id,
        )
        for c, new_id in zip(opens, ids, strict=True)
    ]
    insert_tuples(
        session, Escalation, _OPENED, open_rows, same={"opened_at": stamp, "manual": False}
    )
    for c, new_id in zip(opens, ids, strict=True):
        c.escalation_id = new_id
    raises = result.of("raise")
    # What each raise sets: the row's new columns, and its event's ``after`` as well.
    raised_to = [
        {
            "level": c.level,
            "rule": c.rule,
            "reason": c.reason,
            "reason_en": c.reason_en,
            "addressed_to_id": c.addressed_to_id,
            "convened_by_id": engine.addressing.convener(c.level, c.addressed_to_id),
            "raised_at": stamp,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "ack_note": None,
        }
        for c in raises
    ]
    update_many(
        session,
        Escalation,
        [{"id": c.escalation_id, **row} for c, row in zip(raises, raised_to, strict=True)],
    )
    # Each raise is kept, so that reads as of an earlier date see the level it left.
    insert_many(
        session,
        EscalationChange,
        [
            {
                "escalation_id": c.escalation_id,
                "at": stamp,
                "from_level": c.before["level"],
                "to_level": c.level,
                "from_addressed_to_id": c.before["addressed_to_id"],
            }
            for c in raises
        ],
    )
    resolves = result.of("resolve")
    update_many(
        session,
        Escalation,
        [
            {"id": c.escalation_id, "resolved_at": stamp, "resolve_reason": c.reason}
            for c in resolves
        ],
    )
    if follow_ups:
        # Thousands of follow-ups: indexed for search set-wise, not by a trigger per row.
        with indexed_after(session):
            made = create_follow_ups(
                session=session,
                as_of=engine.as_of,
                days=settings.days,
                events=events,
                items=[
                    FollowUp(
                        c.escalation_id,
                        c.obligation_id,
                        c.addressed_to_id,
                        c.region_id,
                        c.reason,
                        c.reason_en,
                    )
                    for c in follow_ups
                ],
            )
        due = (engine.as_of + _days(settings)).isoformat()
        for c in follow_ups:
            c.follow_up_id = made[c.escalation_id]
            result.follow_ups.append(
                {"escalation": c.escalation_id, "obligation": c.follow_up_id, "due": due}
            )
    # The escalations' events carry the follow-up each got, so one event per change suffices.
    # Their instant as the log stores it (ISO text), turned into text once, not per event.
    # Each kind's events are made as they are recorded, a batch at a time, not all held.
    opened_at = stamp.isoformat()
    opened = (
        (
            "escalation.open",
            "escalation",
            c.escalation_id,
            None,
            {
                **dict(zip(_OPENED, row, strict=True)),
                "opened_at": opened_at,
                "manual": False,
                "follow_up_id": c.follow_up_id,
            },
        )
        for c, row in zip(opens, open_rows, strict=True)
    )
    raised = (
        (
            "escalation.raise",
            "escalation",
            c.escalation_id,
            c.before,
            {**row, "follow_up_id": c.follow_up_id},
        )
        for c, row in zip(raises, raised_to, strict=True)
    )
    resolved = (
        (
            "escalation.resolve",
            "escalation",
            c.escalation_id,
            None,
            {"resolved_at": stamp, "resolve_reason": c.reason},
        )
        for c in resolves
    )
    linked = (
        (
            "escalation.follow_up",
            "escalation",
            c.escalation_id,
            {"follow_up_id": None},
            {"follow_up_id": c.follow_up_id},
        )
        for c in follow_ups
        if c.action == "keep"
    )
    record_many(session, chain(events, opened, raised, resolved, linked))
    _remember_inputs(session, engine, sweep_row, result)


def _remember_inputs(
    session: Session, engine: SweepEngine, sweep_row: Sweep, result: SweepResult
) -> None:
    """Store the state this date's sweep saw, as it stands after the sweep's own writes, so
    that the next sweep of the same date can reuse its evaluations or skip altogether. Not
    after a rule failed: the next sweep tries again."""
    if result.failures:
        return
    sweep_row.counts = {**(sweep_row.counts or {}), "inputs": engine.fingerprint(again=True)}
    session.add(sweep_row)
    session.flush()


def _status_changes(
    session: Session, engine: SweepEngine
) -> Iterator[tuple[list[tuple], list[dict]]]:
    """TargetStatus rows to insert (``FIGURES_COLUMNS``) and to update for this date's
    sweep, a batch of targets at a time."""
    evaluated = engine.evaluated_so_far
    if evaluated is None:
        return
    for (first, last), figures in evaluated.figures():
        existing: dict[int, Any] = {}
        if engine.sweep_row is not None:
            existing = {
                row.target_id: row
                for row in _read(
                    session,
                    select(
                        TargetStatus.id,
                        TargetStatus.target_id,
                        TargetStatus.status,
                        TargetStatus.latest_value,
                        TargetStatus.latest_date,
                        TargetStatus.expected,
                        TargetStatus.forecast,
                    ).where(
                        TargetStatus.sweep_id == engine.sweep_row.id,
                        TargetStatus.target_id.between(first, last),
                    ),
                )
            }
        if not existing:
            yield figures, []
            continue
        inserts, updates = [], []
        for row in figures:
            old = existing.get(row[0])
            if old is None:
                inserts.append(row)
                continue
            values = dict(zip(FIGURES_COLUMNS[1:], row[1:], strict=True))
            if any(getattr(old, k) != v for k, v in values.items()):
                updates.append({"id": old.id, **values})
        yield inserts, updates


def _joined(batches: Iterator[tuple[list[tuple], list[dict]]]) -> tuple[list[tuple], list[dict]]:
    inserts: list[tuple] = []
    updates: list[dict] = []
    for more, changed in batches:
        inserts += more
        updates += changed
    return inserts, updates


def _read(session: Session, statement: Any) -> list[Any]:
    """Rows of a column query through the session's connection: no ORM result processing,
    which dominates when a sweep reads a hundred thousand rows."""
    return session.connection().execute(statement).all()


def owner_names(*, session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    names: dict[int, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        names.update(
            session.exec(
                select(Owner.id, Owner.name).where(Owner.id.in_(wanted[start : start + _CHUNK]))
            ).all()
        )
    return names
