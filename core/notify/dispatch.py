"""The notification ledger and the reminder pass.

A pass (``run_pass``) goes through four steps, each in its own short transaction:

1. **plan**: what fell due since the last pass (``reminders.plan_*``), minus what the ledger
   already holds; render each message once, in the recipient's language;
2. **record**: insert one ledger row per (subject, recipient, occasion, channel) with
   ``INSERT .. ON CONFLICT (key) DO NOTHING``: the unique key is what makes every reminder
   exactly-once, across restarts and between schedulers sharing a database;
3. **claim**: take due rows (new, failed and past their backoff, or orphaned by a crash)
   with one conditional ``UPDATE .. RETURNING``; on PostgreSQL ``FOR UPDATE SKIP LOCKED`` so
   two schedulers split the work instead of waiting on each other;
4. **send** outside any transaction, concurrency bounded by a semaphore, each delivery
   under a timeout; outcomes are written back in batches, failures with their error and the
   time of the next attempt (exponential backoff).

Nothing is sent before its row is committed as claimed, so a row is sent by one worker
only. A worker that dies mid-send leaves rows ``sending``; after ``claim_timeout`` another
pass takes them over (the only case where a message can go out twice).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import inspect
import logging
import os
import socket
import time as _time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from .. import audit
from ..clock import LOCAL_TZ, Clock, to_local_date
from ..contributions import Message
from ..errors import UserError
from ..i18n import t
from ..models import Notification, Owner, OwnerRobot, Setting
from ..services.base import require_coordinator
from ..settings import get_settings
from .ledger import (
    SEEN,
    Outcome,
    advance_watermark,
    audit_seq,
    claim,
    claimable,
    existing_keys,
    insert_ledger,
    put_setting,
    read_watermark,
    record_outcomes,
)
from .messages import render, render_digest
from .occasions import Due, ledger_key, plan_escalations, plan_reminders, plan_report_reminders
from .pacing import Pacer, shared
from .robots import Robot, WebhookSettings, split_message
from .settings import NotifySettings
from .transport import RateLimited, delivery_context

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("duban.notify")
# Failures are in the ledger and the pass report; the scheduler configures logging to show them.
log.addHandler(logging.NullHandler())

_FLUSH_EVERY = 500
_RATE_TRIES = 3  # sends of one message in a pass when a robot answers "too many"


# A pass -----------------------------------------------------------------------------------
@dataclass
class PassReport:
    at: datetime
    worker: str
    dry_run: bool = False
    quiet: bool = False
    rows: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0

    def add(
        self, *, subject: str, owner: str, channel: str, occasion: str, status: str, key: str
    ) -> None:
        self.rows.append(
            {
                "subject": subject,
                "owner": owner,
                "channel": channel,
                "occasion": occasion,
                "status": status,
                "key": key,
            }
        )
        self.counts[status] += 1

    def summary(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "nothing due"
        return f"{parts} ({self.seconds:.2f} s)"


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _payload(message: Message) -> dict[str, Any]:
    return {
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "data": dict(message.data),
    }


def _row(due: Due, message: Message | None, status: str, at: datetime) -> dict[str, Any]:
    return {
        "key": due.key,
        "channel": due.channel,
        "owner_id": due.recipient.owner_id,
        "robot_id": due.route.robot_id,
        "recipient": due.address,
        "subject": due.subject,
        "occasion": due.occasion,
        "payload": _payload(message) if message else None,
        "status": status,
        "attempts": 0,
        "next_attempt_at": at if status == "pending" else None,
        "created_at": at,
    }


@dataclass
class _Plan:
    singles: list[tuple[Due, Message]]
    folded: dict[tuple[str, str], list[tuple[Due, Message]]]  # fell while no pass ran
    superseded: list[tuple[Due, Message]]
    start: date
    seq: int  # the audit sequence number planned against
    # More for one robot than it takes in a minute: each owner's folded into one message.
    paced: dict[tuple[str, str], list[tuple[Due, Message]]] = field(default_factory=dict)

    def groups(self) -> list[tuple[list[tuple[Due, Message]], bool]]:
        """What becomes digests: (items, paced)."""
        return [(g, False) for g in self.folded.values()] + [(g, True) for g in self.paced.values()]


def _plan(session: Session, cfg: NotifySettings, robots: WebhookSettings, at: datetime) -> _Plan:
    today = to_local_date(at)
    horizon = today - timedelta(days=cfg.catch_up_days)
    mark = read_watermark(session)
    plan = _Plan([], defaultdict(list), [], horizon, audit_seq(session))
    if mark is not None:
        last = to_local_date(mark)
        seen = session.get(Setting, SEEN)
        if last == today and seen is not None and seen.value == str(plan.seq):
            plan.start = today
            return plan  # a pass ran today and nothing changed since
        # Every pass covers the days since the one before; after a long outage the
        # occasions older than the horizon are folded into digests.
        plan.start = max(min(last, today), today - timedelta(days=cfg.max_catch_up_days))
    due = plan_reminders(
        session, today=today, start=plan.start, horizon=horizon, audience=cfg.audience
    ) + plan_report_reminders(
        session, today=today, start=plan.start, horizon=horizon, audience=cfg.audience
    )
    # Escalation events are instants: everything since the local day the window starts.
    since = datetime.combine(plan.start, time.min, LOCAL_TZ).astimezone(UTC)
    esc_horizon = datetime.combine(horizon, time.min, LOCAL_TZ).astimezone(UTC)
    notices = plan_escalations(
        session,
        now=at,
        since=since,
        horizon=esc_horizon,
        audience=cfg.audience,
        coordinators=cfg.coordinators,
    )
    known = existing_keys(session, (d.key for d in notices))
    for d in [*due, *(n for n in notices if n.key not in known)]:
        # A folded occasion reads as it would have on the day it fell ("due tomorrow").
        pair = (d, render(d, d.fall if d.digest else today))
        if d.digest:
            plan.folded[(d.recipient.ref, d.route.slot)].append(pair)
        elif d.superseded:
            plan.superseded.append(pair)
        else:
            plan.singles.append(pair)
    _pace(plan, robots)
    return plan


def _pace(plan: _Plan, cfg: WebhookSettings) -> None:
    """Where one robot URL would get more messages than it takes in a minute, fold each
    owner's into one digest (owners share robots: a WeCom group of several departments)."""
    per_url: dict[str, list[tuple[Due, Message]]] = defaultdict(list)
    for pair in plan.singles:
        if pair[0].route.robot_id is not None:
            per_url[pair[0].route.url].append(pair)
    folded: set[str] = set()
    for items in per_url.values():
        limit = cfg.per_minute.get(items[0][0].route.preset, 0)
        if not limit or len(items) <= limit:
            continue
        per_owner: dict[tuple[str, str], list[tuple[Due, Message]]] = defaultdict(list)
        for d, m in items:
            per_owner[(d.recipient.ref, d.route.slot)].append((d, m))
        for slot, group in per_owner.items():
            if len(group) > 1:
                plan.paced[slot] = group
                folded.update(d.key for d, _ in group)
    if folded:
        plan.singles = [(d, m) for d, m in plan.singles if d.key not in folded]


