"""The terminal UI on 100k obligations: first paint, a filter keystroke, memory.

Setup (not timed) builds ``tui.db``: the built-in plan, 100k generated obligations imported
with ``duban import obligations``, and a sweep as of 2024-06-01 so the ladder has rungs.
The runs drive the real app headless (Textual's pilot) at 160x45 and time themselves.

    python benchmarks/run.py -k tui
"""

from __future__ import annotations

import asyncio
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generate import write_obligations
from harness import Scenario

N = 100_000
AS_OF = "2024-06-01"
SIZE = (160, 45)
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))


def _db(workdir: Path) -> Path:
    return workdir / "tui.db"


def prepare(workdir: Path) -> None:
    if (workdir / "tui.ready").exists():
        return
    data = write_obligations(workdir / "tui-obligations.jsonl", N)
    for args in (["init"], ["import", "obligations", str(data)], ["sweep"]):
        subprocess.run([DUBAN, "--db", str(_db(workdir)), "--as", "bench", "--as-of", AS_OF, *args],
                       check=True, capture_output=True, text=True)
    (workdir / "tui.ready").touch()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _settle(pilot) -> None:
    while True:
        await pilot.pause()
        if not pilot.app.busy:
            await pilot.pause()
            if not pilot.app.busy:
                return


def first_paint(workdir: Path) -> dict[str, float]:
    """From importing the app to the dashboard drawn with its numbers (plugins' panels too)."""
    started = time.perf_counter()
    from duban.core.cli.context import Env
    from duban.tui.app import create_app

    env = Env.create(db_url=str(_db(workdir)), actor="bench", as_of=AS_OF)
    app = create_app(env, lang="zh")
    figures: dict[str, float] = {}

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            figures["chrome"] = time.perf_counter() - started
            doors = app.screen.query_one("#state-doors")
            while not doors.children:  # the dashboard's numbers are on screen
                await asyncio.sleep(0.005)
            figures["wall"] = time.perf_counter() - started
            await _settle(pilot)
            figures["panels"] = time.perf_counter() - started  # plugins' panels too
            assert "overdue" in {d.filter_line for d in app.screen.query("Door")}

    asyncio.run(main())
    figures["rss_mb"] = _rss_mb()
    print(f"tui first paint: chrome {figures['chrome']:.3f} s, numbers {figures['wall']:.3f} s, "
          f"plugin panels {figures['panels']:.3f} s, peak RSS {figures['rss_mb']:.0f} MB", file=sys.stderr)
    return figures


def filter_keystroke(workdir: Path) -> dict[str, float]:
    """Typing into the obligations filter: each keystroke until the table shows the new
    count and first window (median and worst of the keystrokes of a few filters)."""
    from textual.widgets import Input

    from duban.core.cli.context import Env
    from duban.tui.app import create_app
    from duban.tui.widgets.table import ObligationTable

    env = Env.create(db_url=str(_db(workdir)), actor="bench", as_of=AS_OF)
    app = create_app(env, lang="zh")
    times: list[float] = []

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await _settle(pilot)
            await pilot.press("o")
            await _settle(pilot)
            screen = app.screen
            table = screen.query_one(ObligationTable)
            box = screen.query_one("#filter-input", Input)
            note = screen.query_one("#filter-message")
            for line in ("长沙 ", "overdue ", "domain:water ", "level:summon", "sort:-due"):
                box.focus()
                for key in line:
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                    generation = screen.generation
                    began = time.perf_counter()
                    # A keystroke as the Input applies it (pilot.press adds ~100 ms of its
                    # own waiting, which is not the app's latency).
                    box.insert_text_at_cursor(key)
                    # until the table shows the new filter's first window (its count follows),
                    # or the filter bar explains why the half-typed line is not a filter yet
                    while table.generation <= generation and not note.has_class("-error"):
                        await asyncio.sleep(0.001)
                    if table.generation > generation:
                        times.append(time.perf_counter() - began)
                await _settle(pilot)
                assert table.total > 0, line
                screen.set_filter("")
                await _settle(pilot)
            await pilot.press("escape", "end")  # back to the table; the last window of 100k
            await _settle(pilot)
            assert table.cursor == table.total - 1

    asyncio.run(main())
    figures = {"wall": statistics.median(times), "worst": max(times), "keystrokes": len(times),
               "rss_mb": _rss_mb()}
    print(f"tui filter keystroke: median {figures['wall'] * 1000:.0f} ms, worst "
          f"{figures['worst'] * 1000:.0f} ms over {len(times)} keystrokes, peak RSS "
          f"{figures['rss_mb']:.0f} MB", file=sys.stderr)
    return figures


SCENARIOS = [
    Scenario("tui first paint (dashboard with data)", f"{N:,} obligations", first_paint,
             setup=prepare, target="<= 1.5 s, <= 300 MB"),
    Scenario("tui filter keystroke -> updated table", f"{N:,} obligations", filter_keystroke,
             setup=prepare, target="<= 0.15 s, <= 300 MB"),
]
