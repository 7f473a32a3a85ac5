"""SQL for filtering obligations, shared by the ORM listing and the lean count path.

Written as plain SQL with ``:name`` parameters so that ``duban list --count`` can run it
through the database driver alone, without importing SQLAlchemy and the models, while
``services.listing`` wraps the very same text for the ORM.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from . import search, visibility
from .clock import local_midnight
from .dburl import with_options
from .sql import id_in
from .vocabulary import State

if TYPE_CHECKING:  # the reporting calendar loads with the lights, not with every count
    from .reporting import Calendar, ReportSettings

CLOSED = (State.closed.value, State.cancelled.value)
STATES = tuple(s.value for s in State)
SORTS = ("code", "due", "title", "state", "id")
_PENDING = visibility.milestone_pending("m")
# Without the lens (nothing recorded after the date: ``visibility.recorded_after``).
_PENDING_NOW = "(m.done_on IS NULL OR m.done_on >= :as_of)"


@dataclass
class Where:
    """A conjunction of SQL conditions over ``obligation`` and their parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    # When the conditions are a search and perhaps the as-of lens, nothing else: the
    # ``SELECT`` of the ids the search finds (``search.ids_sql``), and whether the lens is
    # among them. A count then reads those ids alone (``count_sql``).
    found: str | None = None
    found_lens: bool = False

    def add(self, clause: str, **params: Any) -> None:
        self.clauses.append(clause)
        self.params.update(params)
        self.found = None  # one more condition: the ids found are no longer the answer

    @property
    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) or "1 = 1"


def obligation_where(
    *,
    as_of: date,
    dialect: str,
    text: str | None = None,
    domain: str | None = None,
    state: str | None = None,
    due_before: date | None = None,
    due_from: date | None = None,
    overdue: bool = False,
    owner_id: int | None = None,
    role: str | None = None,
    region_path: str | None = None,
    plan_id: int | None = None,
    parent_id: int | None = None,
    mark: str | None = None,
    unmarked: str | None = None,
    lens: bool = True,
    light: str | None = None,
    lights: Lights | None = None,
    walk: bool = False,
) -> Where:
    """Conditions for ``duban list``'s filters (``text``: the words of a full-text search,
    ``search``); owners and regions must be resolved already,
    and ``lights`` given with ``light``. Only what was recorded by the end of ``as_of`` is
    seen, in the state it had then; with ``lens=False`` (the caller found nothing recorded
    after it) the record as it is. ``walk``: the search asked of each row (``search.where``)."""
    w = Where()
    if lens:
        w.add(visibility.obligation_visible(), seen_at=visibility.seen_at(as_of))
    if search.words(text):
        clause, params = search.where(dialect, text, walk=walk)
        w.add(clause, seen_at=visibility.seen_at(as_of), **params)
        if dialect == "postgresql" and not walk:
            # Not on SQLite: probing the index its IN builds once is cheaper there (水's
            # count at 100k 59 ms, against 144 ms for the distinct ids).
            w.found, w.found_lens = search.ids_sql(dialect, text)[0], lens
    if owner_id is not None or role:
        cond = ["a.obligation_id = obligation.id"]
        if owner_id is not None:
            cond.append("a.owner_id = :owner_id")
            w.params["owner_id"] = owner_id
        if role:
            cond.append("a.role = :role")
            w.params["role"] = role
        w.add(f"EXISTS (SELECT 1 FROM assignment a WHERE {' AND '.join(cond)})")
    if region_path is not None:
        w.add(in_region("obligation"), region_path=region_path, region_prefix=region_path + "/%")
    if domain:
        w.add("obligation.domain = :domain", domain=domain)
    if state:
        w.add(f"{visibility.state_sql() if lens else 'obligation.state'} = :state", state=state)
    if due_before:
        since = " AND m.due >= :due_from" if due_from else ""
        w.add(
            "EXISTS (SELECT 1 FROM milestone m WHERE m.obligation_id = obligation.id"
            f" AND m.due < :due_before{since} AND {_PENDING if lens else _PENDING_NOW})",
            due_before=due_before,
            as_of=as_of,
            **({"due_from": due_from} if due_from else {}),
        )
    if overdue:
        w.add(
            overdue_filter(lens=lens, dialect=dialect, region=region_path is not None),
            as_of=as_of,
        )
    if plan_id is not None:
        w.add("obligation.plan_id = :plan_id", plan_id=plan_id)
    if parent_id is not None:
        w.add("obligation.parent_id = :parent_id", parent_id=parent_id)
    # A plugin's mark on its own obligations (the supervision plugin's "ledger" items), or a
    # member inside it ("ledger.accepted_at").
    for name, path, test in (("mark", mark, "IS NOT NULL"), ("unmarked", unmarked, "IS NULL")):
        if path:
            members = path.split(".")
            w.add(
                f"{_json_path(name, len(members))} {test}",
                **{f"{name}{i}": member for i, member in enumerate(members)},
            )
    if light:
        assert lights is not None, "a light filter needs the lights"
        clause, params = lights.where(light)
        w.add(clause, **params)
    return w


