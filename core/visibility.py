"""What a read as of a date may see: the one rule every read follows.

System time (when something was recorded) decides visibility: a read as of day ``D`` sees
what had been recorded by the end of ``D`` (Asia/Shanghai), with the state things had
then; a later date sees today's record projected forward. The rule is written here once,
as SQL fragments over the tables' usual aliases with the parameter ``:seen_at`` (and
``:as_of`` for business dates), so that the lean path (``queries.Lean``, no SQLAlchemy)
and the ORM run the same text; ``seen_at`` gives the instant for a date.

An obligation's state as of ``seen_at`` is its current state unless it changed later
(``state_changed_at``), then the ``from_state`` of the first change after ``seen_at``:
reads over an unchanged record pay one comparison per row.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from .clock import end_of_day


def seen_at(as_of: date) -> datetime:
    """The instant a read as of ``as_of`` sees the record at: the end of that day."""
    return end_of_day(as_of)


def obligation_visible(o: str = "obligation") -> str:
    return f"{o}.created_at <= :seen_at"


def state_sql(o: str = "obligation") -> str:
    """The obligation's state as of ``:seen_at``."""
    return (
        f"(CASE WHEN {o}.state_changed_at IS NULL OR {o}.state_changed_at <= :seen_at"
        f" THEN {o}.state ELSE (SELECT sc.from_state FROM state_change sc"
        f" WHERE sc.obligation_id = {o}.id AND sc.at > :seen_at ORDER BY sc.at, sc.id LIMIT 1)"
        " END)"
    )


def milestone_done_recorded(m: str = "m") -> str:
    """Its completion (if any) was recorded by ``:seen_at`` (or before times were kept)."""
    return f"({m}.done_at IS NULL OR {m}.done_at <= :seen_at)"


def milestone_pending(m: str = "m") -> str:
    """Not done as of ``:as_of`` (business date), or its completion recorded after ``:seen_at``."""
    return f"({m}.done_on IS NULL OR {m}.done_on >= :as_of OR NOT {milestone_done_recorded(m)})"


def report_visible(r: str = "report") -> str:
    """A progress report submitted by ``:seen_at`` (services/reports.py, ``queries.Lights``)."""
    return f"{r}.submitted_at <= :seen_at"


def reading_visible(m: str = "measurement") -> str:
    """A reading (measurement) recorded, or last corrected, by ``:seen_at``; one corrected
    since is seen with the figures it had then through its revision (``revision_visible``)."""
    return f"{m}.recorded_at <= :seen_at"


def revision_visible(r: str = "r") -> str:
    """A ``measurement_revision`` holds its reading's figures as of ``:seen_at``: recorded
    by then and replaced after (at most one per reading does)."""
    return f"{r}.recorded_at <= :seen_at AND {r}.replaced_at > :seen_at"


# A reading's own columns, as they are today (its evidence too), and those a revision holds.
READING_KEPT = (
    "id",
    "indicator",
    "subject",
    "region_id",
    "site_id",
    "period_start",
    "period_end",
    "evidence_id",
)
READING_REVISED = (
    "value",
    "numerator",
    "denominator",
    "source",
    "note",
    "recorded_by",
    "recorded_at",
)


def readings_then() -> str:
    """``measurement`` as a read as of ``:seen_at`` sees it, every column (``READING_KEPT``
    then ``READING_REVISED``), as a SELECT to stand for the table (``FROM ({readings_then()})
    m``): the readings recorded by then as they are, and those corrected since with what they
    had then."""
    now = ", ".join((*READING_KEPT, *READING_REVISED))
    then = ", ".join((*(f"x.{c}" for c in READING_KEPT), *(f"r.{c}" for c in READING_REVISED)))
    return (
        f"SELECT {now} FROM measurement WHERE {reading_visible()}"
        f" UNION ALL SELECT {then} FROM measurement_revision r"
        f" JOIN measurement x ON x.id = r.measurement_id WHERE {revision_visible()}"
    )


def readings_recorded_after() -> str:
    """SQL answering 1 when a reading was recorded after ``:seen_at`` (an index look-up):
    otherwise reads of readings need no ``reading_visible`` condition."""
    return "SELECT 1 WHERE EXISTS (SELECT 1 FROM measurement WHERE recorded_at > :seen_at)"


def escalation_visible(e: str = "escalation") -> str:
    return f"{e}.opened_at <= :seen_at"


def escalation_open(e: str = "escalation") -> str:
    return (
        f"({e}.opened_at <= :seen_at AND ({e}.resolved_at IS NULL OR {e}.resolved_at > :seen_at))"
    )


def escalation_level(e: str = "escalation") -> str:
    """The escalation's level as of ``:seen_at``: its level unless it was raised later,
    then the ``from_level`` of the first raise after ``:seen_at`` (``escalation_change``;
    a raise older than that table keeps its current level here)."""
    return (
        f"(CASE WHEN {e}.raised_at IS NULL OR {e}.raised_at <= :seen_at THEN {e}.level"
        f" ELSE COALESCE((SELECT ec.from_level FROM escalation_change ec"
        f" WHERE ec.escalation_id = {e}.id AND ec.at > :seen_at ORDER BY ec.at, ec.id LIMIT 1),"
        f" {e}.level) END)"
    )


def recorded_after() -> str:
    """SQL answering 1 when an obligation, a state change or a milestone's completion was
    recorded after ``:seen_at`` (index look-ups); otherwise the lens changes nothing and a
    read may use the plain record (``lens=False``), as most reads as of today can."""
    return (
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM obligation WHERE created_at > :seen_at)"
        " OR EXISTS (SELECT 1 FROM obligation WHERE state_changed_at > :seen_at)"
        " OR EXISTS (SELECT 1 FROM milestone WHERE done_at > :seen_at)"
    )


def changed_since() -> str:
    """Obligations recorded or moved after ``:seen_at``: (state now, seen then, state then)."""
    return (
        f"SELECT obligation.state, {obligation_visible()}, {state_sql()} FROM obligation"
        " WHERE obligation.created_at > :seen_at OR obligation.state_changed_at > :seen_at"
    )


# Rows already read (ORM objects or anything with the same attributes) ---------------------
def done_then(milestone: Any, as_of: date, seen: datetime) -> date | None:
    """A milestone's ``done_on`` as a read as of ``as_of`` sees it."""
    if milestone.done_on is None or milestone.done_on >= as_of:
        return None
    if milestone.done_at is not None and milestone.done_at > seen:
        return None
    return milestone.done_on


def done_recorded(milestone: Any, seen: datetime) -> date | None:
    """A milestone's ``done_on`` if its completion was recorded by ``seen`` (what ``show``
    and ``export`` print; ``done_then`` is the stricter "done before the day" of overdue)."""
    if milestone.done_at is not None and milestone.done_at > seen:
        return None
    return milestone.done_on


def states_then(session: Any, obligations: list[Any], seen: datetime) -> dict[int, str]:
    """{id: state as of ``seen``} for obligations already read (one query for those whose
    state changed since)."""
    from sqlmodel import select

    from .models import StateChange

    states = {ob.id: ob.state for ob in obligations}
    later = [ob.id for ob in obligations if ob.state_changed_at and ob.state_changed_at > seen]
    for start in range(0, len(later), 900):
        rows = session.exec(
            select(StateChange.obligation_id, StateChange.from_state)
            .where(StateChange.obligation_id.in_(later[start : start + 900]), StateChange.at > seen)
            .order_by(StateChange.at.desc(), StateChange.id.desc())
        ).all()
        states.update(dict(rows))  # the earliest change after ``seen`` is written last
    return states