def _digest_parts(
    items: Sequence[tuple[Due, Message]], start: date, today: date, paced: bool
) -> list[tuple[Due, Message]]:
    """The digest of ``items`` as ledger rows: one, or for a robot as many parts as its size
    limit needs, each with its own key (exactly-once per part)."""
    first = items[0][0]
    digest_id = hashlib.sha256("\n".join(sorted(d.key for d, _ in items)).encode()).hexdigest()[:16]
    subject = f"digest:{digest_id}"
    route = first.route
    message = render_digest(first.recipient, items, today, start, paced=paced)
    parts = split_message(route.preset, message, route.mentions) if route.robot_id else [message]
    out = []
    for i, part in enumerate(parts, 1):
        key = ledger_key(
            subject if len(parts) == 1 else f"{subject}/{i}",
            first.recipient.ref,
            "digest",
            route.slot,
        )
        due = Due(key, subject, "digest", route, start, False, first.recipient, {"kind": "digest"})
        out.append((due, replace(part, data={**part.data, "key": key})))
    return out


def run_pass(
    *,
    engine: Engine,
    clock: Clock,
    actor: str,
    worker: str | None = None,
    dry_run: bool = False,
    should_stop: Callable[[], bool] | None = None,
    pacer: Pacer | None = None,
) -> PassReport:
    """One reminder pass as of ``clock.now()``: plan, record, claim and send (see module doc).
    ``pacer`` spaces posts to each robot (default: the process's own)."""
    from ..db import open_session

    started = _time.perf_counter()
    cfg = get_settings().notify
    robots = get_settings().webhook
    stop = should_stop or (lambda: False)
    at = clock.now()
    report = PassReport(
        at=at, worker=worker or default_worker(), dry_run=dry_run, quiet=cfg.quiet_now(at)
    )
    serve = ("inbox",) if report.quiet else None  # channels served now (None: all)
    with open_session(engine, actor=actor, clock=clock, write=not dry_run) as session:
        if not dry_run:
            require_coordinator(session)
        plan = _plan(session, cfg, robots, at)
        if dry_run:
            _report_dry(session, report, plan, cfg, at, serve)
        else:
            _record_plan(session, report, plan, at, serve)
            advance_watermark(session, at)
            put_setting(session, SEEN, str(plan.seq))
    if not dry_run:
        asyncio.run(
            _deliver(
                engine=engine,
                clock=clock,
                actor=actor,
                cfg=cfg,
                robots=robots,
                pacer=pacer or shared(),
                serve=serve,
                report=report,
                stop=stop,
            )
        )
        if any(report.counts.values()):
            with open_session(engine, actor=actor, clock=clock) as session:
                event = audit.record(
                    session,
                    "notify.pass",
                    "notification",
                    None,
                    after={"at": at, "worker": report.worker, **report.counts},
                )
                if event.seq == plan.seq + 1:  # our own record is not news to plan for
                    put_setting(session, SEEN, str(event.seq))
    report.seconds = _time.perf_counter() - started
    log.info("reminder pass as of %s: %s", at.isoformat(timespec="seconds"), report.summary())
    return report


