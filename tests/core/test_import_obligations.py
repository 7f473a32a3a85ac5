"""``duban import obligations``: the checks of ``add`` and ``target add``, idempotence by
plan and code, ``--update``, and the encodings people's files come in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .lines import TARGET

LINE = {
    "code": "（一）",
    "title": "好任务",
    "lead": ["湖南省水利厅"],
    "milestones": [{"due": "2025-12-31"}],
    "targets": [TARGET],
}


@pytest.fixture
def seeded(duban):
    duban.ok("owner", "add", "湖南省水利厅", "--alias", "省水利厅")
    return duban


def write(tmp_path: Path, *lines: object, encoding: str = "utf-8", name: str = "in.jsonl") -> str:
    path = tmp_path / name
    text = "".join(
        (ln if isinstance(ln, str) else json.dumps(ln, ensure_ascii=False)) + "\n" for ln in lines
    )
    path.write_bytes(text.encode(encoding))
    return str(path)


def count(duban) -> int:
    return int(duban.ok("list", "--count").stdout)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({**TARGET, "indicator": "water.nonsense"}, "targets[0]: --indicator: unknown indicator"),
        ({**TARGET, "comparator": "~~"}, "targets[0]: unknown comparator '~~'"),
        ({**TARGET, "value": float("nan")}, "targets[0]: --gte: a target needs a finite number"),
        ({**TARGET, "value": 150}, "targets[0]: --gte: 150 is outside 0..100"),
        ({**TARGET, "value": -5}, "targets[0]: --gte: -5 is outside 0..100"),
        ({k: v for k, v in TARGET.items() if k != "scope"}, "targets[0]: give --region or --site"),
        ({**TARGET, "scope": "湖南省"}, "targets[0]: `scope` must be an object"),
        ({**TARGET, "scope": {"type": "site", "key": "nowhere"}}, "unknown site 'nowhere'"),
    ],
)
def test_targets_get_the_checks_of_target_add(seeded, fingerprint, tmp_path, target, message):
    path = write(tmp_path, {**LINE, "targets": [target]})
    before = fingerprint(seeded.url)
    result = seeded("import", "obligations", path)
    assert result.exit_code == 2, result.stderr
    assert f"{path}:1: " in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert fingerprint(seeded.url) == before


def test_target_add_refuses_out_of_range_values_too(seeded) -> None:
    seeded.ok("init")
    ob = seeded.ok("add", "任务", "--lead", "省水利厅", "--region", "430000").stdout.strip()
    for value in ("150", "-5"):
        result = seeded(
            "target",
            "add",
            ob,
            "--indicator",
            "water.national_section_good_quality_rate",
            "--gte",
            value,
            "--due",
            "2025-12-31",
        )
        assert result.exit_code == 2 and f"{value} is outside 0..100" in result.stderr


def test_importing_twice_leaves_one_copy(seeded, tmp_path) -> None:
    path = write(tmp_path, LINE, {**LINE, "code": None, "title": "无编号"})
    first = seeded.ok("import", "obligations", path, "--format", "json").json()
    assert first["obligations"] == 2 and count(seeded) == 2
    again = seeded.ok("import", "obligations", path, "--format", "json").json()
    assert (again["obligations"], again["unchanged"], again["updated"]) == (0, 2, [])
    assert count(seeded) == 2


def test_an_export_imports_into_itself_unchanged(seeded, tmp_path) -> None:
    seeded.ok("init")
    out = tmp_path / "all.jsonl"
    seeded.ok("export", "-o", str(out))
    before = count(seeded)
    again = seeded.ok("import", "obligations", str(out), "--format", "json").json()
    assert again["unchanged"] == before and count(seeded) == before
    second = tmp_path / "again.jsonl"
    seeded.ok("export", "-o", str(second))
    assert second.read_bytes() == out.read_bytes()


def test_a_changed_file_conflicts_unless_update(seeded, fingerprint, tmp_path) -> None:
    seeded.ok("import", "obligations", write(tmp_path, LINE))
    changed = {
        **LINE,
        "title": "改过的任务",
        "participants": ["新单位"],
        "milestones": [{"due": "2026-06-30"}],
        "targets": [{**TARGET, "value": 98.0}],
    }
    path = write(tmp_path, changed, name="changed.jsonl")
    before = fingerprint(seeded.url)
    refused = seeded("import", "obligations", path)
    assert refused.exit_code == 5
    assert (
        f"{path}:1: （一） (#1) differs in title, assignments, milestones, targets"
        in refused.stderr
    )
    assert "Traceback" not in refused.stderr
    assert fingerprint(seeded.url) == before
    done = seeded.ok("import", "obligations", path, "--update", "--format", "json").json()
    assert done["updated"] == ["（一） (#1): title, assignments, milestones, targets"]
    shown = seeded.ok("show", "1", "--format", "json").json()
    assert shown["title"] == "改过的任务" and shown["participants"] == ["新单位"]
    assert [m["due"] for m in shown["milestones"]] == ["2026-06-30"]
    assert [tg["value"] for tg in shown["targets"]] == [98.0]
    assert count(seeded) == 1
    again = seeded.ok("import", "obligations", path, "--format", "json").json()
    assert again["unchanged"] == 1


def test_a_state_changed_by_update_is_history(seeded, tmp_path) -> None:
    """``--update`` moves the state as ``duban state`` does: recorded in the history, so
    that a read as of a day before the update still sees the state then."""
    seeded.ok("import", "obligations", write(tmp_path, LINE), as_of="2024-03-01")
    path = write(tmp_path, {**LINE, "state": "in_progress"}, name="started.jsonl")
    seeded.ok("import", "obligations", path, "--update", as_of="2024-05-01")
    then = seeded.ok("show", "1", "--format", "json", as_of="2024-04-01").json()
    now = seeded.ok("show", "1", "--format", "json", as_of="2024-06-01").json()
    assert (then["state"], now["state"]) == ("open", "in_progress")
    listed = seeded.ok("list", "--state", "open", "--count", as_of="2024-04-01")
    assert listed.stdout.strip() == "1"
    history = seeded.ok("history", "1", "--format", "json").json()
    updates = [e["summary"] for e in history if e["action"] == "obligation.import"]
    assert updates == ["State: Not started → In progress"]


def test_a_milestone_done_by_update_is_done_from_the_update_on(seeded, tmp_path) -> None:
    """A completion an ``--update`` brings (done on 10 April, imported on 1 May) is recorded
    then, as ``milestone done`` records one: as of a day between the two the milestone is
    still pending and its obligation overdue; the same for a milestone the update adds."""
    due = {"due": "2024-04-15"}
    seeded.ok(
        "import", "obligations", write(tmp_path, {**LINE, "milestones": [due]}), as_of="2024-03-01"
    )
    done = {
        **LINE,
        "milestones": [{**due, "done": "2024-04-10"}, {"due": "2024-03-31", "done": "2024-03-20"}],
    }
    seeded.ok(
        "import",
        "obligations",
        write(tmp_path, done, name="done.jsonl"),
        "--update",
        as_of="2024-05-01",
    )

    def pending(day: str) -> tuple[list[str | None], str]:
        shown = seeded.ok("show", "1", "--format", "json", as_of=day).json()
        overdue = seeded.ok("list", "--overdue", "--count", as_of=day).stdout.strip()
        return [m["done"] for m in shown["milestones"]], overdue

    assert pending("2024-04-20") == ([None, None], "1")
    assert pending("2024-05-02") == (["2024-03-20", "2024-04-10"], "0")


def test_the_same_obligation_twice_in_one_file_is_refused(seeded, fingerprint, tmp_path) -> None:
    path = write(tmp_path, LINE, LINE)
    result = seeded("import", "obligations", path)
    assert result.exit_code == 2 and f"{path}:2: the same obligation as line 1" in result.stderr


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_bom_and_gb18030_are_read(seeded, tmp_path, encoding) -> None:
    path = write(tmp_path, LINE, encoding=encoding)
    seeded.ok("import", "obligations", path)
    assert seeded.ok("show", "（一）", "--format", "json").json()["title"] == "好任务"


def test_a_truncated_line_names_its_line_and_column(seeded, tmp_path) -> None:
    whole = json.dumps(LINE, ensure_ascii=False)
    path = write(tmp_path, whole, whole[:30])
    result = seeded("import", "obligations", path)
    assert result.exit_code == 2 and f"{path}:2:31: not valid JSON" in result.stderr
