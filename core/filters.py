"""Which obligations, in what order: the one filter model of ``duban list`` (built from its
options), the TUI's filter line (``tui/filters.py`` parses it into this) and plugin panels.

It compiles to SQL over ``obligation`` (``queries.obligation_where``) run through
``queries.Lean``: the bare driver on the CLI's lean path, an ORM session's own connection
elsewhere (``Lean.of_session``), the same text either way. Owners and regions are named as
people type them (``names.owner_id``, ``names.region_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from . import names, queries, search, visibility
from .errors import UserError
from .i18n import t
from .vocabulary import LEVEL_ORDER, Role, State

SORTS = (*queries.SORTS, "level")  # "level": the highest open escalation (the TUI's)


@dataclass(frozen=True)
class ObligationFilter:
    text: str | None = None  # words of a full-text search (core/search.py), ranked
    owner: str | None = None
    role: str | None = None
    region: str | None = None  # a region and its sub-regions
    domain: str | None = None
    has: str | None = None  # a plugin's mark, e.g. has:ledger for the supervision ledger's items
    lacks: str | None = None  # without it, e.g. lacks:ledger.accepted_at (not yet accepted)
    state: str | None = None
    level: str | None = None  # with an escalation open at this level
    light: str | None = None  # green, yellow or red (queries.Lights)
    due_days: int | None = None  # a pending milestone due in the next N days
    due_before: date | None = None  # a pending milestone due before the date
    due_from: date | None = None  # with due_before: ... and on or after this one
    overdue: bool = False
    plan_id: int | None = None
    parent_id: int | None = None
    sort: str = "code"
    descending: bool = False

    def with_sort(self, sort: str, descending: bool = False) -> ObligationFilter:
        return replace(self, sort=sort, descending=descending)

    @property
    def ranked(self) -> bool:
        """A search in the default order: code and title hits first (``search.rank_sql``)."""
        return self.sort == "code" and not self.descending and bool(search.words(self.text))

    def where(
        self, db: queries.Lean, as_of: date, *, lens: bool = True, walk: bool = False
    ) -> queries.Where:
        """The filter as SQL conditions over ``obligation`` on ``db``; bad values are refused
        (exit 2), unknown names with the closest (exit 4). ``lens``: see ``lens_needed``;
        ``walk``: see ``search.walkable``."""
        if self.role and self.role not in Role.__members__:
            raise UserError(
                t(
                    "--role: must be one of {choices}, not {value!r}",
                    choices=", ".join(Role),
                    value=self.role,
                )
            )
        if self.state:
            names.check_state(self.state, State.__members__)
        if self.domain:
            names.check_domain(self.domain, [d for (d,) in db.rows(queries.domains_sql())])
        if self.light and self.light not in queries.LIGHTS:
            raise UserError(
                t(
                    "--light: must be one of {choices}, not {value!r}",
                    choices=", ".join(queries.LIGHTS),
                    value=self.light,
                )
            )
        due_before, due_from = self.due_before, self.due_from
        if self.due_days is not None:
            # due:N is what falls due in the next N days; what is already late is "overdue".
            due_before, due_from = as_of + timedelta(days=self.due_days + 1), as_of
        where = queries.obligation_where(
            as_of=as_of,
            dialect=db.dialect,
            text=self.text,
            domain=self.domain,
            state=self.state,
            due_before=due_before,
            due_from=due_from,
            overdue=self.overdue,
            role=self.role,
            plan_id=self.plan_id,
            parent_id=self.parent_id,
            mark=self.has,
            unmarked=self.lacks,
            light=self.light,
            lights=lights(db, as_of, lens=lens) if self.light else None,
            owner_id=names.owner_id(db, self.owner) if self.owner else None,
            region_path=_region_path(db, self.region) if self.region else None,
            lens=lens,
            walk=walk,
        )
        if self.level:
            where.add(
                "EXISTS (SELECT 1 FROM escalation WHERE escalation.obligation_id = obligation.id"
                f" AND {visibility.escalation_level()} = :level AND {visibility.escalation_open()})",
                level=self.level,
                seen_at=visibility.seen_at(as_of),
            )
        return where

    def order(self, dialect: str, *, rank: bool = True) -> tuple[str, dict[str, Any]]:
        """``ORDER BY`` text over ``obligation`` (parameters ``:as_of``, ``:seen_at`` and its
        own); the same on every backend. A ``ranked`` search starts with its rank unless
        ``rank`` is False (the caller asks for each rank apart)."""
        if self.sort not in SORTS:
            raise UserError(
                t(
                    "--sort: must be one of {choices}, not {value!r}",
                    choices=", ".join(SORTS),
                    value=self.sort,
                )
            )
        params: dict[str, Any] = {}
        if self.sort == "due":
            params["never"] = date(9999, 12, 31)
            keys = [
                "COALESCE((SELECT MIN(m.due) FROM milestone m WHERE m.obligation_id = obligation.id"
                f" AND {visibility.milestone_pending('m')}), :never)",
            ]
        elif self.sort == "code":
            # Plans' obligations in plan order, then those of no plan (such as ledger items):
            # said outright, as SQLite sorts NULL first and PostgreSQL last.
            keys = ["obligation.plan_id IS NULL", "obligation.plan_id", "obligation.seq"]
        elif self.sort == "title":
            from .pinyin import order_sql

            keys = [order_sql(dialect, "obligation.title")]
        elif self.sort == "level":
            ranks = " ".join(f"WHEN '{level.value}' THEN {r}" for level, r in LEVEL_ORDER.items())
            keys = [
                f"COALESCE((SELECT MAX(CASE {visibility.escalation_level()} {ranks} ELSE -1 END)"
                " FROM escalation WHERE escalation.obligation_id = obligation.id"
                f" AND {visibility.escalation_open()}), -1)"
            ]
        else:
            keys = [f"obligation.{self.sort}"]
        keys.append("obligation.id")
        if self.descending:
            keys = [f"{k} DESC" for k in keys]
        elif rank and self.ranked:
            rank_key, found = search.rank_sql(dialect, self.text)
            keys.insert(0, rank_key)
            params.update(found)
        return ", ".join(keys), params


def _region_path(db: queries.Lean, ref: str) -> str:
    return str(db.one("SELECT path FROM region WHERE id = :id", id=names.region_id(db, ref)))


def lights(db: queries.Lean, as_of: date, *, lens: bool = True) -> queries.Lights:
    """The traffic lights as of ``as_of`` on ``db``, by ``[reports]`` of duban.toml."""
    from .settings import get_settings

    return queries.Lights(
        dialect=db.dialect,
        settings=get_settings().reports,
        plan_ids=dict(db.rows(queries.plan_ids_sql())),
        as_of=as_of,
        lens=lens,
    )
