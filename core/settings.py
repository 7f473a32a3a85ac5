"""Everything ``duban.toml`` sets, as one typed object: ``get_settings()``.

The file is found and parsed once per process and config path (``config.config_path``,
``config.read_config``); each section is checked and typed the first time it is read, so a
bad value in one section stops only what reads it (a bad ``[rules."<key>"]`` value fails that
rule, not the sweep). Every check speaks in the one style of ``config.checked_number`` and its
siblings: ``duban.toml [table] key: …``, exit 2. Keys duban does not know are ignored.

Sections whose checks belong to a subsystem are typed there (``reporting.ReportSettings``,
``notify.settings.NotifySettings`` …) and imported on first read: importing this module stays
as cheap as reading the file. See docs/configuration.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import checked_number, config_path, place, read_config
from .errors import UserError
from .i18n import t

if TYPE_CHECKING:
    from .notify.mail import SmtpSettings
    from .notify.robots import WebhookSettings
    from .notify.settings import NotifySettings
    from .reporting import ReportSettings
    from .scheduler import SchedulerSettings
    from .services.evaluation import Settings as EvaluationSettings

DEFAULT_REMINDERS: dict[str, Any] = {
    "lead": [30, 7, 1, 0],  # days before the due date; 0 is the due day
    "participant": [7],
    "implementer": [7],
    "overdue_every": 7,  # then weekly while overdue (leads and participants)
}
DEFAULT_HOOK_TIMEOUT = 5.0  # seconds a plugin hook may take before it is skipped


@dataclass(frozen=True)
class Reminders:
    """``[reminders]``: days before a deadline each role is reminded, per domain if set.
    The offsets are checked where they are used (``notify.occasions``), after a plugin's
    answer for an obligation is merged in."""

    base: Mapping[str, Any]
    domains: Mapping[str, Mapping[str, Any]]
    quiet_hours: str | None = None

    def policy(self, obligation: Any = None) -> dict[str, Any]:
        """Reminder offsets for an obligation: a plugin's answer for its domain, else
        ``[reminders.<domain>]``, else ``[reminders]``, else the defaults."""
        policy = dict(self.base)
        if obligation is not None:
            from .plugins import get_host

            answer = get_host().first("duban_reminder_offsets", obligation=obligation)
            if answer:
                policy.update(answer)
            policy.update(self.domains.get(getattr(obligation, "domain", ""), {}))
        return policy


@dataclass(frozen=True)
class CalendarSettings:
    """``[calendar]``: the iCalendar feeds."""

    refresh_minutes: int = 60  # REFRESH-INTERVAL and X-PUBLISHED-TTL
    alarm_hour: int = 9  # alarms ring at this local hour on the reminder days
    max_target_lines: int = 8  # targets listed in a milestone's DESCRIPTION
    max_report_lines: int = 20  # obligations listed in a report due day's DESCRIPTION
    base_url: str = "http://127.0.0.1:8765"  # public URL of `duban serve`, in feed URLs


@dataclass(frozen=True)
class FollowUpSettings:
    """``[escalation]``: the written rectification report (书面整改报告) some levels call for."""

    days: int = 30
    levels: frozenset[str] = frozenset({"summon"})


@dataclass(frozen=True)
class NoticeSettings:
    """``[notice]``: the lowest level a public naming notice (通报) lists."""

    min_level: str = "list"


@dataclass(frozen=True)
class DocumentSettings:
    """``[document]``: the heading of every 公文; empty strings take the defaults."""

    issuer: str = ""  # 发文机关 (and 落款); default: t("Supervision office")
    masthead: str = ""  # 发文机关标志; default: issuer + 文件
    number: str = ""  # 发文字号, e.g. 湘督办〔2024〕3号
    recipients: str = ""  # 主送机关
    signature: str = ""  # 落款; default: the issuer


@dataclass(frozen=True)
class PluginSettings:
    """``[plugins]``."""

    hook_timeout: float = DEFAULT_HOOK_TIMEOUT  # seconds; inf: never time out


@dataclass(frozen=True, eq=False)
class Settings:
    """``duban.toml`` at ``path`` (None: no file, every default), read once."""

    path: Path | None
    data: Mapping[str, Any] = field(repr=False)

    def table(self, name: str) -> dict[str, Any]:
        """``[name]`` as written (empty when absent); dotted names reach into tables. For a
        plugin's own section, over which it keeps its defaults."""
        node: Any = self.data
        for part in name.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return dict(node) if isinstance(node, dict) else {}

    def _over(self, name: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        return {**defaults, **self.table(name)}

    def rule(self, key: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """A rule's thresholds: ``[rules."<key>"]`` over the rule's own defaults, unchecked
        (rules read them through ``rulekit``'s checked accessors)."""
        rules = self.data.get("rules", {})
        own = rules.get(key, {}) if isinstance(rules, dict) else {}
        return {**defaults, **(own if isinstance(own, dict) else {})}

    @cached_property
    def digest(self) -> str:
        """The whole file, canonically: a sweep over unchanged settings is skipped."""
        return json.dumps(self.data, sort_keys=True, default=str)

    def reminder_policy(self, obligation: Any = None) -> dict[str, Any]:
        """``reminders.policy(obligation)``: the offsets for an obligation (None: the base)."""
        return self.reminders.policy(obligation)

    @cached_property
    def reminders(self) -> Reminders:
        raw = self.table("reminders")
        quiet = raw.get("quiet_hours")
        domains = {
            name: {k: v for k, v in table.items() if k in DEFAULT_REMINDERS}
            for name, table in raw.items()
            if isinstance(table, dict)
        }
        base = {k: v for k, v in {**DEFAULT_REMINDERS, **raw}.items() if k in DEFAULT_REMINDERS}
        if "quiet_hours" in raw:
            base["quiet_hours"] = quiet
        return Reminders(base, domains, str(quiet) if quiet else None)

    @cached_property
    def reports(self) -> ReportSettings:
        from .reporting import report_settings

        return report_settings(self.table("reports"))

    @cached_property
    def calendar(self) -> CalendarSettings:
        raw = self.table("calendar")
        numbers = {
            key: int(checked_number(raw.get(key, default), where=place("calendar", key)))
            for key, default in vars(CalendarSettings()).items()
            if key != "base_url"
        }
        return CalendarSettings(
            **numbers, base_url=str(raw.get("base_url", CalendarSettings.base_url))
        )

    @cached_property
    def escalation(self) -> FollowUpSettings:
        from .escalation_rows import parse_level

        defaults = {"follow_up_days": FollowUpSettings.days, "follow_up_levels": ["summon"]}
        raw = self._over("escalation", defaults)
        days = raw["follow_up_days"]
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise UserError(
                t(
                    "duban.toml [escalation] follow_up_days: must be a whole number of days "
                    "(1 or more), not {value!r}",
                    value=days,
                )
            )
        levels = raw["follow_up_levels"]
        if not isinstance(levels, list):
            raise UserError(t("duban.toml [escalation] follow_up_levels: must be a list of levels"))
        where = place("escalation", "follow_up_levels")
        return FollowUpSettings(days, frozenset(parse_level(str(v), what=where) for v in levels))

    @cached_property
    def evaluation(self) -> EvaluationSettings:
        from .services.evaluation import evaluation_settings

        return evaluation_settings(self.table("evaluation"))

    @cached_property
    def notice(self) -> NoticeSettings:
        from .escalation_rows import parse_level

        value = self._over("notice", vars(NoticeSettings()))["min_level"]
        return NoticeSettings(parse_level(str(value), what=place("notice", "min_level")))

    @cached_property
    def document(self) -> DocumentSettings:
        raw = self._over("document", vars(DocumentSettings()))
        return DocumentSettings(**{k: str(raw[k] or "") for k in vars(DocumentSettings())})

    @cached_property
    def plugins(self) -> PluginSettings:
        value = self.table("plugins").get("hook_timeout", DEFAULT_HOOK_TIMEOUT)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise UserError(
                t("duban.toml: [plugins] hook_timeout must be a positive number of seconds")
            )
        return PluginSettings(float(value) if math.isfinite(value) else math.inf)

    @cached_property
    def scheduler(self) -> SchedulerSettings:
        from .scheduler import scheduler_settings

        return scheduler_settings(self.table("scheduler"))

    @cached_property
    def notify(self) -> NotifySettings:
        from .notify.settings import notify_settings

        return notify_settings(self.table("notify"), self.reminders.quiet_hours)

    @cached_property
    def smtp(self) -> SmtpSettings:
        from .notify.mail import smtp_settings

        return smtp_settings(self.table("smtp"))

    @cached_property
    def webhook(self) -> WebhookSettings:
        from .notify.robots import webhook_settings

        return webhook_settings(self.table("webhook"))


@lru_cache(maxsize=8)
def _settings_at(path: Path | None) -> Settings:
    return Settings(path, read_config(path))


def get_settings() -> Settings:
    """The settings of this process's ``duban.toml`` (``DUBAN_CONFIG``, else ``./duban.toml``,
    else the user config directory), read once per file."""
    path = config_path()
    return _settings_at(path)


def reset_settings() -> None:
    """Forget every file read: the next ``get_settings()`` reads it again (for tests that
    rewrite a config file in place)."""
    _settings_at.cache_clear()
