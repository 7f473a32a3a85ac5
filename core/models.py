"""Every table of duban, in one place (SQLModel).

Instants are stored in UTC (``UTCDateTime``); calendar dates (deadlines, observation
periods) are plain ``date`` values meaning Asia/Shanghai dates. Schema changes go through
Alembic (``core/migrations``); never create tables by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# The vocabulary lives apart so that lean code can use it without the ORM; re-exported here.
from .vocabulary import LEVEL_ORDER as LEVEL_ORDER
from .vocabulary import Level as Level
from .vocabulary import RegionLevel as RegionLevel
from .vocabulary import Role as Role
from .vocabulary import State as State
from .vocabulary import UserRole as UserRole


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite has no timezone type)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _instant(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _json(**kw: Any) -> Any:
    return Field(default=None, sa_type=sa.JSON, **kw)


class Region(SQLModel, table=True):
    """An administrative division, keyed by its GB/T 2260 code."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=12)
    name: str = Field(index=True)
    name_en: str | None = None
    level: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    # Codes from the root down, "/"-joined: sub-region filters are one prefix match.
    path: str = Field(index=True)


class Owner(SQLModel, table=True):
    """A responsible body: a department, a people's government, an enterprise."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    name_en: str | None = None
    kind: str = Field(default="department", max_length=16)
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="owner.id")
    email: str | None = None


class OwnerRobot(SQLModel, table=True):
    """A chat robot (webhook) that an owner's reminders go to; an owner may have several."""

    __tablename__ = "owner_robot"
    __table_args__ = (sa.UniqueConstraint("owner_id", "url"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="owner.id", index=True)
    url: str
    preset: str = Field(default="json", max_length=16)
    secret: str | None = None  # the robot's signing secret, stored as given (docs say so)
    mentions: list | None = _json()  # mobiles (DingTalk, WeCom) or user ids (Feishu) to @


class OwnerAlias(SQLModel, table=True):
    __tablename__ = "owner_alias"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="owner.id", index=True)
    alias: str = Field(unique=True)


class User(SQLModel, table=True):
    """A person (or service account) acting in duban."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    role: str = Field(max_length=16)
    owner_id: int | None = Field(default=None, foreign_key="owner.id")
    created_at: datetime = _instant()


class Plan(SQLModel, table=True):
    """A policy document whose commitments duban tracks."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    title: str
    title_en: str | None = None
    issued_on: date | None = None
    valid_until: date | None = None
    source: str | None = None
    # Framing text (guiding ideology, principles, chapter headings) kept as plan text.
    text: dict | None = _json()


class PlanIssuer(SQLModel, table=True):
    __tablename__ = "plan_issuer"

    plan_id: int = Field(foreign_key="plan.id", primary_key=True)
    owner_id: int = Field(foreign_key="owner.id", primary_key=True)
    position: int = 0


