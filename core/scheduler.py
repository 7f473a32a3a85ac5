"""``duban scheduler``: the long-running process behind reminders and the daily sweep.

APScheduler 3.11 (``AsyncIOScheduler``, in-memory job store) with two periodic jobs of fixed
ids, never one job per deadline: what is due is selected from indexed tables at each pass
and the notification ledger makes every delivery exactly-once, so nothing about deadlines
lives in the scheduler and a restart loses nothing. ``misfire_grace_time=None`` and
``coalesce=True``: a run missed while the machine slept happens once, late. On start, a
reminder pass runs at once (catching up after downtime), and the sweep too if today's has
not run yet and its time has passed.

Only this module imports apscheduler, and only the ``scheduler`` command imports it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .clock import Clock
from .errors import UserError
from .i18n import t
from .notify.dispatch import PassReport, default_worker, run_pass
from .notify.settings import config_number, config_time
from .settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("duban.scheduler")

DEFAULTS: dict[str, Any] = {
    "reminders_every": 15,  # minutes between reminder passes
    "sweep": True,  # run the escalation sweep daily
    "sweep_at": "08:00",
    "timezone": "Asia/Shanghai",
    "run_on_start": True,  # a pass at start-up catches up after downtime
    "stop_timeout": 60,  # seconds a running pass or sweep gets to finish on SIGTERM
}
REMINDER_JOB = "duban.reminders"
SWEEP_JOB = "duban.sweep"
# A run missed while the process slept or was busy happens once, however late.
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


@dataclass(frozen=True)
class SchedulerSettings:
    every_minutes: float
    sweep: bool
    sweep_at: time
    tz: ZoneInfo
    run_on_start: bool
    stop_timeout: float


def scheduler_settings(raw: Mapping[str, Any]) -> SchedulerSettings:
    """``[scheduler]`` (``raw``) over the defaults, checked."""
    cfg = {**DEFAULTS, **raw}
    try:
        tz = ZoneInfo(str(cfg["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            t("duban.toml [scheduler] timezone: unknown time zone {value!r}", value=cfg["timezone"])
        ) from None
    return SchedulerSettings(
        every_minutes=config_number(
            "scheduler", "reminders_every", cfg["reminders_every"], minimum=0.01
        ),
        sweep=bool(cfg["sweep"]),
        sweep_at=config_time("scheduler", "sweep_at", cfg["sweep_at"]),
        tz=tz,
        run_on_start=bool(cfg["run_on_start"]),
        stop_timeout=config_number("scheduler", "stop_timeout", cfg["stop_timeout"]),
    )


class Scheduler:
    """The jobs and their lifecycle; ``run()`` until a stop signal."""

    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        actor: str,
        worker: str | None = None,
        settings: SchedulerSettings | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.actor = actor
        self.worker = worker or default_worker()
        self.settings = settings or get_settings().scheduler
        # Set on shutdown; a pass in a worker thread polls it and stops taking new deliveries.
        self.stopping = threading.Event()
        self.reports: list[PassReport] = []
        self.sweeps = 0
        self.jobs: dict[str, str] = {}  # id -> trigger, as scheduled
        self._busy: asyncio.Lock | None = None

    # The work ---------------------------------------------------------------------------
    def reminder_pass(self) -> PassReport:
        report = run_pass(
            engine=self.engine,
            clock=self.clock,
            actor=self.actor,
            worker=self.worker,
            should_stop=self.stopping.is_set,
        )
        self.reports.append(report)
        return report

    def escalation_sweep(self) -> None:
        from .db import open_session
        from .services.base import today
        from .services.sweep import sweep
        from .services.witness import queue_audit_head

        with open_session(self.engine, actor=self.actor, clock=self.clock) as session:
            result = sweep(session=session, as_of=today(session))
            counts = result.counts()
            queue_audit_head(session=session)  # the day's witness, delivered with the notices
        self.sweeps += 1
        log.info(
            "escalation sweep as of %s: opened %s, raised %s, resolved %s, rule failures %s",
            result.as_of,
            counts["opened"],
            counts["raised"],
            counts["resolved"],
            counts["failures"],
        )

    def sweep_missed(self) -> bool:
        """Today's sweep time has passed and no sweep ran as of today (the process was down)."""
        from .db import open_session
        from .services.sweep import last_sweep_date

        local = self.clock.now().astimezone(self.settings.tz)
        if local.time() < self.settings.sweep_at:
            return False
        with open_session(self.engine, actor=self.actor, clock=self.clock, write=False) as session:
            last = last_sweep_date(session=session)
        return last is None or last < local.date()

    # Jobs -------------------------------------------------------------------------------
    async def _reminder_job(self) -> None:
        if self.stopping.is_set():
            return
        assert self._busy is not None
        async with self._busy:  # passes and sweeps never overlap in one process
            try:
                await asyncio.to_thread(self.reminder_pass)
            except Exception:
                log.exception("reminder pass failed")

    async def _sweep_job(self) -> None:
        if self.stopping.is_set():
            return
        assert self._busy is not None
        async with self._busy:
            try:
                await asyncio.to_thread(self.escalation_sweep)
            except Exception:
                log.exception("escalation sweep failed")
        await self._reminder_job()  # notices of what the sweep changed go out right away

    def add_jobs(self, scheduler: Any) -> None:
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        cfg = self.settings
        start = self.clock.now()
        first = {"next_run_time": start} if cfg.run_on_start else {}
        scheduler.add_job(
            self._reminder_job,
            IntervalTrigger(minutes=cfg.every_minutes, timezone=cfg.tz),
            id=REMINDER_JOB,
            name="reminder pass",
            replace_existing=True,
            **first,
        )
        if cfg.sweep:
            catch_up = {"next_run_time": start} if cfg.run_on_start and self.sweep_missed() else {}
            scheduler.add_job(
                self._sweep_job,
                CronTrigger(hour=cfg.sweep_at.hour, minute=cfg.sweep_at.minute, timezone=cfg.tz),
                id=SWEEP_JOB,
                name="escalation sweep",
                replace_existing=True,
                **catch_up,
            )
        self.jobs = {job.id: str(job.trigger) for job in scheduler.get_jobs()}

    async def run(self, stop: asyncio.Event | None = None, *, signals: bool = True) -> None:
        """Run until ``stop`` is set or SIGTERM/SIGINT arrives; then let the running pass end."""
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        loop = asyncio.get_running_loop()
        stop = stop or asyncio.Event()
        self._busy = asyncio.Lock()
        handled = (signal.SIGTERM, signal.SIGINT) if signals else ()
        for sig in handled:
            loop.add_signal_handler(sig, stop.set)
        scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            timezone=self.settings.tz,
            job_defaults=JOB_DEFAULTS,
        )
        self.add_jobs(scheduler)
        scheduler.start()
        log.info(
            "scheduler %s started: reminder pass every %s min, sweep %s",
            self.worker,
            self.settings.every_minutes,
            self.settings.sweep_at.strftime("%H:%M") if self.settings.sweep else "off",
        )
        try:
            await stop.wait()
        finally:
            log.info("scheduler stopping")
            self.stopping.set()
            scheduler.pause()
            try:  # the running pass records what it sent and returns the rest to the ledger
                await asyncio.wait_for(self._busy.acquire(), self.settings.stop_timeout)
                self._busy.release()
            except TimeoutError:
                log.warning(
                    "a job was still running after %s s; stopping anyway",
                    self.settings.stop_timeout,
                )
            scheduler.shutdown(wait=False)
            for sig in handled:
                loop.remove_signal_handler(sig)
            log.info("scheduler stopped")

    def run_forever(self) -> None:
        asyncio.run(self.run())


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
