"""Filtering, sorting and paging obligations in SQL (the CLI list and the TUI table)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, select

from .. import names, queries, search, visibility
from ..errors import UserError
from ..i18n import t
from ..models import Milestone, Obligation, Region, Role, State
from ..pinyin import pinyin_order
from . import reports
from .obligations import owners_by_role, summary
from .owners import resolve_owner
from .regions import resolve_region

SORTS = queries.SORTS


@dataclass
class ListFilter:
    text: str | None = None
    owner: str | None = None
    role: str | None = None
    region: str | None = None
    domain: str | None = None
    state: str | None = None
    due_before: date | None = None
    due_from: date | None = None  # with due_before: a pending milestone due in [from, before)
    overdue: bool = False
    plan_id: int | None = None
    parent_id: int | None = None
    mark: str | None = (
        None  # obligations whose attrs carry this key ("ledger.accepted_at" reaches in)
    )
    unmarked: str | None = None  # obligations whose attrs lack it
    light: str | None = None  # green, yellow or red (services/reports.py)


def _pending(as_of: date) -> Any:
    return text(visibility.milestone_pending("milestone")).bindparams(
        as_of=as_of, seen_at=visibility.seen_at(as_of)
    )


def conditions(session: Session, f: ListFilter, as_of: date) -> list[Any]:
    """The filter as SQL (core/queries.py), with owners and regions resolved by name or alias."""
    if f.role and f.role not in Role.__members__:
        raise UserError(
            t(
                "--role: must be one of {choices}, not {value!r}",
                choices=", ".join(Role),
                value=f.role,
            )
        )
    if f.state:
        names.check_state(f.state, State.__members__)
    if f.domain:
        known = session.exec(text(queries.domains_sql())).scalars().all()
        names.check_domain(f.domain, list(known))
    if f.light and f.light not in queries.LIGHTS:
        raise UserError(
            t(
                "--light: must be one of {choices}, not {value!r}",
                choices=", ".join(queries.LIGHTS),
                value=f.light,
            )
        )
    where = queries.obligation_where(
        as_of=as_of,
        dialect=session.get_bind().dialect.name,
        text=f.text,
        domain=f.domain,
        state=f.state,
        due_before=f.due_before,
        due_from=f.due_from,
        overdue=f.overdue,
        role=f.role,
        plan_id=f.plan_id,
        parent_id=f.parent_id,
        mark=f.mark,
        unmarked=f.unmarked,
        light=f.light,
        lights=reports.lights(session=session, as_of=as_of) if f.light else None,
        owner_id=resolve_owner(session=session, ref=f.owner).id if f.owner else None,
        region_path=resolve_region(session=session, ref=f.region).path if f.region else None,
        lens=queries.lens_needed(queries.Lean.of_session(session), as_of),
    )
    return [text(where.sql).bindparams(**where.params)] if where.clauses else []


def count(*, session: Session, f: ListFilter, as_of: date) -> int:
    return session.exec(
        select(func.count()).select_from(Obligation).where(*conditions(session, f, as_of))
    ).one()


def order_keys(
    sort: str, as_of: date, descending: bool = False, text_search: str | None = None
) -> list[Any]:
    """ORDER BY for one of ``SORTS``; the same on every backend. A search in the default
    order (code, ascending) is ranked: code and title hits first (``search.rank_sql``)."""
    if sort not in SORTS:
        raise UserError(
            t(
                "--sort: must be one of {choices}, not {value!r}",
                choices=", ".join(SORTS),
                value=sort,
            )
        )
    if sort == "due":
        nd = (
            select(func.min(Milestone.due))
            .where(Milestone.obligation_id == Obligation.id, _pending(as_of))
            .scalar_subquery()
        )
        keys = [func.coalesce(nd, date(9999, 12, 31)), Obligation.id]
    elif sort == "code":
        # Plans' obligations in plan order, then those of no plan (such as ledger items):
        # said outright, as SQLite sorts NULL first and PostgreSQL last.
        keys = [Obligation.plan_id.is_(None), Obligation.plan_id, Obligation.seq, Obligation.id]
    elif sort == "title":
        keys = [pinyin_order(Obligation.title), Obligation.id]
    else:
        keys = [getattr(Obligation, sort), Obligation.id]
    if descending:
        return [k.desc() for k in keys]
    if sort == "code" and search.words(text_search):
        rank, params = search.rank_sql(text_search)
        keys.insert(0, text(rank).bindparams(**params))
    return keys


def page(
    *,
    session: Session,
    f: ListFilter,
    as_of: date,
    offset: int = 0,
    limit: int | None = 100,
    sort: str = "code",
    descending: bool = False,
) -> list[dict[str, Any]]:
    """One window of obligations in the ``duban list`` shape."""
    query = (
        select(Obligation)
        .where(*conditions(session, f, as_of))
        .order_by(*order_keys(sort, as_of, descending, f.text))
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    obligations = list(session.exec(query).all())
    return _summaries(session, obligations, as_of)


def iterate(
    *, session: Session, f: ListFilter, as_of: date, sort: str = "code", batch: int = 2000
) -> Iterator[dict[str, Any]]:
    """Every matching obligation, fetched a batch at a time."""
    offset = 0
    while True:
        rows = page(session=session, f=f, as_of=as_of, offset=offset, limit=batch, sort=sort)
        yield from rows
        if len(rows) < batch:
            return
        offset += batch


def _summaries(
    session: Session, obligations: list[Obligation], as_of: date
) -> list[dict[str, Any]]:
    ids = [ob.id for ob in obligations]
    owners = owners_by_role(session=session, obligation_ids=ids)
    milestones: dict[int, list[Milestone]] = {i: [] for i in ids}
    for start in range(0, len(ids), 900):
        for m in session.exec(
            select(Milestone).where(Milestone.obligation_id.in_(ids[start : start + 900]))
        ):
            milestones[m.obligation_id].append(m)
    region_ids = {ob.region_id for ob in obligations if ob.region_id}
    if region_ids:
        # Load them once; summary()'s session.get() then finds them in the identity map.
        session.exec(select(Region).where(Region.id.in_(region_ids))).all()
    lights = reports.lights_of(session=session, ids=ids, as_of=as_of)
    last = reports.last_reports(session=session, ids=ids)
    states = visibility.states_then(session, obligations, visibility.seen_at(as_of))
    return [
        {
            **summary(
                session=session,
                ob=ob,
                as_of=as_of,
                owners=owners[ob.id],
                milestones=milestones[ob.id],
                state=states[ob.id],
            ),
            "light": lights.get(ob.id),
            "last_report": last.get(ob.id),
        }
        for ob in obligations
    ]
