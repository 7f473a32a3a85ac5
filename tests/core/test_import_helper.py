"""A helper process reads and checks a large obligations file while the import writes
(``core/obligation_lines.py``): the batches it sends are those read here, a bad line gets the
message it gets without the helper, and a helper that fails in any way leaves the import as
it would have been."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from duban.core import obligation_lines
from duban.core.obligation_lines import Lines, Reader, batches
from duban.core.services import transfer

from .test_import_fast_path import BAD, BASE, _varied_file


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the helper answered, batch by batch: "lines" (checked there) or "text" (its
    lines' text, checked here). Batches of ten, so that a small file makes several."""
    seen: list[str] = []
    answers = Reader._answers

    def spied(self: Reader) -> Iterator[Any]:
        for answer in answers(self):
            seen.append("lines" if isinstance(answer, Lines) else "text")
            yield answer

    monkeypatch.setattr(Reader, "_answers", spied)
    monkeypatch.setattr(obligation_lines, "BATCH", 10)
    return seen


@pytest.fixture
def varied(tmp_path: Path) -> Path:
    """The fast path's varied lines (targets on every thirteenth), with blank lines."""
    path = tmp_path / "varied.jsonl"
    _varied_file(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5:5] = ["", "   "]
    lines[57:57] = ["\t"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _read(path: Path, *, helped: bool) -> list[Lines]:
    with Reader(path, helped=helped) as reader:
        return list(reader)


def test_the_helper_sends_what_is_read_here(varied: Path, answered: list[str]) -> None:
    here = list(batches(varied))
    assert _read(varied, helped=True) == here
    # Every batch came from the helper: as columns, or as text where a line has targets.
    assert len(answered) == len(here) == 30
    assert {"lines", "text"} == set(answered)
    assert [kind == "text" for kind in answered] == [bool(b.targets) for b in here]


def test_without_a_helper_the_lines_are_read_here(varied: Path, answered: list[str]) -> None:
    assert _read(varied, helped=False) == list(batches(varied))
    assert answered == []


CUT_SHORT = """
import pickle, sys
from duban.core import obligation_lines
sent, dump = [], pickle.dump
def cut(*args, **kwargs):
    sent.append(1)
    if len(sent) > 2:
        sys.stdout.flush()
        raise SystemExit(0)
    dump(*args, **kwargs)
obligation_lines.pickle.dump = cut
obligation_lines.main()
"""


@pytest.mark.parametrize(
    "command",
    [
        ("/nonexistent/python",),
        (sys.executable, "-c", "import sys; sys.exit(3)"),
        (sys.executable, "-c", "print('garbage' * 1000)"),
        (
            sys.executable,
            "-c",
            "import pickle, sys; pickle.dump(('lines', (1, 2)), sys.stdout.buffer)",
        ),
        (sys.executable, "-c", CUT_SHORT),
    ],
    ids=["cannot-start", "exits", "garbage", "wrong-shape", "cut-short"],
)
def test_a_failing_helper_leaves_the_reading_as_it_would_be(
    varied: Path, answered: list[str], monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setattr(Reader, "COMMAND", command)
    here = list(batches(varied))
    assert _read(varied, helped=True) == here
    # Cut short after two batches: those two came from the helper, the rest from here.
    kinds = ["text" if b.targets else "lines" for b in here[:2]]
    assert answered == (kinds if command[-1] == CUT_SHORT else [])


def test_a_helper_is_stopped_when_the_import_stops(varied: Path, answered: list[str]) -> None:
    with Reader(varied, helped=True) as reader:
        next(iter(reader))
        process = reader.process
        assert process is not None and process.poll() is None
    assert process.poll() is not None and reader.process is None


@pytest.mark.parametrize(("line", "message"), BAD)
def test_a_bad_line_gets_the_same_message_with_the_helper(
    duban,
    fingerprint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answered: list[str],
    line: dict[str, Any],
    message: str,
) -> None:
    good = [json.dumps({**BASE, "code": f"G{i}"}, ensure_ascii=False) for i in range(35)]
    good[23] = json.dumps(line, ensure_ascii=False)
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(good) + "\n", encoding="utf-8")
    before = fingerprint(duban.url)
    alone = duban("import", "obligations", str(path))
    assert alone.exit_code == 2 and message in alone.stderr, alone.stderr
    monkeypatch.setattr(transfer, "HELPED_AT", 0)
    helped = duban("import", "obligations", str(path))
    assert (helped.exit_code, helped.stderr) == (alone.exit_code, alone.stderr)
    assert fingerprint(duban.url) == before
    # The two batches before went as columns; the bad line's as text, and the helper stopped.
    assert answered == ["lines", "lines", "text"]


def test_a_file_in_the_working_directory_does_not_shadow_the_helpers_modules(
    varied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answered: list[str]
) -> None:
    shadows = tmp_path / "cwd"
    shadows.mkdir()
    (shadows / "pickle.py").write_text("raise SystemExit(7)\n", encoding="utf-8")
    monkeypatch.chdir(shadows)
    assert _read(varied, helped=True) == list(batches(varied))
    assert len(answered) == 30


def test_the_helper_runs_on_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the import starts it: its answers are the file's batches, then the end."""
    path = tmp_path / "plain.jsonl"
    lines = [json.dumps({**BASE, "code": f"P{i}"}, ensure_ascii=False) for i in range(250)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = subprocess.run([*Reader.COMMAND, str(path), "100"], capture_output=True, check=True)
    stream = io.BytesIO(out.stdout)
    answers = []
    while stream.tell() < len(out.stdout):
        answers.append(pickle.load(stream))
    assert [kind for kind, _ in answers] == ["lines", "lines", "lines", "end"]
    monkeypatch.setattr(obligation_lines, "BATCH", 100)
    assert [Lines(*payload) for _, payload in answers[:-1]] == list(batches(path))
