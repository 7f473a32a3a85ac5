"""System time and business time: --as-of reads, only a sandbox may set the clock."""

from __future__ import annotations

import pytest

from duban.core.testing import Runner


@pytest.fixture
def normal(db_url: str) -> Runner:
    """A database made without --sandbox: its clock is the real one."""
    runner = Runner(db_url)
    runner.ok("init", "--empty")
    runner.ok("owner", "add", "湖南省水利厅")
    runner.ok("add", "Dredge the lake", "--lead", "湖南省水利厅", "--due", "2030-12-31")
    return runner


@pytest.mark.parametrize(
    "args",
    [
        ("add", "Backdated", "--lead", "湖南省水利厅"),
        ("owner", "add", "湖南省林业局"),
        ("submit", "1", "--evidence", "https://example.org/report"),
        ("sweep",),
        ("milestone", "move", "1", "--due", "2031-01-01"),
        (
            "record",
            "water.national_section_good_quality_rate",
            "90",
            "--region",
            "430000",
            "--at",
            "2025-05",
        ),
        ("init",),
    ],
)
def test_a_normal_database_refuses_writes_with_as_of(
    normal: Runner, fingerprint, args: tuple[str, ...]
) -> None:
    before = fingerprint(normal.url)
    result = normal(*args, as_of="2019-01-01")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "--as-of only reads" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert fingerprint(normal.url) == before


def test_reads_with_as_of_work_on_a_normal_database(normal: Runner) -> None:
    """--as-of is a lens: before the obligation was recorded it is not there."""
    assert normal.ok("list", "--count", as_of="2019-01-01").stdout.strip() == "0"
    assert normal("show", "1", as_of="2019-01-01").exit_code == 4
    assert normal.ok("list", "--count").stdout.strip() == "1"
    assert normal.ok("list", "--count", as_of="2099-01-01").stdout.strip() == "1"  # projected


def test_only_a_new_database_becomes_a_sandbox(normal: Runner, fingerprint) -> None:
    before = fingerprint(normal.url)
    result = normal("init", "--sandbox")
    assert result.exit_code == 2 and "only a new database" in result.stderr
    assert fingerprint(normal.url) == before


def test_a_sandbox_may_set_its_clock(db_url: str) -> None:
    runner = Runner(db_url)
    runner.ok("init", "--empty", "--sandbox", as_of="2024-01-01")
    runner.ok("owner", "add", "湖南省水利厅", as_of="2024-01-02")
    runner.ok("add", "Dredge", "--lead", "湖南省水利厅", as_of="2024-01-03")
    log = runner.ok("audit", "log", "--format", "json").json()
    assert {e["at"][:10] for e in log} == {"2023-12-31", "2024-01-01", "2024-01-02"}  # UTC


def test_tui_writes_are_refused_with_as_of_on_a_normal_database(
    normal: Runner, fingerprint
) -> None:
    """The TUI writes through ``Env.session()`` (forms, close-out, sweep, inbox): with --as-of
    on a normal database the first write is refused before anything is written."""
    from duban.core.cli.context import Env
    from duban.core.errors import UserError
    from duban.core.services.closeout import submit

    before = fingerprint(normal.url)
    env = Env.create(db_url=normal.url, actor="coord", as_of="2019-01-01")
    try:
        with env.session(write=False) as session:  # reading is fine
            assert env.today.year == 2019 and session.info["clock"] is env.clock
        with pytest.raises(UserError, match="--as-of only reads"), env.session() as session:
            submit(session=session, ref=1, evidence=["https://example.org/r"])
    finally:
        env.close()
    assert fingerprint(normal.url) == before
