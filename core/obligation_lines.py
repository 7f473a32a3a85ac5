"""The lines of an obligations file, as ``duban import obligations`` takes them: read,
checked, and packed in batches column by column.

A line is checked without the database: the checks of ``duban add`` and ``duban target
add``. A well-formed line takes a fast path (``quick``: plain type and dict checks); anything
else, and every line the fast path does not accept, the detailed checks (``validate``), which
give the message.

Reading and checking 100,000 lines keeps a core busy for about two seconds. For a large
file ``Reader`` has a helper process, ``python -m duban.core.obligation_lines``, read and
check the lines while the import writes the batches before; batches come back as columns
(``Lines``), which cost little to load and turn into rows. A batch the helper cannot take
whole (a line with targets, whose indicators the plugins define, or a bad line) comes back
as the lines' text, checked here, so that the import says what it would say without the
helper; and where the helper cannot start or fails, the import reads on here from the first
line it did not send. The answer is the same either way.
"""

from __future__ import annotations

import gc
import json
import json.scanner
import pickle
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from itertools import accumulate
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from . import helper_process
from .clock import EARLIEST, LATEST, parse_date
from .controls import check_text
from .errors import UserError, located
from .i18n import t
from .spreadsheet_reader import text_encoding
from .vocabulary import Role, State

BATCH = 2000
TEXTS = ("title_en", "body", "body_en", "code", "domain", "plan", "region", "region_code")


# Reading ---------------------------------------------------------------------------------


def failure(where: str, message: str) -> UserError:
    """Bad input at ``where`` (``path:line``)."""
    return UserError(f"{where}: {message}")