def in_region(o: str) -> str:
    """``o`` lies in the region ``:region_path`` or below it (``:region_prefix`` is that path
    followed by ``/%``)."""
    return (
        f"{o}.region_id IN (SELECT r.id FROM region r WHERE r.path = :region_path"
        " OR r.path LIKE :region_prefix)"
    )


def _json_path(name: str, depth: int) -> str:
    # "->" reads a JSON member on PostgreSQL and on SQLite (3.38 and later) alike; NULL when
    # the member (or the attrs themselves) is missing.
    return "obligation.attrs" + "".join(f" -> CAST(:{name}{i} AS TEXT)" for i in range(depth))


class _Overdue:
    """The parts of "overdue" over an alias, with or without the as-of lens."""

    def __init__(self, lens: bool) -> None:
        self.lens = lens
        self.pending = _PENDING if lens else _PENDING_NOW

    def live(self, o: str) -> str:
        state = visibility.state_sql(o) if self.lens else f"{o}.state"
        return f"{state} NOT IN ('{CLOSED[0]}', '{CLOSED[1]}')"

    def late(self, o: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM milestone m WHERE m.obligation_id = {o}.id"
            f" AND m.due < :as_of AND {self.pending})"
        )

    def seen(self, o: str) -> str:
        return f" AND {visibility.obligation_visible(o)}" if self.lens else ""

    def has_children(self, o: str) -> str:
        """Split: an obligation below it (recorded by then) carries its deadlines."""
        return f"EXISTS (SELECT 1 FROM obligation c WHERE c.parent_id = {o}.id{self.seen('c')})"


def overdue_sql(*, lens: bool = True, dialect: str = "sqlite") -> str:
    """A live obligation with a milestone due before ``:as_of`` and not done by then (as
    recorded by ``:seen_at``, ``visibility``). Once
    split, an obligation's children carry its deadlines: a parent is overdue when an
    obligation below it is, whatever its own milestones say (as the sweep sees it).
    Asked of each row: for a few rows; a filter over many takes ``overdue_ids_sql``."""
    p = _Overdue(lens)

    def split(o: str) -> str:
        if dialect == "postgresql":
            # A probe of the parent_id index per row: a million parent ids as one set outgrow
            # work_mem, and PostgreSQL then scans the set for every row (national scale).
            return p.has_children(o)
        # Parents as one set, looked up per row (a correlated probe per row would cost a
        # third more on 100k obligations in SQLite).
        parents = f"SELECT c.parent_id FROM obligation c WHERE c.parent_id IS NOT NULL{p.seen('c')}"
        return f"{o}.id IN ({parents})"

    below = (
        "WITH RECURSIVE below(id) AS (SELECT c.id FROM obligation c WHERE c.parent_id = obligation.id"
        " UNION ALL SELECT c.id FROM obligation c JOIN below b ON c.parent_id = b.id)"
        f" SELECT 1 FROM below b JOIN obligation x ON x.id = b.id"
        f" WHERE {p.live('x')}{p.seen('x')} AND {p.late('x')} AND NOT {split('x')}"
    )
    return (
        f"{p.live('obligation')} AND ({p.late('obligation')} AND NOT {split('obligation')}"
        f" OR {split('obligation')} AND EXISTS ({below}))"
    )


