"""The distribution's shape: namespaced packages, entry points, lean start-up, migrations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_no_top_level_core_plugins_or_tui(tmp_path: Path) -> None:
    result = run_python(
        "import importlib.util as u; print([n for n in ('core', 'plugins', 'tui') if u.find_spec(n)])",
        tmp_path,
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_builtin_plugins_are_entry_points() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="duban")}
    for name in ("water", "fishing_ban", "waste", "shipping", "supervision"):
        assert names.get(name) == f"duban.plugins.{name}"


def test_list_does_not_import_ui_server_or_scheduler(tmp_path: Path) -> None:
    db = tmp_path / "lean.db"
    code = (
        "import sys\n"
        "from duban.core.cli import main\n"
        f"main(['--db', {str(db)!r}, '--as', 'x', 'init', '--empty'])\n"
        f"main(['--db', {str(db)!r}, '--as', 'x', 'list', '--overdue', '--count'])\n"
        "print(sorted(m for m in ('textual', 'starlette', 'apscheduler', 'uvicorn') if m in sys.modules))\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_count_takes_the_lean_path_without_sqlalchemy(tmp_path: Path) -> None:
    db = tmp_path / "lean.db"
    assert (
        run_python(
            f"from duban.core.cli import main; main(['--db', {str(db)!r}, '--as', 'x',"
            " '--as-of', '2023-01-01', 'init', '--sandbox'])",
            tmp_path,
        ).returncode
        == 0
    )
    for flag, count in (("--overdue", "3"), ("--light=red", "63")):
        code = (
            "import sys\n"
            "from duban.core.cli import main\n"
            f"code = main(['--db', {str(db)!r}, '--as', 'x', '--as-of', '2024-06-01', 'list', {flag!r}, '--count'])\n"
            "print(code, 'sqlalchemy' in sys.modules)\n"
        )
        result = run_python(code, tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [count, "0", "False"]  # the count, the exit code, no ORM


def test_everyday_reads_take_the_lean_path_without_sqlalchemy(tmp_path: Path) -> None:
    db = tmp_path / "lean.db"
    init = (
        f"from duban.core.cli import main; main(['--db', {str(db)!r}, '--as', 'x',"
        " '--as-of', '2023-01-01', 'init', '--sandbox'])"
    )
    assert run_python(init, tmp_path).returncode == 0
    for command in (
        ["list", "--overdue", "--limit", "5"],
        ["list", "--owner", "水利厅", "--sort", "title", "--format", "json"],
        ["list", "--search", "污水", "--region", "湖南", "--light", "red"],
        ["show", "四"],
        ["show", "2", "--format", "json"],
        ["status"],
        ["escalations"],
        ["history", "1"],
        ["scorecard"],
        ["report", "list"],
        ["ledger", "list"],
    ):
        code = (
            "import sys\n"
            "from duban.core.cli import main\n"
            f"code = main(['--db', {str(db)!r}, '--as', 'x', '--as-of', '2024-06-01', *{command!r}])\n"
            "print(code, sorted(m for m in ('sqlalchemy', 'sqlmodel', 'duban.core.models')"
            " if m in sys.modules))\n"
        )
        result = run_python(code, tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == "0 []", (command, result.stdout[-300:])


def test_migrations_head_matches_constant() -> None:
    from alembic.script import ScriptDirectory

    from duban.core.db import get_engine
    from duban.core.migrations import HEAD, config

    script = ScriptDirectory.from_config(config(get_engine("sqlite://")))
    assert script.get_heads() == [HEAD]


# SQLite cannot reflect expression indexes (ix_obligation_listing); the PostgreSQL pass
# compares them, and tests/core/test_migrations.py checks that SQLite has it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)
def test_models_match_migrations(env) -> None:
    """Autogenerate against a migrated database finds nothing: every change has a revision."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    from duban.core.migrations import include_name

    with env.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


@pytest.mark.parametrize("flag", ["--version", "--help"])
@pytest.mark.parametrize("how", ["script", "module"])
def test_console_script_answers(flag: str, how: str, tmp_path: Path) -> None:
    """`duban` and `python -m duban` are the same command line."""
    exe = Path(sys.executable).with_name("duban")
    argv = [str(exe)] if how == "script" else [sys.executable, "-m", "duban"]
    result = subprocess.run([*argv, flag], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0
    assert "duban" in result.stdout


@pytest.mark.slow
def test_wheel_installs_everything_under_duban(tmp_path: Path) -> None:
    """`pip install .` ships the namespaced packages, the data and the migrations."""
    import zipfile

    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("duban-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.startswith("duban-")}
    assert top == {"duban"}
    for expected in (
        "duban/core/models.py",
        "duban/core/notify/dispatch.py",
        "duban/core/planparse/parser.py",
        "duban/core/data/plan-reference.yaml",
        "duban/core/migrations/versions/0001_initial_schema.py",
        "duban/core/migrations/script.py.mako",
        "duban/core/data/regions.csv",
        "duban/core/data/plans/hunan-yangtze-2023.yaml",
        "duban/core/locale/zh/core.toml",
        "duban/plugins/water/__init__.py",
        "duban/tui/entry.py",
    ):
        assert expected in names, expected
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "duban = duban.tui.entry:main" in text and "water = duban.plugins.water" in text


def test_lean_state_list_matches_the_model() -> None:
    from duban.core.models import State
    from duban.core.queries import STATES

    assert tuple(s.value for s in State) == STATES
