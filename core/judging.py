"""A second process for the default judging of a large evaluation.

Streaming a million readings and judging a hundred thousand targets by the default method
keeps one core busy for about two seconds. ``target_status.evaluate_all`` therefore hands
the upper part of a large indicator's subjects to a helper, ``python -m duban.core.judging``,
which reads their targets and readings through its own read-only connection and judges them
while the evaluation does the rest. Only ids go to the helper and only the
evaluations' figures come back, so that little time goes into pickling.

Only where the helper reads exactly what the evaluation reads (``Lean.shared_file``). Where
it cannot start, or fails in any way, the evaluation judges that part itself: the answer is
the same either way, only later.
"""

from __future__ import annotations

import gc
import pickle
import sqlite3
import subprocess
import sys
import threading
from datetime import date
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import helper_process
from .contributions import Evaluation
from .i18n import set_language
from .queries import Lean
from .target_status import Days, series_of, targets_among

if TYPE_CHECKING:
    from .services.evaluation import Settings


class Job(NamedTuple):
    """What the helper judges: the targets of ``groups`` (each subject with its targets'
    ids, in subject order) over the readings ``sql`` streams in subject order."""

    sql: str
    params: dict[str, Any]
    groups: list[tuple[str, list[int]]]
    frequency: str
    cfg: Settings
    as_of: date
    language: str


def judge(db: Lean, job: Job) -> list[Evaluation]:
    """Every target of ``job.groups``, judged by the default method in that order; subjects
    the stream does not reach have no readings."""
    from .services.evaluation import judge_series

    targets = {tg.id: tg for tg in targets_among(db, [i for _, ids in job.groups for i in ids])}
    days = Days()
    out: list[Evaluation] = []

    def settle(ids: list[int], ends: list[date], values: list[float]) -> None:
        out.extend(
            judge_series(targets[i], ends, values, job.as_of, job.frequency, job.cfg) for i in ids
        )

    pending = iter(job.groups)
    subject, ids = next(pending, (None, []))
    for found, rows in groupby(db.stream(job.sql, **job.params), key=itemgetter(0)):
        while subject is not None and subject < found:  # a subject without readings
            settle(ids, [], [])
            subject, ids = next(pending, (None, []))
        if subject == found:
            settle(ids, *series_of(list(rows), days))
            subject, ids = next(pending, (None, []))
    while subject is not None:
        settle(ids, [], [])
        subject, ids = next(pending, (None, []))
    return out


def _figures(evaluations: list[Evaluation]) -> tuple[list[Any], ...]:
    """Evaluations as columns, dates as ordinals: 45,000 of them pickled in 0.01 s and
    loaded back into evaluations in 0.05 s, against 0.15 s and 0.13 s as objects."""
    return (
        [ev.status for ev in evaluations],
        [ev.latest_value for ev in evaluations],
        [None if ev.latest_date is None else ev.latest_date.toordinal() for ev in evaluations],
        [ev.expected for ev in evaluations],
        [ev.forecast for ev in evaluations],
        [ev.detail for ev in evaluations],
    )


def _evaluations(figures: tuple[list[Any], ...]) -> list[Evaluation]:
    status, latest, ordinals, expected, forecast, detail = figures
    days = [None if n is None else date.fromordinal(n) for n in ordinals]
    return list(map(Evaluation, status, latest, days, expected, forecast, detail))


class Helper:
    """A job handed to a helper process; ``result`` gives its evaluations."""

    COMMAND = helper_process.command("duban.core.judging")  # the database's path follows

    def __init__(self, path: str, job: Job) -> None:
        self.job = job
        self._sender: threading.Thread | None = None
        self.process = helper_process.start(self.COMMAND, path, stdin=subprocess.PIPE)
        if self.process is None:
            return
        # Sent meanwhile: the evaluation goes on with its own part while the helper starts.
        self._sender = threading.Thread(target=self._send, daemon=True)
        self._sender.start()

    def _send(self) -> None:
        assert self.process is not None and self.process.stdin is not None
        try:
            with self.process.stdin:
                pickle.dump(tuple(self.job), self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:  # the helper died: its answer will be missing
            pass

    def result(self, db: Lean) -> list[Evaluation]:
        """The helper's evaluations; when it failed, the job judged here on ``db``."""
        found = self._answer()
        return judge(db, self.job) if found is None else found

    def _answer(self) -> list[Evaluation] | None:
        if self.process is None or self.process.stdout is None:
            return None
        with self.process.stdout:
            data = self.process.stdout.read()
        if self.process.wait() != 0:
            return None
        try:
            found = _evaluations(pickle.loads(data))
        except Exception:  # an answer cut short
            return None
        return found if len(found) == sum(len(ids) for _, ids in self.job.groups) else None

    def stop(self) -> None:
        """Stop the helper if it still runs (after its answer, or when the evaluation failed
        or was interrupted before asking for it)."""
        if self.process is None:
            return
        helper_process.end(self.process, kill=True)
        if self._sender is not None:
            self._sender.join()
        self.process = None


def main() -> None:
    """The helper: a job on standard input, its evaluations' figures on standard output."""
    gc.disable()  # a short life holding everything it makes until the end
    job = Job(*pickle.load(sys.stdin.buffer))
    set_language(job.language)
    conn = sqlite3.connect(f"{Path(sys.argv[1]).as_uri()}?mode=ro", uri=True, timeout=10)
    with Lean(conn, "sqlite") as db:
        found = judge(db, job)
    pickle.dump(_figures(found), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()
