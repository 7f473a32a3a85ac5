"""The overdue filter's set form (``queries.overdue_ids_sql``, on PostgreSQL built once
from the late milestones up) finds exactly what the per-row predicate
(``queries.overdue_sql``) accepts, on a varied world: split trees several levels deep,
states moved after the date, children and completions recorded after it, with and without
the as-of lens, in all and within a region (whose split obligations may have their parts
elsewhere); and ``duban list --overdue`` lists and counts them."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from duban.core import listing, queries, visibility
from duban.core.cli.context import Env
from duban.core.filters import ObligationFilter
from duban.core.models import Milestone, Obligation, Region, StateChange

STATES = ["open", "in_progress", "submitted", "verified", "closed", "cancelled"]
DAYS = [date(2024, 2, 1), date(2024, 4, 15), date(2024, 6, 1), date(2024, 9, 30)]
# (id, code, parent, path): a province, a city and a county in it, and another province.
REGIONS = [
    (9001, "990000", None, "990000"),
    (9002, "990100", 9001, "990000/990100"),
    (9003, "990101", 9002, "990000/990100/990101"),
    (9004, "980000", None, "980000"),
]


def _instant(rng: random.Random) -> datetime:
    return datetime(2024, 1, 1, 4, tzinfo=UTC) + timedelta(hours=rng.randint(0, 24 * 300))


def _world(session: sa.orm.Session, rng: random.Random) -> None:
    session.execute(
        sa.insert(Region.__table__),  # type: ignore[attr-defined]
        [
            {
                "id": i,
                "code": code,
                "name": f"r{code}",
                "level": "county",
                "parent_id": up,
                "path": path,
            }
            for i, code, up, path in REGIONS
        ],
    )
    obligations, milestones, changes = [], [], []
    for ob_id in range(1, 401):
        # Trees: a third hang below an earlier obligation, some three or four levels deep.
        parent = rng.randint(1, ob_id - 1) if ob_id > 1 and rng.random() < 0.35 else None
        moved = _instant(rng) if rng.random() < 0.3 else None
        state = rng.choice(STATES)
        created = _instant(rng)
        obligations.append(
            {
                "id": ob_id,
                "seq": ob_id,
                "title": f"t{ob_id}",
                "parent_id": parent,
                "state": state,
                "created_at": created,
                "updated_at": created,
                "state_changed_at": moved,
                "version": 1,
                "reopened": 0,
                "domain": "general",
                # Parts often lie elsewhere than what they were split from.
                "region_id": rng.choice([None, *(r[0] for r in REGIONS)]),
            }
        )
        if moved is not None:
            changes.append(
                {
                    "obligation_id": ob_id,
                    "at": moved,
                    "from_state": rng.choice(STATES),
                    "to_state": state,
                }
            )
        for k in range(rng.choice([0, 1, 1, 2, 3])):
            due = date(2024, 1, 1) + timedelta(days=rng.randint(0, 330))
            done = rng.random() < 0.5
            milestones.append(
                {
                    "obligation_id": ob_id,
                    "title": "m",
                    "due": due,
                    "done_on": due + timedelta(days=rng.randint(-30, 40)) if done else None,
                    "done_at": _instant(rng) if done and rng.random() < 0.7 else None,
                    "uid": f"m{ob_id}-{k}",
                    "sequence": 0,
                    "updated_at": created,
                }
            )
    session.execute(sa.insert(Obligation.__table__), obligations)  # type: ignore[attr-defined]
    session.execute(sa.insert(Milestone.__table__), milestones)  # type: ignore[attr-defined]
    session.execute(sa.insert(StateChange.__table__), changes)  # type: ignore[attr-defined]


def _ids(db: queries.Lean, sql: str, **params: object) -> list[int]:
    return [i for (i,) in db.rows(sql, **params)]


def test_the_overdue_set_is_the_per_row_predicate(env: Env) -> None:
    with env.session() as session:
        _world(session, random.Random(23))
        db = queries.Lean.of_session(session)
        # {code: (its filter's parameters, the ids of the obligations in it)}
        regions = {}
        for _, code, _, path in REGIONS:
            where = {"region_path": path, "region_prefix": path + "/%"}
            sql = f"SELECT id FROM obligation WHERE {queries.in_region('obligation')}"
            regions[code] = (where, set(_ids(db, sql, **where)))
        found = []
        for day in DAYS:
            params = {"as_of": day, "seen_at": visibility.seen_at(day)}
            for lens in (True, False):
                expected = set(
                    _ids(
                        db,
                        "SELECT obligation.id FROM obligation"
                        f" WHERE {queries.overdue_sql(lens=lens, dialect=db.dialect)}",
                        **params,
                    )
                )
                got = _ids(db, queries.overdue_ids_sql(lens=lens, dialect=db.dialect), **params)
                assert len(got) == len(set(got)) and set(got) == expected, (day, lens)
                found.append(len(expected))
                # Within a region: only the region's, split parents with parts elsewhere too.
                for code, (where, inside) in regions.items():
                    sql = queries.overdue_ids_sql(lens=lens, dialect=db.dialect, region=True)
                    got = _ids(db, sql, **params, **where)
                    assert len(got) == len(set(got)), (day, lens, code)
                    assert set(got) == expected & inside, (day, lens, code)
            # The list's filter and count, through the set, in all and within each region.
            visible = set(
                _ids(
                    db,
                    "SELECT obligation.id FROM obligation WHERE"
                    f" {visibility.obligation_visible()} AND {queries.overdue_sql()}",
                    **params,
                )
            )
            for code, inside in [
                (None, visible),
                *((code, visible & inside) for code, (_, inside) in regions.items()),
            ]:
                f = ObligationFilter(overdue=True, region=code, sort="id")
                listed = {r["id"] for r in listing.iterate(db, f, day)}
                assert listed == inside and listing.count(db, f, day) == len(inside), (day, code)
                if code:
                    found.append(len(inside))
    # The world exercises the rule: some overdue, not all, on each day but the first, in all
    # and in each region.
    assert all(0 < n < 400 for n in found[6:]), found