def pending_milestones_sql(*, lens: bool = True, due: str = "m.due < :as_of") -> str:
    """The obligations with a milestone due as ``due`` says (before ``:as_of``: late) and
    not done by ``:as_of`` (``visibility.milestone_pending``), in one arm per way of not
    being done, each read from an index: not done at all; done on or after the day; done
    before it but recorded after ``:seen_at`` (with the lens). ``ix_milestone_done_due``
    answers the first two from the index alone."""
    arms = [
        f"SELECT m.obligation_id FROM milestone m WHERE m.done_on IS NULL AND {due}",
        f"SELECT m.obligation_id FROM milestone m WHERE m.done_on >= :as_of AND {due}",
    ]
    if lens:
        arms.append(f"SELECT m.obligation_id FROM milestone m WHERE m.done_at > :seen_at AND {due}")
    return " UNION ".join(arms)


def overdue_ids_sql(*, lens: bool = True, dialect: str = "sqlite", region: bool = False) -> str:
    """A SELECT of the ids ``overdue_sql`` accepts (``region``: only those ``in_region``).
    On PostgreSQL one set built once from
    the late milestones up: the obligations they belong to (live, not split), then the
    split ones above those, each found by index look-ups, where ``overdue_sql`` probes every
    row it is asked about (a million at national scale). SQLite keeps the per-row predicate,
    which lets a window walk the listing index (``test_migrations``)."""
    if dialect != "postgresql":
        inside = f" AND {in_region('obligation')}" if region else ""
        return (
            "SELECT obligation.id FROM obligation"
            f" WHERE {overdue_sql(lens=lens, dialect=dialect)}{inside}"
        )
    p = _Overdue(lens)
    # Every late leaf is walked up from, wherever it lies (a split obligation in the region
    # may have its parts outside it), but only those in the region are kept: read from the
    # index the leaves are probed in (revision 0020), so the national set of late
    # obligations is not fetched from the table to keep a province's few.
    leaf_inside, up_inside = (
        (f", {in_region('x')}", f" AND {in_region('s')}") if region else (", TRUE", "")
    )
    # The obligation a late leaf hangs below (0: none, or the leaf was recorded after the
    # date); NULL when the obligation is split, so not overdue by its own milestones.
    above = (
        f"CASE WHEN x.parent_id IS NOT NULL{p.seen('x')} THEN x.parent_id ELSE 0 END"
        if lens
        else "COALESCE(x.parent_id, 0)"
    )
    # Index probes rather than joins: PostgreSQL cannot estimate how many rows a recursive
    # step yields, nor how many milestones are late (two columns' shares multiplied: 14
    # times too many), and guessing many it would hash the whole obligation table. An array
    # is probed in id order; a subquery in the select list runs per row.
    return (
        "WITH RECURSIVE leaf(id, above, inside) AS (SELECT x.id,"
        f" CASE WHEN NOT {p.has_children('x')} THEN {above} END{leaf_inside} FROM obligation x"
        f" WHERE {id_in(dialect, 'x.id', pending_milestones_sql(lens=lens))} AND {p.live('x')}),"
        # Every obligation above a late one recorded by then (``overdue_sql``'s ``below``,
        # walked upwards); UNION, so each is visited once (the top's NULL parent included).
        " up(id) AS (SELECT above FROM leaf WHERE above <> 0"
        " UNION SELECT (SELECT x.parent_id FROM obligation x WHERE x.id = u.id) FROM up u)"
        " SELECT id FROM leaf WHERE above IS NOT NULL AND inside UNION ALL SELECT u.id FROM up u"
        f" WHERE (SELECT {p.live('s')} AND {p.has_children('s')}{up_inside} FROM obligation s"
        " WHERE s.id = u.id)"
    )


