"""The things plugins register: indicators, rules, site kinds, importers, notifiers, panels,
labels."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from .i18n import pick

Direction = Literal["higher", "lower", "class"]
Aggregation = Literal["rate", "sum", "worst", "best", "mean", "latest"]


@dataclass(frozen=True)
class Indicator:
    """A measurable quantity. ``direction`` says which way is better; for ``class`` the
    ``scale`` lists the classes from best to worst. ``minimum`` and ``maximum`` bound every
    reading and target value; ``bounds`` fills them in for a percentage (0-100) and for a
    count (a ``sum``, at least 0)."""

    key: str
    name: str
    name_en: str
    unit: str = ""
    direction: Direction = "higher"
    aggregation: Aggregation = "latest"
    frequency: Literal["daily", "monthly", "quarterly", "yearly"] = "yearly"
    scale: tuple[str, ...] = ()
    description: str = ""
    plugin: str = ""
    minimum: float | None = None
    maximum: float | None = None

    @property
    def label(self) -> str:
        return pick(self.name, self.name_en)

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        low, high = self.minimum, self.maximum
        if self.unit == "%":
            low = 0.0 if low is None else low
            high = 100.0 if high is None else high
        elif self.aggregation == "sum" and low is None:
            low = 0.0
        return low, high


@dataclass(frozen=True, slots=True)  # a sweep may hold a million at once
class Finding:
    """A condition a rule found holding as of the sweep date.

    ``condition`` identifies it across sweeps (e.g. ``milestone:42:overdue``); the sweep keeps
    one escalation per condition, raising its level while the condition holds and resolving
    it when the condition is no longer found.
    """

    condition: str
    level: str
    reason: str
    reason_en: str
    subject_type: str
    subject_id: int
    obligation_id: int | None = None
    addressed_to_id: int | None = None
    region_id: int | None = None


@dataclass
class SweepContext:
    """What a rule's ``evaluate`` gets: the session, the date, its thresholds, and whom an
    escalation is addressed to (``address``, ``government``): the one way a rule names the
    body that must answer."""

    session: Any
    as_of: date
    config: Mapping[str, Any]
    # The sweep's shared look-ups (core's SweepEngine), for core's own rules; plugins use the
    # methods below.
    engine: Any = None

    def address(
        self, level: str, obligation_id: int | None, region_id: int | None = None
    ) -> int | None:
        """The owner an escalation at ``level`` goes to: the obligation's lead department, or
        for a regional subject that region's people's government; never the plan's issuer."""
        found: int | None = self.engine.address(level, obligation_id, region_id)
        return found

    def government(self, region_id: int) -> int | None:
        """The people's government of ``region_id``, if duban knows it."""
        found: int | None = self.engine.government(region_id)
        return found


# The name rules used before ``SweepContext`` (plugin API 1.0); kept for third-party plugins.
RuleContext = SweepContext


@dataclass(frozen=True)
class EscalationRule:
    key: str
    name: str
    name_en: str
    evaluate: Callable[[RuleContext], Iterable[Finding]]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class SiteKind:
    key: str
    name: str
    name_en: str
    attrs: tuple[str, ...] = ()
    plugin: str = ""


@dataclass(frozen=True)
class Importer:
    """``run(session=, path=, dry_run=)`` returns a summary dict; raises UserError on bad input."""

    key: str
    name: str
    name_en: str
    run: Callable[..., Mapping[str, Any]]
    extensions: tuple[str, ...] = (".csv", ".xlsx")
    description: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class Message:
    """A notification ready to send, in the recipient's language."""

    subject: str
    text: str
    html: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notifier:
    key: str
    name: str
    name_en: str
    send: Callable[..., None]
    plugin: str = ""


@dataclass(frozen=True)
class PanelRow:
    label: str
    value: str
    filter: str | None = None
    tone: Literal["normal", "good", "warn", "bad"] = "normal"


@dataclass(frozen=True)
class Label:
    """What a person reads for a code a plugin brings: a ``domain`` (the key its obligations
    carry, ``water``) or an audit ``action`` it records (``ledger.update``)."""

    kind: Literal["domain", "action"]
    key: str
    name: str
    name_en: str
    plugin: str = ""

    @property
    def label(self) -> str:
        return pick(self.name, self.name_en)


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    title_en: str
    rows: tuple[PanelRow, ...] = ()
    plugin: str = ""


STATUSES = ("met", "on_track", "at_risk", "off_track", "missed", "no_data", "stale")


@dataclass(frozen=True, slots=True)  # one per target, a sweep's hundreds of thousands
class Evaluation:
    """A target's status as of a date, with the numbers behind it."""

    status: Literal["met", "on_track", "at_risk", "off_track", "missed", "no_data", "stale"]
    latest_value: float | None = None
    latest_date: date | None = None
    expected: float | None = None  # where the straight path says the value should be by now
    forecast: float | None = None  # the trend's value at the due date
    detail: str = ""