def _short(value: Any) -> str:
    """A value as a message quotes it: its repr, cut at 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _texts(path: Path, after: int = 0) -> Iterator[tuple[int, str]]:
    """Each line's number and text (without its line end), from the line after ``after``;
    a file is read a line at a time (exports run to gigabytes)."""
    try:
        handle = path.open(encoding=text_encoding(path), newline="")
    except OSError as exc:
        raise UserError(
            t("{path}: cannot read: {why}", path=path, why=exc.strerror or exc)
        ) from None
    with handle:
        for number, line in enumerate(handle, 1):
            if number > after:
                yield number, line.rstrip("\r\n")


def _decoded(path: Path, number: int, text: str) -> tuple[dict[str, Any], bool] | None:
    """A line's object and whether the line is plain: without a control character or a
    backslash, so that no string in it holds a control character (JSON escapes start with a
    backslash; a raw C0 character is not valid JSON). None for a blank line."""
    # The common line is one object, nothing around it: the decoder's scanner alone,
    # without json.loads' checks of the text around the object.
    try:
        data, end = _scan(text, 0)
    except (StopIteration, ValueError, RecursionError):
        end = -1
    if end != len(text):
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except RecursionError:
            raise failure(f"{path}:{number}", t("nested too deeply")) from None
        except json.JSONDecodeError as exc:
            raise failure(
                f"{path}:{number}:{exc.colno}", t("not valid JSON: {why}", why=exc.msg)
            ) from None
    if not isinstance(data, dict):
        raise failure(f"{path}:{number}", t("expected a JSON object"))
    return data, _UNPLAIN.search(text) is None


def read_lines(path: Path, after: int = 0) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """The file's objects from the line after ``after``, each with its line's number and
    whether the line is plain (``_decoded``)."""
    for number, text in _texts(path, after):
        decoded = _decoded(path, number, text)
        if decoded is not None:
            yield number, *decoded


_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_UNPLAIN = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")


# Checking --------------------------------------------------------------------------------

_STR_OR_NONE = frozenset((str, type(None)))
# What a line's ``id`` and ``parent`` may be: the import maps a file's ids to the new ones.
_KEYS = frozenset((int, float, str, type(None)))
_STATES = frozenset(State.__members__)
_ROLES = frozenset(Role.__members__)


def check(
    path: Path, number: int, data: dict[str, Any], plain: bool, dates: dict[str, date]
) -> dict[str, Any]:
    """A line checked: ``quick`` where it takes the line, else ``validate``."""
    return (plain and quick(path, number, data, dates)) or validate(path, number, data)


def quick(
    path: Path, number: int, data: dict[str, Any], dates: dict[str, date]
) -> dict[str, Any] | None:
    """``validate``'s result for a plain line (``read_lines``) that passes each of its
    checks in the common way, else None: then ``validate`` runs and says what is wrong.
    Plain dict and type checks: no control character can hide in a plain line, so the
    checks of the texts hold already. ``dates`` keeps the dates already read."""
    get = data.get
    title = get("title")
    if type(title) is not str or not (title := title.strip()):
        return None
    values = list(map(get, TEXTS))
    if not _STR_OR_NONE.issuperset(map(type, values)):
        return None
    texts = dict(zip(TEXTS, values, strict=True))
    state = get("state") or State.open
    if state is not State.open and (type(state) is not str or state not in _STATES):
        return None
    assignments = get("assignments")
    if assignments is None:
        leads, participants = get("lead") or [], get("participants") or []
        if type(leads) is not list or type(participants) is not list:
            return None
        assignments = [{"owner": o, "role": "lead"} for o in leads] + [
            {"owner": o, "role": "participant"} for o in participants
        ]
    elif type(assignments) is not list:
        return None
    lead = False
    for a in assignments:
        if type(a) is not dict:
            return None
        owner, role = a.get("owner"), a.get("role")
        if type(owner) is not str or not owner.strip() or type(role) is not str:
            return None
        if role not in _ROLES:
            return None
        lead = lead or role == Role.lead
    if not lead:
        return None
    raw_milestones = get("milestones") or []
    if type(raw_milestones) is not list:
        return None
    milestones = []
    for m in raw_milestones:
        if type(m) is not dict:
            return None
        m_title, m_title_en, due, done = (
            m.get("title"),
            m.get("title_en"),
            m.get("due"),
            m.get("done"),
        )
        if m_title is not None and type(m_title) is not str:
            return None
        if m_title_en is not None and type(m_title_en) is not str:
            return None
        if type(due) is not str or (day := dates.get(due) or _day(due, dates)) is None:
            return None
        done_on = (dates.get(done) or _day(done, dates)) if done and type(done) is str else None
        if done and done_on is None:
            return None
        milestones.append(
            {"title": m_title or title, "title_en": m_title_en, "due": day, "done_on": done_on}
        )
    raw_targets = get("targets") or []
    if type(raw_targets) is not list:
        return None
    # Everything before the targets passed, so the targets' own errors come first, as there.
    targets = _targets(f"{path}:{number}", raw_targets) if raw_targets else []
    seq = get("seq") or 0
    if type(seq) is not int or not 0 <= seq < 2**31:
        return None
    if type(get("id")) not in _KEYS or type(get("parent")) not in _KEYS:
        return None
    return _line(data, number, texts, title, state, seq, assignments, milestones, targets)


def _line(
    data: dict[str, Any],
    number: int,
    texts: dict[str, str | None],
    title: str,
    state: str,
    seq: int,
    assignments: list[dict[str, Any]],
    milestones: list[dict[str, Any]],
    targets: list[dict[str, Any]],
) -> dict[str, Any]:
    """A checked line as the import takes it (``quick`` and ``validate`` alike): its own
    ``id`` and ``parent``'s (how lines of one file refer to each other), its texts, and
    its owners, milestones and targets."""
    return {
        "id": data.get("id"),
        "parent": data.get("parent"),
        "line": number,
        **texts,
        "title": title,
        "domain": texts["domain"] or "general",
        "state": state,
        "seq": seq,
        "assignments": assignments,
        "milestones": milestones,
        "targets": targets,
    }


def _day(text: str, dates: dict[str, date]) -> date | None:
    """The date ``parse_date`` reads in ``text``, kept in ``dates``; None where it refuses."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if not EARLIEST <= day <= LATEST:
        return None
    dates[text] = day
    return day