def overdue_filter(*, lens: bool = True, dialect: str = "sqlite", region: bool = False) -> str:
    """``overdue_sql`` as a filter over many rows of ``obligation``: on PostgreSQL the
    rows of ``overdue_ids_sql``'s set, found by their ids (``region``: a set of those
    ``in_region`` only, for a filter that has the region too)."""
    if dialect != "postgresql":
        return overdue_sql(lens=lens, dialect=dialect)
    return id_in(
        dialect, "obligation.id", overdue_ids_sql(lens=lens, dialect=dialect, region=region)
    )


# Traffic lights (红黄绿灯) --------------------------------------------------------------------
LIGHTS = ("green", "yellow", "red")


def _julian(dialect: str, expr: str) -> str:
    """Days (Julian day number) of a date or a UTC instant, the same on every backend."""
    if dialect == "sqlite":
        return f"julianday({expr})"
    return f"(EXTRACT(EPOCH FROM {expr}) / 86400.0 + 2440587.5)"


def julian(value: date | datetime) -> float:
    """What ``_julian`` computes, for a parameter: a date counts from its midnight UTC."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        midnight = datetime.combine(value.date(), datetime.min.time(), UTC)
        return value.toordinal() + 1721424.5 + (value - midnight).total_seconds() / 86400
    return value.toordinal() + 1721424.5


@dataclass
class Lights:
    """The traffic lights of obligations as of a date, as SQL (``table``) and its parameters.

    Red: overdue, more than ``yellow_points`` behind the time-proportional progress, or the
    ``red_unreported`` latest due periods all unreported. Yellow: behind at all, or the
    latest due period unreported. Green otherwise; no light once closed or cancelled.
    Progress is the leads' latest reported percent; expected progress the elapsed fraction
    from the plan's issue date (else the obligation's creation) to its last due date. Only
    reports recorded by the end of ``as_of`` count (``visibility``; docs/reports.md)."""

    dialect: str
    settings: ReportSettings
    plan_ids: dict[str, int]  # plan key -> id, for the plans with a calendar of their own
    as_of: date
    lens: bool = True  # False when nothing was recorded after ``as_of`` (``lens_needed``)

    def _live(self) -> str:
        state = visibility.state_sql() if self.lens else "obligation.state"
        return f"{state} NOT IN ('{CLOSED[0]}', '{CLOSED[1]}')"

    def _calendar_sql(self) -> str:
        own = {self.plan_ids[k]: c for k, c in self.settings.plans.items() if k in self.plan_ids}
        default = self.settings.default

        def by_plan(value: Callable[[Calendar], str], fallback: str) -> str:
            if not own:
                return fallback
            whens = " ".join(f"WHEN {pid} THEN {value(c)}" for pid, c in sorted(own.items()))
            return f"CASE obligation.plan_id {whens} ELSE {fallback} END"

        planned = by_plan(lambda c: f"'{c.frequency}'", f"'{default.frequency}'")
        freq = f"COALESCE(obligation.report_frequency, {planned})"
        if self._one_due_day:  # the usual case: the frequency alone tells the calendar
            return freq
        day = by_plan(lambda c: f"'{c.due_day}'", f"'{default.due_day}'")
        return f"{freq} || '/' || {day}"

    @property
    def _one_due_day(self) -> bool:
        return len({c.due_day for c in self.settings.calendars()}) == 1

    def _periods(self) -> list[tuple[str, date, date]]:
        """(what ``_calendar_sql`` gives for a calendar, the end of its latest due period,
        the end of the N-th latest); the default frequency first, the most common."""
        from .reporting import due_periods

        found = []
        default = self.settings.default.frequency
        for cal in sorted(self.settings.calendars(), key=lambda c: (c.frequency != default, c.key)):
            due = due_periods(self.as_of, cal.frequency, cal.due_day, self.settings.red_unreported)
            found.append((cal.frequency if self._one_due_day else cal.key, due[0].end, due[-1].end))
        return found

    def _started(self, n: str, i: int) -> str:
        """The obligation had started by the end of calendar ``i``'s ``n`` period: its plan's
        issue date, else its creation, is before the day after it."""
        created = f"obligation.created_at < :lt_{n}t{i}"
        issued = (
            f"(SELECT p.issued_on <= :lt_{n}d{i} FROM plan p"
            " WHERE p.id = obligation.plan_id AND p.issued_on IS NOT NULL)"
        )
        return f"(CASE WHEN obligation.plan_id IS NULL THEN {created} ELSE COALESCE({issued}, {created}) END)"

    def _unreported(self, n: str) -> str:
        """It owed the report of its latest (``p1``) or N-th latest (``pn``) due period, and
        its leads have reported for no period ending that late."""
        # One CASE on the calendar: its key is worked out once per row, not once per calendar.
        owing = [
            f" WHEN '{key}' THEN ({self._started(n, i)}"
            " AND NOT EXISTS (SELECT 1 FROM report r WHERE r.obligation_id = obligation.id"
            f" AND r.role = 'lead' AND {visibility.report_visible('r')}"
            f" AND r.period_end >= :lt_{n}d{i}))"
            for i, (key, _, _) in enumerate(self._periods())
        ]
        return f"CASE {self._calendar_sql()}{''.join(owing)} ELSE 1 = 0 END" if owing else "1 = 0"

    def _behind(self, points: str) -> str:
        """More than ``points`` behind: the leads' latest reported percent against the
        elapsed fraction of the time from the start to the end of the last due date."""
        jd = partial(_julian, self.dialect)
        leads = (
            "FROM report r WHERE r.obligation_id = obligation.id AND r.role = 'lead'"
            f" AND {visibility.report_visible('r')} AND r.percent IS NOT NULL"
        )
        start = (
            f"(CASE WHEN obligation.plan_id IS NULL THEN {jd('obligation.created_at')} ELSE"
            f" COALESCE((SELECT {jd('p.issued_on')} FROM plan p WHERE p.id = obligation.plan_id),"
            f" {jd('obligation.created_at')}) END)"
        )
        expected = (
            f"CASE WHEN :lt_day >= q.e OR q.e <= {start} THEN 100.0"
            f" WHEN :lt_day <= {start} THEN 0.0"
            f" ELSE 100.0 * (:lt_day - {start}) / (q.e - {start}) END"
        )
        # The latest period's percent; of resubmissions the last submitted, in the report
        # index's own order. No such report: no row, so NULL, never behind.
        latest = (
            f"(SELECT r.percent {leads}"
            " ORDER BY r.period_end DESC, r.submitted_at DESC, r.id DESC LIMIT 1) lr"
        )
        last_due = (
            f"(SELECT {jd('MAX(m.due)')} + 1 AS e FROM milestone m"
            " WHERE m.obligation_id = obligation.id) q"
        )
        return (
            f"(SELECT {expected} - lr.percent FROM {latest}, {last_due} WHERE q.e IS NOT NULL)"
            f" > {points}"
        )

    def _conditions(self) -> dict[str, str]:
        """Conditions over ``obligation``, cheapest first (a filter stops at the first that
        holds): red and yellow."""
        return {
            "red": f"({self._unreported('pn')}) OR {overdue_sql(lens=self.lens, dialect=self.dialect)} OR {self._behind(':lt_points')}",
            "yellow": f"({self._unreported('p1')}) OR ({self._behind('0')})",
        }

    def table(self, where: str = "1 = 1") -> str:
        """``SELECT id, light`` for the obligations matching ``where`` (over ``obligation``)."""
        c = self._conditions()
        return (
            f"SELECT obligation.id AS id, CASE WHEN NOT {self._live()} THEN NULL WHEN {c['red']}"
            f" THEN 'red' WHEN {c['yellow']} THEN 'yellow' ELSE 'green' END AS light"
            f" FROM obligation WHERE ({where})"
            + (f" AND {visibility.obligation_visible()}" if self.lens else "")
        )

    @property
    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "as_of": self.as_of,
            "seen_at": visibility.seen_at(self.as_of),
            "lt_day": julian(self.as_of),
            "lt_points": self.settings.yellow_points,
        }
        for i, (_, p1, pn) in enumerate(self._periods()):
            for n, end in (("p1", p1), ("pn", pn)):
                params[f"lt_{n}d{i}"] = end
                after = local_midnight(end + timedelta(days=1))  # the instant it is over
                params[f"lt_{n}t{i}"] = sqlite_value(after) if self.dialect == "sqlite" else after
        return params

    def where(self, light: str) -> tuple[str, dict[str, Any]]:
        """A condition over ``obligation``: its light is ``light``."""
        c, live = self._conditions(), self._live()
        clause = {
            "red": f"{live} AND ({c['red']})",
            "yellow": f"{live} AND NOT ({c['red']}) AND ({c['yellow']})",
            "green": f"{live} AND NOT ({c['red']}) AND NOT ({c['yellow']})",
        }[light]
        used = set(_PARAM.findall(clause))  # the ORM refuses parameters the text lacks
        return clause, {k: v for k, v in self.params.items() if k in used}


def plan_ids_sql() -> str:
    """The plans' keys and ids, for ``Lights.plan_ids``."""
    return "SELECT key, id FROM plan"


