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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, or_, update
from sqlmodel import Session, select

from .. import audit
from ..clock import LOCAL_TZ, Clock, to_local_date
from ..config import section
from ..errors import NotFound, PermissionDenied, UserError
from ..i18n import t
from ..models import AuditHead, Notification, Owner, Setting, UTCDateTime
from ..registry import Message
from .base import current_user, now, require_coordinator
from .reminders import (
    Due,
    existing_keys,
    ledger_key,
    plan_escalations,
    plan_reminders,
    render,
    render_digest,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("duban.notify")
# Failures are in the ledger and the pass report; the scheduler configures logging to show them.
log.addHandler(logging.NullHandler())

DEFAULTS: dict[str, Any] = {
    "channels": ["inbox", "email", "webhook"],
    "language": "zh",
    "languages": {},  # recipient (owner or user name) -> "zh" | "en"
    "concurrency": 32,  # deliveries in flight at once
    # Seconds one delivery may take, whatever its channel: a guard against a hanging plugin
    # channel (e-mail and webhooks give up sooner, at their own timeout).
    "timeout": 60,
    "retry_base": 60,  # seconds before the first retry; doubles with each failure
    "retry_max": 6 * 3600,
    "claim_timeout": 900,  # a row "sending" for longer was orphaned by a crashed worker
    "catch_up_days": 3,  # occasions older than this are folded into a digest
    "max_catch_up_days": 60,  # after longer downtime, older occasions are not looked for
    "batch": 1000,  # rows claimed at a time
    "coordinators": True,  # escalation notices also go to every coordinator's inbox
}
STATUSES = ("pending", "sending", "delivered", "failed", "digested", "superseded")
WATERMARK = "notify.watermark"
# The audit sequence number the last pass planned against: every change to obligations,
# owners or escalations writes an audit event, so an unchanged number on the same day
# means there is nothing new to plan (retries are still claimed).
SEEN = "notify.audit_seq"
_FLUSH_EVERY = 500


# Settings ---------------------------------------------------------------------------------
def config_number(
    where: str, key: str, value: Any, *, minimum: float = 0, integer: bool = False
) -> Any:
    """``value`` if it is a number >= ``minimum``; else a UserError naming the key."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < minimum:
        raise UserError(
            t(
                "duban.toml [{section}] {key}: expected a number >= {minimum}, not {value!r}",
                section=where,
                key=key,
                minimum=minimum,
                value=value,
            )
        )
    return value


def config_time(where: str, key: str, value: Any) -> time:
    try:
        hour, minute = (int(part) for part in str(value).strip().split(":"))
        return time(hour, minute)
    except ValueError:
        raise UserError(
            t(
                "duban.toml [{section}] {key}: expected a time HH:MM, not {value!r}",
                section=where,
                key=key,
                value=value,
            )
        ) from None


@dataclass(frozen=True)
class NotifySettings:
    channels: tuple[str, ...]
    language: str
    languages: Mapping[str, str]
    concurrency: int
    timeout: float
    retry_base: float
    retry_max: float
    claim_timeout: float
    catch_up_days: int
    max_catch_up_days: int
    batch: int
    coordinators: bool
    quiet: tuple[time, time] | None = None

    def quiet_now(self, instant: datetime) -> bool:
        """Inside quiet hours (local time): only the silent in-app inbox is served."""
        if self.quiet is None:
            return False
        start, end = self.quiet
        moment = instant.astimezone(LOCAL_TZ).time()
        return start <= moment < end if start <= end else moment >= start or moment < end

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.retry_base * 2 ** max(attempts - 1, 0), self.retry_max))


def settings() -> NotifySettings:
    cfg = section("notify", DEFAULTS)
    channels = cfg["channels"]
    if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
        raise UserError(
            t(
                "duban.toml [notify] channels: expected a list of channel names, not {value!r}",
                value=channels,
            )
        )
    for key in ("language",):
        if cfg[key] not in ("zh", "en"):
            raise UserError(
                t(
                    'duban.toml [notify] {key}: expected "zh" or "en", not {value!r}',
                    key=key,
                    value=cfg[key],
                )
            )
    languages = cfg["languages"]
    if not isinstance(languages, dict) or any(v not in ("zh", "en") for v in languages.values()):
        raise UserError(t('duban.toml [notify.languages]: expected names mapped to "zh" or "en"'))
    quiet = None
    raw_quiet = section("reminders").get("quiet_hours")
    if raw_quiet:
        parts = str(raw_quiet).split("-")
        if len(parts) != 2:
            raise UserError(
                t(
                    'duban.toml [reminders] quiet_hours: expected "HH:MM-HH:MM", not {value!r}',
                    value=raw_quiet,
                )
            )
        quiet = (
            config_time("reminders", "quiet_hours", parts[0]),
            config_time("reminders", "quiet_hours", parts[1]),
        )
    num = config_number
    return NotifySettings(
        channels=tuple(dict.fromkeys(channels)),
        language=cfg["language"],
        languages=languages,
        concurrency=num("notify", "concurrency", cfg["concurrency"], minimum=1, integer=True),
        timeout=num("notify", "timeout", cfg["timeout"], minimum=0.1),
        retry_base=num("notify", "retry_base", cfg["retry_base"], minimum=0),
        retry_max=num("notify", "retry_max", cfg["retry_max"], minimum=0),
        claim_timeout=num("notify", "claim_timeout", cfg["claim_timeout"], minimum=1),
        catch_up_days=num("notify", "catch_up_days", cfg["catch_up_days"], integer=True),
        max_catch_up_days=num(
            "notify", "max_catch_up_days", cfg["max_catch_up_days"], integer=True
        ),
        batch=num("notify", "batch", cfg["batch"], minimum=1, integer=True),
        coordinators=bool(cfg["coordinators"]),
        quiet=quiet,
    )


# The ledger -------------------------------------------------------------------------------
_table = Notification.__table__


def _dialect_insert(session: Session) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise UserError(t("notifications need SQLite or PostgreSQL, not {name}", name=name))
    return insert


def insert_ledger(session: Session, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Insert rows whose key is new; return the keys this call inserted. Keys already there
    (sent before, or inserted a moment ago by another scheduler) are skipped, not errors."""
    if not rows:
        return set()
    insert = _dialect_insert(session)
    stmt = insert(_table).on_conflict_do_nothing(index_elements=["key"]).returning(_table.c.key)
    ordered = sorted(rows, key=lambda r: r["key"])  # one order everywhere: no deadlocks
    # executemany: SQLAlchemy batches it into multi-row INSERTs ("insertmanyvalues").
    return set(session.execute(stmt, ordered).scalars())


def _claimable(at: datetime, lease: timedelta, channels: Sequence[str] | None) -> Any:
    cond = or_(
        and_(_table.c.status.in_(("pending", "failed")), _table.c.next_attempt_at <= at),
        and_(_table.c.status == "sending", _table.c.claimed_at < at - lease),
    )
    return and_(cond, _table.c.channel.in_(channels)) if channels is not None else cond


def claim(
    session: Session,
    *,
    worker: str,
    at: datetime,
    lease: timedelta,
    channels: Sequence[str] | None,
    limit: int,
) -> list[Any]:
    """Mark up to ``limit`` due rows as being sent by ``worker``; return them."""
    cond = _claimable(at, lease, channels)
    ids = select(_table.c.id).where(cond).order_by(_table.c.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    stmt = (
        update(_table)
        .where(_table.c.id.in_(ids.scalar_subquery()), cond)
        .values(status="sending", claimed_by=worker, claimed_at=at)
        .returning(
            _table.c.id,
            _table.c.key,
            _table.c.channel,
            _table.c.owner_id,
            _table.c.occasion,
            _table.c.payload,
            _table.c.attempts,
        )
    )
    return sorted(session.execute(stmt).all(), key=lambda r: r.id)


_outcome = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"), _table.c.claimed_by == bindparam("b_worker"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        last_error=bindparam("b_error"),
        next_attempt_at=bindparam("b_next", type_=UTCDateTime),
        delivered_at=bindparam("b_delivered", type_=UTCDateTime),
    )
)