def _string(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise failure(where, t("`{key}` must be a string, not {value}", key=key, value=_short(value)))


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise failure(where, t("value must be a number, not {value}", value=_short(value)))
    return float(value)


def _as_date(value: Any, what: str) -> date:
    if not isinstance(value, str):
        raise UserError(t("{what}: not a date (YYYY-MM-DD): {value!r}", what=what, value=value))
    return parse_date(value, what=what)


def validate(path: Path, number: int, data: dict[str, Any]) -> dict[str, Any]:
    """The checks that need no database: those of ``duban add`` and ``duban target add``."""
    # Here, not at the top: the services load the ORM, which the helper's fast path never needs.
    from .services.obligations import check_obligation

    where = f"{path}:{number}"
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise failure(where, t("`title` must be a non-empty string"))
    texts = {key: _string(data, key, where) for key in TEXTS}
    state = data.get("state") or State.open
    with located(where):
        title = check_obligation(
            title=title,
            title_en=texts["title_en"],
            body=texts["body"],
            body_en=texts["body_en"],
            code=texts["code"],
            domain=texts["domain"] or "general",
            state=state if isinstance(state, str) else _short(state),
        )
        check_text(texts["region"], "region", single_line=True)
        check_text(texts["region_code"], "region_code", single_line=True)
    assignments = data.get("assignments")
    if assignments is None:
        leads, participants = data.get("lead") or [], data.get("participants") or []
        if not isinstance(leads, list) or not isinstance(participants, list):
            raise failure(where, t("`lead` and `participants` must be lists"))
        assignments = [{"owner": o, "role": "lead"} for o in leads] + [
            {"owner": o, "role": "participant"} for o in participants
        ]
    if not isinstance(assignments, list):
        raise failure(where, t("`assignments` must be a list"))
    for j, a in enumerate(assignments):
        if not isinstance(a, dict) or not isinstance(a.get("owner"), str) or not a["owner"].strip():
            raise failure(where, t("each assignment needs an owner name"))
        role = a.get("role")
        if not isinstance(role, str) or role not in Role.__members__:
            raise failure(where, t("unknown role {value}", value=_short(role)))
        with located(f"{where}: assignments[{j}]"):
            check_text(a["owner"], "owner", single_line=True)
    if not any(a["role"] == Role.lead for a in assignments):
        raise failure(where, t("an obligation needs at least one lead owner"))
    milestones = []
    raw_milestones = data.get("milestones") or []
    if not isinstance(raw_milestones, list):
        raise failure(where, t("`milestones` must be a list"))
    for j, m in enumerate(raw_milestones):
        if not isinstance(m, dict):
            raise failure(where, t("milestones[{j}] must be an object", j=j))
        w = f"milestones[{j}]"
        with located(where):
            m_title = _string(m, "title", f"{where}: {w}") or title
            m_title_en = _string(m, "title_en", f"{where}: {w}")
            check_text(m_title, f"{w}.title")
            check_text(m_title_en, f"{w}.title_en")
            milestones.append(
                {
                    "title": m_title,
                    "title_en": m_title_en,
                    "due": _as_date(m.get("due"), f"{w}.due"),
                    "done_on": _as_date(m["done"], f"{w}.done") if m.get("done") else None,
                }
            )
    raw_targets = data.get("targets") or []
    if not isinstance(raw_targets, list):
        raise failure(where, t("`targets` must be a list"))
    targets = _targets(where, raw_targets)
    seq = data.get("seq") or 0
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**31:
        raise failure(where, t("`seq` must be a whole number, not {value}", value=_short(seq)))
    for key in ("id", "parent"):
        if type(data.get(key)) not in _KEYS:
            raise failure(
                where,
                t(
                    "`{key}` must be a number or a string, not {value}",
                    key=key,
                    value=_short(data[key]),
                ),
            )
    return _line(data, number, texts, title, state, seq, assignments, milestones, targets)


def _targets(where: str, raw_targets: list[Any]) -> list[dict[str, Any]]:
    """The checks of ``duban target add`` on a line's targets."""
    from .services.targets import check_target  # the indicators the plugins define

    targets = []
    for j, tg in enumerate(raw_targets):
        w = f"{where}: targets[{j}]"
        if not isinstance(tg, dict) or not tg.get("indicator") or not tg.get("comparator"):
            raise failure(w, t("a target needs indicator and comparator"))
        indicator, comparator = _string(tg, "indicator", w), _string(tg, "comparator", w)
        value = _number(tg.get("value"), w)
        baseline = tg.get("baseline") or {}
        if not isinstance(baseline, dict):
            raise failure(w, t("`baseline` must be an object"))
        scope = tg.get("scope")
        if scope is not None and (
            not isinstance(scope, dict) or scope.get("type") not in ("region", "site")
        ):
            raise failure(
                w,
                t(
                    "`scope` must be an object with type region or site, not {value}",
                    value=_short(scope),
                ),
            )
        for key in ("code", "name", "key"):
            if scope is not None:
                _string(scope, key, f"{w}.scope")
        with located(w):
            due = _as_date(tg.get("due"), "due")
            baseline_date = _as_date(baseline["date"], "baseline") if baseline.get("date") else None
            ind, value = check_target(
                indicator=indicator or "",
                comparator=comparator or "",
                value=value,
                due=due,
                baseline_value=_number(baseline.get("value"), w),
                baseline_date=baseline_date,
                name=_string(tg, "name", w),
                name_en=_string(tg, "name_en", w),
                text=_string(tg, "text", w),
            )
        targets.append(
            {
                "indicator": ind.key,
                "name": tg.get("name") or ind.name,
                "name_en": tg.get("name_en") or ind.name_en,
                "comparator": comparator,
                "value": value,
                "unit": ind.unit or None,
                "due": due,
                "baseline_value": _number(baseline.get("value"), w),
                "baseline_date": baseline_date,
                "text": tg.get("text"),
                "scope": scope,
            }
        )
    return targets


# Batches ---------------------------------------------------------------------------------


class Lines(NamedTuple):
    """A batch of checked lines, column by column: one item per line, per owner named or
    per milestone. Dates are ordinals. ``line(i)`` gives back the ``i``-th line as checked."""

    numbers: list[int]
    ids: list[Any]
    parents: list[Any]
    titles: list[str]
    texts: list[list[str | None]]  # one column per name in TEXTS
    states: list[str]
    seqs: list[int]
    owned: list[int]  # where each line's owners start in ``owners``, and one past the last
    owners: list[str]  # stripped
    roles: list[str]
    carried: list[int]  # where each line's milestones start in ``milestone_titles``, etc.
    milestone_titles: list[str]
    milestone_titles_en: list[str | None]
    dues: list[int]
    done: list[int | None]
    targets: dict[int, list[dict[str, Any]]]  # the lines that have targets, by index

    def text(self, key: str) -> list[str | None]:
        return self.texts[TEXTS.index(key)]

    def line(self, i: int) -> dict[str, Any]:
        """The ``i``-th line as ``check`` gave it (owners stripped, named by role alone)."""
        a, b = self.owned[i], self.owned[i + 1]
        m, n = self.carried[i], self.carried[i + 1]
        texts = {key: column[i] for key, column in zip(TEXTS, self.texts, strict=True)}
        return {
            "id": self.ids[i],
            "parent": self.parents[i],
            "line": self.numbers[i],
            **texts,
            "title": self.titles[i],
            "domain": texts["domain"] or "general",
            "state": self.states[i],
            "seq": self.seqs[i],
            "assignments": [
                {"owner": owner, "role": role}
                for owner, role in zip(self.owners[a:b], self.roles[a:b], strict=True)
            ],
            "milestones": [
                {
                    "title": title,
                    "title_en": title_en,
                    "due": date.fromordinal(due),
                    "done_on": None if done is None else date.fromordinal(done),
                }
                for title, title_en, due, done in zip(
                    self.milestone_titles[m:n],
                    self.milestone_titles_en[m:n],
                    self.dues[m:n],
                    self.done[m:n],
                    strict=True,
                )
            ],
            "targets": self.targets.get(i, []),
        }


def pack(checked: list[dict[str, Any]]) -> Lines:
    """Checked lines as a batch of columns."""
    assignments = [r["assignments"] for r in checked]
    milestones = [m for r in checked for m in r["milestones"]]
    return Lines(
        numbers=[r["line"] for r in checked],
        ids=[r["id"] for r in checked],
        parents=[r["parent"] for r in checked],
        titles=[r["title"] for r in checked],
        texts=[[r[key] for r in checked] for key in TEXTS],
        states=[r["state"] for r in checked],
        seqs=[r["seq"] for r in checked],
        owned=[0, *accumulate(map(len, assignments))],
        owners=[a["owner"].strip() for held in assignments for a in held],
        roles=[a["role"] for held in assignments for a in held],
        carried=[0, *accumulate(len(r["milestones"]) for r in checked)],
        milestone_titles=[m["title"] for m in milestones],
        milestone_titles_en=[m["title_en"] for m in milestones],
        dues=[m["due"].toordinal() for m in milestones],
        done=[None if m["done_on"] is None else m["done_on"].toordinal() for m in milestones],
        targets={i: r["targets"] for i, r in enumerate(checked) if r["targets"]},
    )


def batches(path: Path, after: int = 0, dates: dict[str, date] | None = None) -> Iterator[Lines]:
    """The file's lines from the line after ``after``, checked here, ``BATCH`` at a time."""
    dates = {} if dates is None else dates
    batch: list[dict[str, Any]] = []
    for number, data, plain in read_lines(path, after):
        batch.append(check(path, number, data, plain, dates))
        if len(batch) == BATCH:
            yield pack(batch)
            batch = []
    if batch:
        yield pack(batch)


def _checked_here(path: Path, texts: list[tuple[int, str]], dates: dict[str, date]) -> Lines:
    """A batch the helper sent as its lines' text, read and checked here."""
    checked = []
    for number, text in texts:
        decoded = _decoded(path, number, text)
        if decoded is not None:
            checked.append(check(path, number, *decoded, dates))
    return pack(checked)


# The helper ------------------------------------------------------------------------------


class Reader:
    """The checked lines of ``path``, ``BATCH`` at a time, as ``Lines``: read and checked by
    a helper process where ``helped``, here otherwise. Use it as a context manager: leaving
    it stops a helper still running (the import failed, or was interrupted)."""

    COMMAND = helper_process.command("duban.core.obligation_lines")  # the path, batch size follow

    def __init__(self, path: Path, *, helped: bool) -> None:
        self.path = path
        self.finished = False  # the helper sent its last batch
        self.process = (
            helper_process.start(self.COMMAND, str(path), str(BATCH), stdin=subprocess.DEVNULL)
            if helped
            else None
        )

    def __enter__(self) -> Reader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __iter__(self) -> Iterator[Lines]:
        dates: dict[str, date] = {}
        after = 0  # the last line of the batches given so far
        for answer in self._answers():
            lines = answer if isinstance(answer, Lines) else _checked_here(self.path, answer, dates)
            after = lines.numbers[-1]
            yield lines
        if self.finished:
            return
        self.stop()
        # No helper, or one that stopped short: the rest is read here, from where it stopped
        # (the helper sends whole batches only, so the batches fall as they would have).
        yield from batches(self.path, after, dates)

    def _answers(self) -> Iterator[Lines | list[tuple[int, str]]]:
        """The helper's batches, checked or as text, until its last or until its answer
        breaks off."""
        if self.process is None or self.process.stdout is None:
            return
        while True:
            try:
                kind, payload = pickle.load(self.process.stdout)
                if kind == "lines" and payload[0]:
                    answer: Lines | list[tuple[int, str]] = Lines(*payload)
                elif kind == "text" and payload:
                    answer = list(payload)
                else:
                    self.finished = kind == "end"
                    return
            except Exception:  # cut short or garbled: the rest is read here
                return
            yield answer

    def stop(self) -> None:
        """Stop the helper if it still runs."""
        if self.process is not None:
            helper_process.end(self.process, kill=not self.finished)
            self.process = None


def main() -> None:
    """The helper: the file's batches on standard output, each pickled as ``("lines",
    columns)``, or as ``("text", [(number, text), ...])`` for a batch it leaves to the
    import, then ``("end", None)``. After a bad line it sends that batch as text and stops:
    the import, checking it, says what is wrong."""
    gc.disable()  # thousands of small containers a batch, none of them in a cycle
    path, size = Path(sys.argv[1]), int(sys.argv[2])
    dates: dict[str, date] = {}
    texts: list[tuple[int, str]] = []
    checked: list[dict[str, Any]] | None = []  # None once the batch goes as text
    failed = False

    def send() -> None:
        answer = ("text", texts) if checked is None else ("lines", tuple(pack(checked)))
        pickle.dump(answer, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)

    for number, text in _texts(path):
        if not text.strip():  # a blank line, as _decoded finds it
            continue
        texts.append((number, text))
        if checked is not None:
            try:
                data, plain = _decoded(path, number, text) or ({}, True)
                if data.get("targets"):
                    checked = None  # checked by the import, against its own plugins' indicators
                else:
                    checked.append(check(path, number, data, plain, dates))
            except Exception:
                checked, failed = None, True
        if len(texts) == size:
            send()
            if failed:
                return
            texts, checked = [], []
    if texts:
        send()
    if not failed:
        pickle.dump(("end", None), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()