def domains_sql() -> str:
    """The domains obligations are in: what ``--domain`` may name (read off its index)."""
    return "SELECT DISTINCT domain FROM obligation ORDER BY domain"


# A search's count hashes what the as-of lens hides while it hides fewer obligations than
# this (at most this many index entries are read to know); beyond, each match is asked.
HASHED = 100_000


def count_sql(where: Where) -> str:
    asked = f"SELECT COUNT(*) FROM obligation WHERE {where.sql}"
    if where.found is None:
        return asked
    # A search alone: its distinct ids, but those the lens hides. Asking each obligation
    # whether its id is in the search's array cost twice as much on PostgreSQL (水 at 100k:
    # the array's 200,000 ids sorted, then 96,000 probes).
    counted = f"SELECT COUNT(DISTINCT found.id) FROM ({where.found}) found (id)"
    if not where.found_lens:
        return counted
    hidden = f"NOT ({visibility.obligation_visible()})"
    # When the lens hides most obligations (a day before a plan was recorded), hashing them
    # all costs more than asking the few it shows: PostgreSQL runs only the branch taken.
    few = f"(SELECT COUNT(*) FROM (SELECT 1 FROM obligation WHERE {hidden} LIMIT {HASHED}) h)"
    return (
        f"SELECT CASE WHEN {few} < {HASHED} THEN ({counted} WHERE NOT EXISTS"
        f" (SELECT 1 FROM obligation WHERE obligation.id = found.id AND {hidden}))"
        f" ELSE ({asked}) END"
    )