def record_outcomes(
    session: Session,
    *,
    worker: str,
    at: datetime,
    cfg: NotifySettings,
    outcomes: Sequence[tuple[Any, str, str | None]],
) -> None:
    """Write back (row, status, error): delivered, failed (with the next attempt) or pending
    (claimed but not sent because the worker is stopping)."""
    params = []
    for row, status, error in outcomes:
        attempts = row.attempts + (status != "pending")
        params.append(
            {
                "b_id": row.id,
                "b_worker": worker,
                "b_status": status,
                "b_attempts": attempts,
                "b_error": error[:1000] if error else None,
                "b_next": (
                    at + cfg.backoff(attempts)
                    if status == "failed"
                    else at
                    if status == "pending"
                    else None
                ),
                "b_delivered": at if status == "delivered" else None,
            }
        )
    if params:
        session.execute(_outcome, params)


def read_watermark(session: Session) -> datetime | None:
    row = session.get(Setting, WATERMARK)
    return datetime.fromisoformat(row.value) if row else None


def _put_setting(session: Session, key: str, value: str, *, only_up: bool = False) -> None:
    insert = _dialect_insert(session)
    table = Setting.__table__
    stmt = insert(table).values(key=key, value=value)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value},
            where=table.c.value < stmt.excluded.value if only_up else None,
        )
    )


