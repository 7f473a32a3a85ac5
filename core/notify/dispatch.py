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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from .. import audit
from ..clock import LOCAL_TZ, Clock, to_local_date
from ..errors import UserError
from ..i18n import t
from ..models import Notification, Owner, Setting
from ..registry import Message
from ..services.base import require_coordinator
from .channels import delivery_context
from .ledger import (
    SEEN,
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
from .occasions import Due, ledger_key, plan_escalations, plan_reminders
from .settings import NotifySettings, settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("duban.notify")
# Failures are in the ledger and the pass report; the scheduler configures logging to show them.
log.addHandler(logging.NullHandler())

_FLUSH_EVERY = 500


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
    folded: dict[tuple[str, str], list[tuple[Due, Message]]]
    superseded: list[tuple[Due, Message]]
    start: date
    seq: int  # the audit sequence number planned against


def _plan(session: Session, cfg: NotifySettings, at: datetime) -> _Plan:
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
    common = {"channels": cfg.channels, "language": cfg.language, "languages": cfg.languages}
    due = plan_reminders(session, today=today, start=plan.start, horizon=horizon, **common)
    # Escalation events are instants: everything since the local day the window starts.
    since = datetime.combine(plan.start, time.min, LOCAL_TZ).astimezone(UTC)
    esc_horizon = datetime.combine(horizon, time.min, LOCAL_TZ).astimezone(UTC)
    notices = plan_escalations(
        session, now=at, since=since, horizon=esc_horizon, coordinators=cfg.coordinators, **common
    )
    known = existing_keys(session, (d.key for d in notices))
    for d in [*due, *(n for n in notices if n.key not in known)]:
        # A folded occasion reads as it would have on the day it fell ("due tomorrow").
        pair = (d, render(d, d.fall if d.digest else today))
        if d.digest:
            plan.folded[(d.recipient.ref, d.channel)].append(pair)
        elif d.superseded:
            plan.superseded.append(pair)
        else:
            plan.singles.append(pair)
    return plan


def _digest_due(items: Sequence[tuple[Due, Message]], start: date) -> Due:
    first = items[0][0]
    digest_id = hashlib.sha256("\n".join(sorted(d.key for d, _ in items)).encode()).hexdigest()[:16]
    subject = f"digest:{digest_id}"
    return Due(
        ledger_key(subject, first.recipient.ref, "digest", first.channel),
        subject,
        "digest",
        first.channel,
        start,
        False,
        first.recipient,
        {"kind": "digest"},
    )


def run_pass(
    *,
    engine: Engine,
    clock: Clock,
    actor: str,
    worker: str | None = None,
    dry_run: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> PassReport:
    """One reminder pass as of ``clock.now()``: plan, record, claim and send (see module doc)."""
    from ..db import open_session

    started = _time.perf_counter()
    cfg = settings()
    stop = should_stop or (lambda: False)
    at = clock.now()
    report = PassReport(
        at=at, worker=worker or default_worker(), dry_run=dry_run, quiet=cfg.quiet_now(at)
    )
    serve = ("inbox",) if report.quiet else None  # channels served now (None: all)
    with open_session(engine, actor=actor, clock=clock, write=not dry_run) as session:
        if not dry_run:
            require_coordinator(session)
        plan = _plan(session, cfg, at)
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
    items = {d.key: (d, m) for group in plan.folded.values() for d, m in group}
    rows += [_row(d, m, "digested", at) for d, m in items.values()]
    inserted = insert_ledger(session, rows)
    for d, m in plan.superseded:
        if d.key in inserted:
            report.add(
                subject=m.subject,
                owner=d.recipient.name,
                channel=d.channel,
                occasion=d.occasion,
                status="superseded",
                key=d.key,
            )
    digests = []
    for group in plan.folded.values():
        mine = [(d, m) for d, m in group if d.key in inserted]
        for d, m in mine:
            report.add(
                subject=m.subject,
                owner=d.recipient.name,
                channel=d.channel,
                occasion=d.occasion,
                status="digested",
                key=d.key,
            )
        if mine:
            due = _digest_due(mine, plan.start)
            digests.append(
                _row(
                    due,
                    render_digest(due.recipient, mine, to_local_date(at), plan.start),
                    "pending",
                    at,
                )
            )
    inserted |= insert_ledger(session, digests)
    for d, m in plan.singles:
        if d.key in inserted and _deferred(d.channel, serve):
            report.add(
                subject=m.subject,
                owner=d.recipient.name,
                channel=d.channel,
                occasion=d.occasion,
                status="deferred",
                key=d.key,
            )
    for row in digests:
        if row["key"] in inserted and _deferred(row["channel"], serve):
            report.add(
                subject=row["payload"]["subject"],
                owner=row["payload"]["data"]["recipient"],
                channel=row["channel"],
                occasion="digest",
                status="deferred",
                key=row["key"],
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
        report.add(
            subject=m.subject,
            owner=d.recipient.name,
            channel=d.channel,
            occasion=d.occasion,
            status="superseded",
            key=d.key,
        )
    for d, m in plan.singles:
        report.add(
            subject=m.subject,
            owner=d.recipient.name,
            channel=d.channel,
            occasion=d.occasion,
            status="deferred" if _deferred(d.channel, serve) else "due",
            key=d.key,
        )
    for group in plan.folded.values():
        for d, m in group:
            report.add(
                subject=m.subject,
                owner=d.recipient.name,
                channel=d.channel,
                occasion=d.occasion,
                status="digested",
                key=d.key,
            )
        due = _digest_due(group, plan.start)
        report.add(
            subject=render_digest(due.recipient, group, to_local_date(at), plan.start).subject,
            owner=due.recipient.name,
            channel=due.channel,
            occasion="digest",
            status="deferred" if _deferred(due.channel, serve) else "due",
            key=due.key,
        )
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
    serve: Sequence[str] | None,
    report: PassReport,
    stop: Callable[[], bool],
) -> None:
    from ..db import open_session
    from ..plugins import get_host

    notifiers = get_host().notifiers()
    gate = asyncio.Semaphore(cfg.concurrency)
    lease = timedelta(seconds=cfg.claim_timeout)
    pending: list[tuple[Any, str, str | None]] = []

    def flush() -> None:
        if pending:
            with open_session(engine, actor=actor, clock=clock) as session:
                record_outcomes(
                    session, worker=report.worker, at=clock.now(), cfg=cfg, outcomes=pending
                )
            pending.clear()

    async def deliver(row: Any, owner: Owner | None) -> None:
        async with gate:
            payload = row.payload or {}
            data = payload.get("data", {})
            if stop():
                pending.append((row, "pending", None))
                return
            try:
                notifier = notifiers.get(row.channel)
                if notifier is None:
                    raise UserError(
                        t("no notifier is registered for channel {channel!r}", channel=row.channel)
                    )
                message = Message(
                    subject=payload["subject"],
                    text=payload["text"],
                    html=payload.get("html"),
                    data=data,
                )
                await asyncio.wait_for(
                    _send(loop, pool, notifier.send, message, owner), cfg.timeout
                )
                status, error = "delivered", None
            except Exception as exc:  # every failure is recorded and retried, none stops the pass
                status, error = "failed", _describe(exc)
                log.warning("delivery %s failed: %s", row.key, error)
            pending.append((row, status, error))
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
            if not rows:
                break
            try:
                await asyncio.gather(*(deliver(r, owners.get(r.owner_id)) for r in rows))
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
