"""Every target's evaluation during one sweep, in bounded memory.

A sweep's rules read every target's evaluation, some of them several times. Up to ``WHOLE``
targets the (target row, ``Evaluation``) pairs are simply kept. Beyond that they are
evaluated a batch of targets at a time (``evaluate_all`` over an id range, reading only those
targets' readings) and only their figures are kept, in arrays: a million targets take tens
of megabytes instead of gigabytes. Iterating reads the target rows back a batch at a time
and pairs each with its ``Evaluation`` rebuilt from the figures.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ..contributions import Evaluation
from ..models import Target
from ..queries import Lean
from ..target_status import targets_between

WHOLE = 150_000  # up to this many targets the pairs themselves are kept
BATCH = 100_000  # beyond it, targets evaluated at a time
FIGURES = 10_000  # kept pairs' figures handed out at a time

# Bits of ``_absent``: which of a target's figures are None.
_VALUE, _DATE, _EXPECTED, _FORECAST = 1, 2, 4, 8


class EvaluationStore:
    """What ``evaluate_all`` found for every target as of one date, with whether each
    target's obligation is live (not closed or cancelled)."""

    def __init__(self, session: Session, as_of: date, closed: list[str]) -> None:
        self.session, self.as_of, self.closed = session, as_of, closed
        self._pairs: list[tuple[Any, Evaluation, bool]] | None = None
        # (first target id, last target id, position of the batch's first figures)
        self._batches: list[tuple[int, int, int]] = []
        self._ids = array("q")
        self._live = bytearray()
        self._status = bytearray()
        self._statuses: list[str] = []  # status names in the order first met
        self._codes: dict[str, int] = {}
        self._absent = bytearray()
        self._latest_value, self._expected, self._forecast = array("d"), array("d"), array("d")
        self._latest_date = array("l")
        self._details: list[str] = []
        self._texts: dict[str, str] = {}  # one object per distinct detail text
        self._evaluate()

    # Filling --------------------------------------------------------------------------------
    def _evaluate(self) -> None:
        from .evaluation import evaluate_all

        conn = self.session.connection()
        if conn.execute(sa.select(sa.func.count()).select_from(Target)).scalar_one() <= WHOLE:
            pairs = evaluate_all(session=self.session, as_of=self.as_of)
            live = self._live_among({tg.obligation_id for tg, _ in pairs})
            self._pairs = [(tg, ev, tg.obligation_id in live) for tg, ev in pairs]
            return
        firsts = [
            first
            for (first,) in conn.execute(
                sa.text(
                    "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM target)"
                    " AS numbered WHERE n % :batch = 1 ORDER BY id"
                ),
                {"batch": BATCH},
            )
        ]
        last_id = self.session.connection().execute(sa.select(sa.func.max(Target.id))).scalar()
        for first, nxt in zip(firsts, [*firsts[1:], last_id + 1], strict=True):
            pairs = evaluate_all(
                session=self.session, as_of=self.as_of, target_ids=(first, nxt - 1)
            )
            live = self._live_among({tg.obligation_id for tg, _ in pairs})
            self._batches.append((first, nxt - 1, len(self._ids)))
            for tg, ev in pairs:
                self._keep(tg.id, ev, tg.obligation_id in live)

    def _live_among(self, obligation_ids: set[int]) -> set[int]:
        if not obligation_ids:
            return set()
        # Through the bare driver: SQLAlchemy's rows cost more than the query (100k ids).
        closed = ", ".join(f":c{k}" for k in range(len(self.closed)))
        found = Lean.of_session(self.session).rows(
            "SELECT id FROM obligation WHERE id BETWEEN :low AND :high"
            f" AND state NOT IN ({closed})",
            low=min(obligation_ids),
            high=max(obligation_ids),
            **{f"c{k}": state for k, state in enumerate(self.closed)},
        )
        return {ob_id for (ob_id,) in found if ob_id in obligation_ids}

    def _keep(self, target_id: int, ev: Evaluation, live: bool) -> None:
        code = self._codes.get(ev.status)
        if code is None:
            code = self._codes[ev.status] = len(self._statuses)
            self._statuses.append(ev.status)
        self._ids.append(target_id)
        self._live.append(live)
        self._status.append(code)
        absent = 0
        for bit, value, column in (
            (_VALUE, ev.latest_value, self._latest_value),
            (_EXPECTED, ev.expected, self._expected),
            (_FORECAST, ev.forecast, self._forecast),
        ):
            column.append(0.0 if value is None else value)
            absent |= bit if value is None else 0
        self._latest_date.append(0 if ev.latest_date is None else ev.latest_date.toordinal())
        absent |= _DATE if ev.latest_date is None else 0
        self._absent.append(absent)
        self._details.append(self._texts.setdefault(ev.detail, ev.detail))

    # Reading ------------------------------------------------------------------------------
    def _evaluation(self, k: int) -> Evaluation:
        absent = self._absent[k]
        return Evaluation(
            self._statuses[self._status[k]],  # type: ignore[arg-type]
            latest_value=None if absent & _VALUE else self._latest_value[k],
            latest_date=None if absent & _DATE else date.fromordinal(self._latest_date[k]),
            expected=None if absent & _EXPECTED else self._expected[k],
            forecast=None if absent & _FORECAST else self._forecast[k],
            detail=self._details[k],
        )

    def triples(self) -> Iterator[tuple[Any, Evaluation, bool]]:
        """(target row, evaluation, whether its obligation is live), in target id order; the
        rows are ``target_status.TargetRow``s."""
        if self._pairs is not None:
            yield from self._pairs
            return
        db = Lean.of_session(self.session)
        for first, last, k in self._batches:
            for row in targets_between(
                db, first, last
            ):  # targets not evaluated (not visible as of the date) are skipped
                if k < len(self._ids) and self._ids[k] == row.id:
                    yield row, self._evaluation(k), bool(self._live[k])
                    k += 1

    def pairs(self) -> Iterator[tuple[Any, Evaluation]]:
        return ((tg, ev) for tg, ev, _ in self.triples())

    def live_pairs(self) -> Iterator[tuple[Any, Evaluation]]:
        return ((tg, ev) for tg, ev, live in self.triples() if live)

    def statuses(self) -> dict[str, int]:
        if self._pairs is not None:
            return dict(Counter(ev.status for _, ev, _ in self._pairs))
        return {self._statuses[code]: n for code, n in Counter(self._status).items()}

    def figures(self) -> Iterator[tuple[tuple[int, int], list[tuple[Any, ...]]]]:
        """Per batch: its target id range and each target's id and status figures (a tuple,
        ``FIGURES_COLUMNS``)."""
        if self._pairs is not None:
            for start in range(0, len(self._pairs), FIGURES):  # a slice's rows at a time
                part = self._pairs[start : start + FIGURES]
                yield (part[0][0].id, part[-1][0].id), [_figures(tg.id, ev) for tg, ev, _ in part]
            return
        ends = [k for _, _, k in self._batches[1:]] + [len(self._ids)]
        for (first, last, start), end in zip(self._batches, ends, strict=True):
            yield (
                (first, last),
                [_figures(self._ids[k], self._evaluation(k)) for k in range(start, end)],
            )


# What a ``TargetStatus`` row records of a target's evaluation, in ``figures``' order.
FIGURES_COLUMNS = ("target_id", "status", "latest_value", "latest_date", "expected", "forecast")


def _figures(target_id: int, ev: Evaluation) -> tuple[Any, ...]:
    return (target_id, ev.status, ev.latest_value, ev.latest_date, ev.expected, ev.forecast)
