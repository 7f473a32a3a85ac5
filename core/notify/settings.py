"""The ``[notify]`` settings and the checks shared by every part of duban.toml the
notification subsystem reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from ..clock import LOCAL_TZ
from ..config import checked_number, checked_time, place
from ..errors import UserError
from ..i18n import t

DEFAULTS: dict[str, Any] = {
    "channels": ["inbox", "email", "webhook"],
    "language": "zh",
    "languages": {},  # recipient (owner or user name) -> "zh" | "en"
    "calendars": {},  # owner name -> its calendar feed URL, linked from messages
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


def config_number(
    table: str, key: str, value: Any, *, minimum: float = 0, integer: bool = False
) -> Any:
    """``value`` if it is a number >= ``minimum`` (``config.checked_number``)."""
    return checked_number(value, where=place(table, key), minimum=minimum, whole=integer)


def config_time(table: str, key: str, value: Any) -> time:
    return checked_time(value, where=place(table, key))


@dataclass(frozen=True)
class Audience:
    """Who hears through what, in which language: the ``[notify]`` settings planning needs."""

    channels: Sequence[str]
    language: str
    languages: Mapping[str, str] = field(default_factory=dict)
    calendars: Mapping[str, str] = field(default_factory=dict)

    def lang(self, *names: str | None) -> str:
        return next((self.languages[n] for n in names if n in self.languages), self.language)


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
    calendars: Mapping[str, str] = field(default_factory=dict)

    def quiet_now(self, instant: datetime) -> bool:
        """Inside quiet hours (local time): only the silent in-app inbox is served."""
        if self.quiet is None:
            return False
        start, end = self.quiet
        moment = instant.astimezone(LOCAL_TZ).time()
        return start <= moment < end if start <= end else moment >= start or moment < end

    @property
    def audience(self) -> Audience:
        return Audience(self.channels, self.language, self.languages, self.calendars)

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.retry_base * 2 ** max(attempts - 1, 0), self.retry_max))


def notify_settings(raw: Mapping[str, Any], raw_quiet: str | None) -> NotifySettings:
    """``[notify]`` (``raw``) over the defaults and ``[reminders] quiet_hours``, checked."""
    cfg = {**DEFAULTS, **raw}
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
    calendars = cfg["calendars"]
    if not isinstance(calendars, dict) or not all(
        isinstance(v, str) and v.startswith(("https://", "http://")) for v in calendars.values()
    ):
        raise UserError(t("duban.toml [notify.calendars]: expected owner names mapped to URLs"))
    quiet = None
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
        calendars=calendars,
    )