class Obligation(SQLModel, table=True):
    """One commitment of a plan, or a decomposed part of one."""

    __table_args__ = (
        sa.Index("ix_obligation_plan_seq", "plan_id", "seq"),
        # The order of ``sort:code`` (listing.order_keys), so a window stops at its last row.
        sa.Index("ix_obligation_listing", sa.text("(plan_id IS NULL)"), "plan_id", "seq", "id"),
        # Whether an obligation is live, below which and (PostgreSQL) where, from the index
        # alone: the overdue set probes it for each late milestone's obligation (revisions
        # 0017, 0020).
        sa.Index(
            "ix_obligation_live",
            "id",
            "state",
            "parent_id",
            "created_at",
            "state_changed_at",
            postgresql_include=["region_id"],
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int | None = Field(default=None, foreign_key="plan.id")
    code: str | None = Field(default=None, index=True)
    seq: int = 0
    title: str
    title_en: str | None = None
    body: str | None = None
    body_en: str | None = None
    domain: str = Field(default="general", index=True, max_length=32)
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="obligation.id", index=True)
    state: str = Field(default=State.open, index=True, max_length=16)
    # Times a closed item was reopened (re-inspection found the problem again).
    reopened: int = 0
    # Optimistic locking: services bump it and refuse writes based on a stale copy.
    version: int = Field(default=1)
    attrs: dict | None = _json()
    # How often its owners report progress (monthly, quarterly, half-yearly, none); None
    # follows the plan's calendar in duban.toml (services/reports.py).
    report_frequency: str | None = Field(default=None, max_length=16)
    # Indexed, as are a milestone's ``done_at``: whether anything was recorded after a date
    # is one look-up (``visibility.recorded_after``).
    created_at: datetime = _instant(index=True)
    updated_at: datetime = _instant()
    # When ``state`` last changed; the state before it is in ``state_change`` (as-of reads).
    state_changed_at: datetime | None = _instant(default=None, index=True)


class StateChange(SQLModel, table=True):
    """One move of an obligation's state, kept so that reads as of a past instant see the
    state it had then (``visibility``)."""

    __tablename__ = "state_change"
    __table_args__ = (sa.Index("ix_state_change_obligation", "obligation_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int = Field(foreign_key="obligation.id")
    at: datetime = _instant()
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)


class Assignment(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("obligation_id", "owner_id", "role"),
        # The scorecard's tallies per owner and role, from the index alone (revision 0015).
        sa.Index("ix_assignment_owner_role", "owner_id", "role", "obligation_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Looked up by the unique constraint's index, which begins with it (revision 0021).
    obligation_id: int = Field(foreign_key="obligation.id")
    owner_id: int = Field(foreign_key="owner.id")
    role: str = Field(max_length=16)


class Milestone(SQLModel, table=True):
    """A dated deliverable. ``due`` is a local date: the deadline is 23:59:59 that day."""

    __table_args__ = (
        sa.Index("ix_milestone_due_done", "due", "done_on"),
        sa.Index("ix_milestone_obligation_due", "obligation_id", "due"),
        # The late milestones the overdue set starts from, from the index alone (0017).
        sa.Index("ix_milestone_done_due", "done_on", "due", "obligation_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Looked up by ix_milestone_obligation_due, which begins with it (revision 0021).
    obligation_id: int = Field(foreign_key="obligation.id")
    title: str
    title_en: str | None = None
    due: date
    # Business time: the day it was done (claimed by ``done_by``); system time: when recorded.
    done_on: date | None = None
    # A duty the plan repeats (monthly, quarterly, semiannual, yearly): one row per occurrence.
    recurrence: str | None = Field(default=None, max_length=16)
    done_at: datetime | None = _instant(default=None, index=True)
    done_by: str | None = None
    # Stable identity for calendar feeds; SEQUENCE rises with each change.
    uid: str = Field(unique=True)
    sequence: int = 0
    updated_at: datetime = _instant()


class Site(SQLModel, table=True):
    """A monitored place (water section, outfall, port, tailings pond), typed by its plugin."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    name: str = Field(index=True)
    name_en: str | None = None
    kind: str = Field(index=True, max_length=32)
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    attrs: dict | None = _json()


_SUGGESTED = "source IS NOT NULL AND source <> 'plan'"


class Target(SQLModel, table=True):
    """A quantitative goal of an obligation for one scope (a region or a site)."""

    __table_args__ = (
        # The few targets a plugin suggests (the dashboard counts the plan's without them).
        sa.Index(
            "ix_target_suggested",
            "id",
            postgresql_where=sa.text(_SUGGESTED),
            sqlite_where=sa.text(_SUGGESTED),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int = Field(foreign_key="obligation.id", index=True)
    indicator: str = Field(index=True, max_length=64)
    name: str | None = None
    name_en: str | None = None
    comparator: str = Field(max_length=16)
    value: float | None = None
    unit: str | None = None
    due: date
    region_id: int | None = Field(default=None, foreign_key="region.id")
    site_id: int | None = Field(default=None, foreign_key="site.id")
    baseline_value: float | None = None
    baseline_date: date | None = None
    text: str | None = None
    # Who states it: "plan" (the plan's own words) or the plugin that suggests it.
    source: str | None = Field(default=None, max_length=64)
    attrs: dict | None = _json()
    # Calendar identity of its due-date event, like a milestone's.
    uid: str = Field(unique=True)
    sequence: int = 0
    updated_at: datetime = _instant()


class Measurement(SQLModel, table=True):
    """An observed value of an indicator for a subject (region or site) over a period.

    ``subject`` is ``region:<code>`` or ``site:<key>`` so that the uniqueness that makes
    re-imports idempotent holds on every backend (NULLs are never equal in a UNIQUE).
    """

    __table_args__ = (
        sa.UniqueConstraint("indicator", "subject", "period_start", "period_end"),
        sa.Index("ix_measurement_subject", "subject", "indicator", "period_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    indicator: str = Field(max_length=64)
    subject: str = Field(max_length=80)
    region_id: int | None = Field(default=None, foreign_key="region.id")
    site_id: int | None = Field(default=None, foreign_key="site.id")
    period_start: date
    period_end: date
    value: float
    numerator: float | None = None
    denominator: float | None = None
    source: str | None = None
    recorded_by: str | None = None
    # Indexed: whether any reading was recorded after a date is one look-up (``visibility``).
    recorded_at: datetime = _instant(index=True)
    evidence_id: int | None = Field(default=None, foreign_key="evidence.id")
    note: str | None = None


class MeasurementRevision(SQLModel, table=True):
    """A reading's figures as they stood before a correction replaced them, kept so that
    reads as of an earlier instant see them (``visibility``). Written by the database itself
    on every correction (revision 0019's trigger), whoever makes it; nobody writes it."""

    __tablename__ = "measurement_revision"
    __table_args__ = (
        sa.Index("ix_measurement_revision_measurement", "measurement_id", "replaced_at"),
        # Whether a read as of an instant needs any revision at all is one look-up.
        sa.Index("ix_measurement_revision_replaced_at", "replaced_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    measurement_id: int = Field(foreign_key="measurement.id")
    value: float
    numerator: float | None = None
    denominator: float | None = None
    source: str | None = None
    note: str | None = None
    recorded_by: str | None = None
    recorded_at: datetime = _instant()
    replaced_at: datetime = _instant()


class Evidence(SQLModel, table=True):
    """A file or URL backing a submission or a reading; files are fingerprinted."""

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int | None = Field(default=None, foreign_key="obligation.id", index=True)
    uri: str
    sha256: str | None = None
    note: str | None = None
    added_by: str | None = None
    added_at: datetime = _instant()


class Submission(SQLModel, table=True):
    """A close-out request (申请销号) and its verdict."""

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int = Field(foreign_key="obligation.id", index=True)
    submitted_by: str
    submitted_at: datetime = _instant()
    note: str | None = None
    decision: str | None = Field(default=None, max_length=16)  # verified | rejected
    decided_by: str | None = None
    decided_at: datetime | None = _instant(default=None)
    reason: str | None = None


class Report(SQLModel, table=True):
    """A progress report (进展报送) of one owner on one obligation for one period.

    A resubmission for the same obligation, owner and period supersedes the earlier row,
    which stays as history. ``role`` is the owner's role in the obligation: the leads'
    reports are the obligation's own, the others' go to the lead."""

    __table_args__ = (
        sa.Index("ix_report_latest", "obligation_id", "role", "period_end", "submitted_at"),
        sa.Index("ix_report_owner_period", "owner_id", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int = Field(foreign_key="obligation.id")
    milestone_id: int | None = Field(default=None, foreign_key="milestone.id")
    owner_id: int = Field(foreign_key="owner.id")
    role: str = Field(max_length=16)
    period: str = Field(max_length=16)  # 2024-05, 2024-Q2, 2024-H1
    period_end: date
    progress: str
    problems: str | None = None
    next_steps: str | None = None
    percent: int | None = None
    # Milestones claimed done: [{"id", "on", "evidence": [evidence ids]}].
    milestones: list | None = _json()
    source: str | None = None  # the returned file it was imported from
    submitted_by: str
    submitted_at: datetime = _instant()
    superseded_by_id: int | None = Field(default=None, foreign_key="report.id")


class Escalation(SQLModel, table=True):
    """A step on the ladder against a subject. Never deleted; resolved when its cause clears."""

    __table_args__ = (sa.Index("ix_escalation_open", "resolved_at", "level"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(max_length=16)  # obligation | target | milestone | region
    subject_id: int
    obligation_id: int | None = Field(default=None, foreign_key="obligation.id", index=True)
    # What condition this is about, so a sweep finds its own escalation again.
    condition: str = Field(index=True)
    rule: str = Field(max_length=64)
    level: str = Field(max_length=16)
    reason: str
    reason_en: str | None = None
    addressed_to_id: int | None = Field(default=None, foreign_key="owner.id", index=True)
    # The body that convenes it, when not the addressee (a summons: the one above it).
    convened_by_id: int | None = Field(default=None, foreign_key="owner.id")
    region_id: int | None = Field(default=None, foreign_key="region.id")
    opened_at: datetime = _instant()
    raised_at: datetime | None = _instant(default=None)
    acknowledged_at: datetime | None = _instant(default=None)
    acknowledged_by: str | None = None
    ack_note: str | None = None
    resolved_at: datetime | None = _instant(default=None)
    resolve_reason: str | None = None
    follow_up_id: int | None = Field(default=None, foreign_key="obligation.id")
    manual: bool = False


class EscalationChange(SQLModel, table=True):
    """One raise of an escalation (the level and addressee it left), kept so that reads as
    of a past instant see the level it had then (``visibility``)."""

    __tablename__ = "escalation_change"
    __table_args__ = (sa.Index("ix_escalation_change_escalation", "escalation_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalation.id")
    at: datetime = _instant()
    from_level: str = Field(max_length=16)
    to_level: str = Field(max_length=16)
    from_addressed_to_id: int | None = Field(default=None, foreign_key="owner.id")


class Notification(SQLModel, table=True):
    """The delivery ledger: one row per (what, to whom, which occasion, channel)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    channel: str = Field(max_length=16)
    owner_id: int | None = Field(default=None, foreign_key="owner.id", index=True)
    robot_id: int | None = None  # owner_robot.id of a webhook row (no key: robots may go)
    recipient: str | None = None
    subject: str
    occasion: str = Field(max_length=64)
    payload: dict | None = _json()
    status: str = Field(default="pending", index=True, max_length=16)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = _instant(default=None)
    claimed_by: str | None = None
    claimed_at: datetime | None = _instant(default=None)
    created_at: datetime = _instant()
    delivered_at: datetime | None = _instant(default=None)
    read_at: datetime | None = _instant(default=None)


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained history: every mutation writes one in its own transaction."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    at: datetime = _instant()
    actor: str
    # Who ran the command on the client machine: SQLite's only trace of the person, since
    # there ``actor`` is whatever ``--as`` said; on PostgreSQL ``actor`` is the login.
    os_user: str | None = None
    action: str = Field(max_length=64)
    entity_type: str = Field(max_length=32)
    entity_id: str | None = Field(default=None, max_length=64)
    before: dict | None = _json()
    after: dict | None = _json()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """A single row holding the chain's tip; updating it serialises writers on every backend."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(max_length=64)


class FeedToken(SQLModel, table=True):
    """A calendar subscription: its scope and the hash of its secret."""

    __tablename__ = "feed_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = None
    scope: dict | None = _json()
    token_hash: str = Field(unique=True, max_length=64)
    created_by: str | None = None
    created_at: datetime = _instant()
    revoked_at: datetime | None = _instant(default=None)


class Sweep(SQLModel, table=True):
    """One run of the escalation sweep; rules that need "N consecutive sweeps" read these."""

    id: int | None = Field(default=None, primary_key=True)
    as_of: date = Field(index=True)
    ran_at: datetime = _instant()
    actor: str
    dry_run: bool = False
    counts: dict | None = _json()


class TargetStatus(SQLModel, table=True):
    """A target's evaluation as recorded by a sweep."""

    __tablename__ = "target_status"
    __table_args__ = (
        sa.UniqueConstraint("target_id", "sweep_id"),
        # A sweep's counts by status from the index alone (the dashboard, revision 0017).
        sa.Index("ix_target_status_sweep_status", "sweep_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Looked up through the unique constraint, whose first column it is (revision 0018).
    target_id: int = Field(foreign_key="target.id")
    sweep_id: int = Field(foreign_key="sweep.id")
    as_of: date
    status: str = Field(max_length=16)
    latest_value: float | None = None
    latest_date: date | None = None
    expected: float | None = None
    forecast: float | None = None


class Setting(SQLModel, table=True):
    """Small key/value facts about the database itself (e.g. which plan was loaded first)."""

    key: str = Field(primary_key=True, max_length=64)
    value: str