def _deferred(channel: str, serve: Sequence[str] | None) -> bool:
    return serve is not None and channel not in serve


def _record_plan(
    session: Session, report: PassReport, plan: _Plan, at: datetime, serve: Sequence[str] | None
) -> None:
    rows = [_row(d, m, "pending", at) for d, m in plan.singles]
    rows += [_row(d, m, "superseded", at) for d, m in plan.superseded]
    items = {d.key: (d, m) for group, _ in plan.groups() for d, m in group}
    rows += [_row(d, m, "digested", at) for d, m in items.values()]
    inserted = insert_ledger(session, rows)
    for d, m in plan.superseded:
        if d.key in inserted:
            _report(report, d, m, "superseded")
    digests: list[tuple[Due, Message]] = []
    for group, paced in plan.groups():
        mine = [(d, m) for d, m in group if d.key in inserted]
        for d, m in mine:
            _report(report, d, m, "digested")
        if mine:
            digests += _digest_parts(mine, plan.start, to_local_date(at), paced)
    inserted |= insert_ledger(session, [_row(d, m, "pending", at) for d, m in digests])
    for d, m in [*plan.singles, *digests]:
        if d.key in inserted and _deferred(d.channel, serve):
            _report(report, d, m, "deferred")


def _report(report: PassReport, due: Due, message: Message, status: str) -> None:
    report.add(
        subject=message.subject,
        owner=due.recipient.name,
        channel=due.channel,
        occasion=due.occasion,
        status=status,
        key=due.key,
    )


def _report_dry(
    session: Session,
    report: PassReport,
    plan: _Plan,
    cfg: NotifySettings,
    at: datetime,
    serve: Sequence[str] | None,
) -> None:
    for d, m in plan.superseded:
        _report(report, d, m, "superseded")
    for d, m in plan.singles:
        _report(report, d, m, "deferred" if _deferred(d.channel, serve) else "due")
    for group, paced in plan.groups():
        for d, m in group:
            _report(report, d, m, "digested")
        for d, m in _digest_parts(group, plan.start, to_local_date(at), paced):
            _report(report, d, m, "deferred" if _deferred(d.channel, serve) else "due")
    retry = session.exec(
        select(Notification)
        .where(claimable(at, timedelta(seconds=cfg.claim_timeout), serve))
        .order_by(Notification.id)
    ).all()
    for n in retry:
        payload = n.payload or {}
        report.add(
            subject=payload.get("subject", n.subject),
            owner=payload.get("data", {}).get("recipient", n.recipient or ""),
            channel=n.channel,
            occasion=n.occasion,
            status="retry",
            key=n.key,
        )