# The lean path ----------------------------------------------------------------------------
_PARAM = re.compile(r"(?<!:):(\w+)")
_CURSORS = itertools.count()  # names of server-side cursors, unique in the process


class Lean:
    """Read-only SQL with ``:name`` parameters over a bare DB-API connection (sqlite3 or
    psycopg): the same text the ORM runs, without importing SQLAlchemy."""

    def __init__(
        self, conn: Any, dialect: str, *, owned: bool = True, writer_since: int | None = None
    ) -> None:
        self.conn, self.dialect, self._owned = conn, dialect, owned
        self._writer_since = writer_since  # ``db.WRITER_SINCE``

    @classmethod
    def of_session(cls, session: Any) -> Lean:
        """The driver connection under an ORM session (its transaction, not closed here);
        what the session holds unwritten is flushed first, as an ORM query would."""
        from .db import WRITER_SINCE

        session.flush()
        connection = session.connection()
        return cls(
            connection.connection.driver_connection,
            connection.dialect.name,
            owned=False,
            writer_since=connection.connection.info.get(WRITER_SINCE),
        )

    def shared_file(self) -> str | None:
        """The database file, when another connection to it reads exactly what this one
        does: SQLite in a writing transaction that has written nothing yet. It holds the
        write lock since it began (``BEGIN IMMEDIATE``), so the last commit is what it reads.
        None otherwise."""
        if (
            self.dialect != "sqlite"
            or self._writer_since is None
            or not self.conn.in_transaction
            or self.conn.total_changes != self._writer_since
        ):
            return None
        path = self.rows("PRAGMA database_list")[0][2]
        return path or None  # "" for a database in memory

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        if self.dialect == "sqlite":
            params = {k: sqlite_value(v) for k, v in params.items()}
        else:
            sql = _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            return [tuple(row) for row in cur.fetchall()]
        finally:
            cur.close()

    def stream(self, sql: str, **params: Any) -> Iterator[tuple]:
        """The rows fetched in large batches (through a server-side cursor on PostgreSQL):
        for reads of millions of rows, which must not be held at once. Dates come back as
        ISO text on SQLite and as dates on PostgreSQL."""
        # Chained in C: a generator resumed for each of a million rows cost more than that.
        return itertools.chain.from_iterable(self._batches(sql, params))

    def _batches(self, sql: str, params: dict[str, Any]) -> Iterator[list[tuple]]:
        if self.dialect == "postgresql":
            cursor = self.conn.cursor(name=f"duban_stream_{next(_CURSORS)}")
            sql = _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))
        else:
            cursor = self.conn.cursor()
            params = {k: sqlite_value(v) for k, v in params.items()}
        try:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(20_000):
                yield batch
        finally:
            cursor.close()

    def one(self, sql: str, **params: Any) -> Any:
        """The first column of the first row, or None."""
        found = self.rows(sql, **params)
        return found[0][0] if found else None

    def interrupt(self) -> None:
        """Stop the statement running on this connection, from another thread, where it
        then raises (SQLite's interrupt, PostgreSQL's cancel request)."""
        if self.dialect == "sqlite":
            self.conn.interrupt()
        else:
            self.conn.cancel_safe()

    def close(self) -> None:
        if self._owned:
            self.conn.close()

    def __enter__(self) -> Lean:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sqlite_value(value: Any) -> Any:
    # As SQLAlchemy stores them on SQLite: ISO dates, naive UTC instants with microseconds.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def instant(value: Any) -> datetime:
    """An instant column as read through the driver, as the ORM gives it: aware, in UTC
    (SQLite gives ``sqlite_value``'s text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def lean_connect(url: str, head: str, claimed: str | None = None) -> Lean | None:
    """A read-only connection through the bare driver; None when the database is not ready
    for it (missing, not at schema ``head``, or a backend without a lean driver), or when
    ``claimed`` (``--as``) is not PostgreSQL's login, so the caller takes the ORM path
    instead (which refuses the claim)."""
    if url.startswith("sqlite:///"):
        import sqlite3

        from . import pinyin

        try:
            conn = sqlite3.connect(
                f"file:{url.removeprefix('sqlite:///')}?mode=ro",
                uri=True,
                timeout=10,
                check_same_thread=False,
            )
        except sqlite3.Error:
            return None
        pinyin.register(conn)  # what the ORM's connections have (``core/db.py``)
        lean = Lean(conn, "sqlite")
    elif url.startswith("postgresql+psycopg://"):
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        try:
            dsn = "postgresql://" + url.split("://", 1)[1]
            options = with_options(conninfo_to_dict(dsn).get("options"))
            lean = Lean(psycopg.connect(make_conninfo(dsn, options=options)), "postgresql")
        except psycopg.Error:
            return None
    else:
        return None
    if claimed and lean.dialect == "postgresql" and lean.one("SELECT session_user") != claimed:
        lean.close()
        return None
    try:
        version = lean.one("SELECT version_num FROM alembic_version")
    except Exception:  # no schema yet: let the full path create it
        version = None
    if version != head:
        lean.close()
        return None
    return lean


def lens_needed(db: Lean, as_of: date) -> bool:
    """Whether anything was recorded after the end of ``as_of`` (``visibility``)."""
    return db.one(visibility.recorded_after(), seen_at=visibility.seen_at(as_of)) is not None


def lean_count(
    url: str,
    head: str,
    as_of: date,
    where: Callable[[Lean, bool], Where],
    claimed: str | None = None,
) -> int | None:
    """``count_sql(where(lean, lens))`` through the bare driver, or None (see
    ``lean_connect``); ``where`` builds the filter for that connection, with or without the
    as-of lens, as ``lens_needed`` says."""
    lean = lean_connect(url, head, claimed)
    if lean is None:
        return None
    with lean:
        found = where(lean, lens_needed(lean, as_of))
        return int(lean.one(count_sql(found), **found.params))