def advance_watermark(session: Session, at: datetime) -> None:
    """Remember the latest pass (never moving backwards): the next pass looks for occasions
    from that day on, and folds those older than the horizon into digests."""
    _put_setting(session, WATERMARK, at.astimezone(UTC).isoformat(timespec="seconds"), only_up=True)


def _audit_seq(session: Session) -> int:
    head = session.get(AuditHead, 1)
    return head.seq if head else 0


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
    plan = _Plan([], defaultdict(list), [], horizon, _audit_seq(session))
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
            _put_setting(session, SEEN, str(plan.seq))
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
                    _put_setting(session, SEEN, str(event.seq))
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
        .where(_claimable(at, timedelta(seconds=cfg.claim_timeout), serve))
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
    from .. import channels
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
        channels.delivery_context(concurrency=cfg.concurrency),
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


# Reading the ledger -------------------------------------------------------------------------
def list_notifications(
    *,
    session: Session,
    failed: bool = False,
    owner: Owner | None = None,
    status: str | None = None,
    limit: int | None = 500,
) -> list[Notification]:
    query = select(Notification)
    if failed:
        query = query.where(Notification.status == "failed")
    if status:
        if status not in STATUSES:
            raise UserError(
                t(
                    "--status: must be one of {choices}, not {value!r}",
                    choices=", ".join(STATUSES),
                    value=status,
                )
            )
        query = query.where(Notification.status == status)
    if owner is not None:
        query = query.where(Notification.owner_id == owner.id)
    query = query.order_by(Notification.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def _inbox_clause(session: Session) -> Any:
    user = current_user(session)
    if user is None:
        raise PermissionDenied(
            t(
                "{user} is not a registered user; a coordinator can add it with "
                "`duban user add {user} --role ...`",
                user=session.info["actor"],
            )
        )
    mine = Notification.recipient == f"user:{user.name}"
    if user.owner_id is not None:
        mine = or_(mine, Notification.owner_id == user.owner_id)
    return and_(Notification.channel == "inbox", Notification.status == "delivered", mine)


def inbox(*, session: Session, unread: bool = False, limit: int | None = 200) -> list[Notification]:
    """The acting user's in-app messages (addressed to them or to their owner), newest first."""
    query = select(Notification).where(_inbox_clause(session))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def unread_count(*, session: Session) -> int:
    from sqlalchemy import func

    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(_inbox_clause(session), Notification.read_at.is_(None))
    ).one()


def mark_read(*, session: Session, ids: Sequence[int]) -> list[Notification]:
    """Mark messages of the acting user's inbox read; an id not in it is refused, nothing written."""
    clause = _inbox_clause(session)
    rows = []
    for msg_id in ids:
        row = session.exec(select(Notification).where(clause, Notification.id == msg_id)).first()
        if row is None:
            raise NotFound(t("--mark-read: no message #{id} in your inbox", id=msg_id))
        rows.append(row)
    at = now(session)
    for row in rows:
        if row.read_at is None:
            row.read_at = at
            session.add(row)
            audit.record(
                session, "notification.read", "notification", row.id, after={"read_at": at}
            )
    session.flush()
    return rows