async def _deliver(
    *,
    engine: Engine,
    clock: Clock,
    actor: str,
    cfg: NotifySettings,
    robots: WebhookSettings,
    pacer: Pacer,
    serve: Sequence[str] | None,
    report: PassReport,
    stop: Callable[[], bool],
) -> None:
    from ..db import open_session
    from ..plugins import get_host

    notifiers = get_host().notifiers()
    gate = asyncio.Semaphore(cfg.concurrency)
    lease = timedelta(seconds=cfg.claim_timeout)
    pending: list[Outcome] = []

    def flush() -> None:
        if pending:
            with open_session(engine, actor=actor, clock=clock) as session:
                record_outcomes(
                    session, worker=report.worker, at=clock.now(), cfg=cfg, outcomes=pending
                )
            pending.clear()

    async def send(row: Any, message: Message, owner: Owner | None, robot: Robot | None) -> float:
        """Deliver, pacing posts to a robot and sending again after its "too many" answer;
        return how long to wait instead when its next turn is too far off (0: sent)."""
        notifier = notifiers.get(row.channel)
        if notifier is None:
            raise UserError(
                t("no notifier is registered for channel {channel!r}", channel=row.channel)
            )
        fn = notifier.send
        if row.robot_id is not None:
            fn = functools.partial(notifier.send, robot=robot)

        async def post() -> None:
            async with gate:
                await asyncio.wait_for(_send(loop, pool, fn, message, owner), cfg.timeout)

        if robot is None:  # not a robot's row, or its robot was removed since (the send says so)
            await post()
            return 0.0
        limit = robots.per_minute.get(robot.preset, 0)
        tries = 0
        while True:
            try:
                return await pacer.send(robot.url, limit, robots.pace_wait, post, stop)
            except RateLimited as exc:
                tries += 1
                if tries == _RATE_TRIES:
                    raise
                log.info("%s: rate limited, holding %.0f s", row.key, exc.retry_after)
                pacer.hold(robot.url, exc.retry_after)

    async def deliver(row: Any, owner: Owner | None, robot: Robot | None) -> None:
        payload = row.payload or {}
        data = payload.get("data", {})
        if stop():
            pending.append(Outcome(row, "pending"))
            return
        message = Message(
            subject=payload["subject"], text=payload["text"], html=payload.get("html"), data=data
        )
        try:
            wait = await send(row, message, owner, robot)
            if wait:  # the robot's turn is too far off: a later pass sends it
                status = "paced"
                pending.append(Outcome(row, "pending", None, clock.now() + timedelta(seconds=wait)))
            else:
                status = "delivered"
                pending.append(Outcome(row, status))
        except Exception as exc:  # every failure is recorded and retried, none stops the pass
            status = "failed"
            pending.append(Outcome(row, status, _describe(exc)))
            log.warning("delivery %s failed: %s", row.key, pending[-1].error)
        report.add(
            subject=payload.get("subject", row.key),
            owner=data.get("recipient", ""),
            channel=row.channel,
            occasion=row.occasion,
            status=status,
            key=row.key,
        )
        if len(pending) >= _FLUSH_EVERY:
            flush()

    loop = asyncio.get_running_loop()
    with (
        delivery_context(concurrency=cfg.concurrency),
        ThreadPoolExecutor(cfg.concurrency, thread_name_prefix="duban-send") as pool,
    ):
        while not stop():
            with open_session(engine, actor=actor, clock=clock) as session:
                rows = claim(
                    session,
                    worker=report.worker,
                    at=clock.now(),
                    lease=lease,
                    channels=serve,
                    limit=cfg.batch,
                )
                owner_ids = {r.owner_id for r in rows if r.owner_id is not None}
                owners = {
                    o.id: o for o in session.exec(select(Owner).where(Owner.id.in_(owner_ids)))
                }
                robot_ids = {r.robot_id for r in rows if r.robot_id is not None}
                robot_rows = session.exec(select(OwnerRobot).where(OwnerRobot.id.in_(robot_ids)))
                by_id = {
                    r.id: Robot(r.url, r.preset, r.secret, tuple(r.mentions or ()))
                    for r in robot_rows
                }
            if not rows:
                break
            try:
                await asyncio.gather(
                    *(deliver(r, owners.get(r.owner_id), by_id.get(r.robot_id or 0)) for r in rows)
                )
            finally:
                flush()


async def _send(
    loop: asyncio.AbstractEventLoop,
    pool: ThreadPoolExecutor,
    send: Callable[..., Any],
    message: Message,
    owner: Owner | None,
) -> None:
    if inspect.iscoroutinefunction(send):  # a plugin's asynchronous channel
        await send(message, owner)
    else:  # blocking I/O in a worker thread, in this context (the shared HTTP pool)
        await loop.run_in_executor(pool, contextvars.copy_context().run, send, message, owner)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return t("timed out")
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
