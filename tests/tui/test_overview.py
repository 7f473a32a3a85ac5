"""The dashboard's plain-SQL figures: the same through the bare driver and through an ORM
session, equal to what the services count, read early at start-up, and never stale."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date

import pytest
from sqlmodel import func, select

from duban.core.cli.context import Env
from duban.core.filters import ObligationFilter
from duban.core.migrations import HEAD
from duban.core.models import Escalation, Milestone, Obligation
from duban.core.queries import Lean, lean_connect
from duban.core.services.listing import count
from duban.core.testing import Runner
from duban.tui import overview

from .pilot import AS_OF, SIZE, settle

DAY = date.fromisoformat(AS_OF)


def test_lean_and_orm_connections_give_the_same_figures(campaign: Env) -> None:
    lean = lean_connect(campaign.url, HEAD)
    assert lean is not None
    with lean:
        bare = overview.figures(lean, DAY)
    with campaign.session(write=False) as session:
        through_orm = overview.figures(Lean.of_session(session), DAY)
    assert bare == through_orm


def test_figures_agree_with_the_services(campaign: Env) -> None:
    with campaign.session(write=False) as session:
        got = overview.figures(Lean.of_session(session), DAY)
        assert (
            got["overdue"]
            == count(session=session, f=ObligationFilter(overdue=True), as_of=DAY)
            == 3
        )
        assert got["total"] == session.exec(select(func.count()).select_from(Obligation)).one()
        open_escalations = session.exec(
            select(Escalation.level).where(Escalation.resolved_at.is_(None))
        ).all()
        assert got["ladder"] == {lv: open_escalations.count(lv) for lv in set(open_escalations)}
        due_soon = session.exec(
            select(func.count())
            .select_from(Milestone)
            .join(Obligation)
            .where(
                Milestone.due >= DAY,
                Milestone.due <= date(2024, 7, 1),
                Milestone.done_on.is_(None),
                Obligation.state.notin_(["closed", "cancelled"]),
            )
        ).one()
    assert got["upcoming"]["total"] == due_soon
    assert [r["due"] for r in got["upcoming"]["rows"]] == sorted(
        r["due"] for r in got["upcoming"]["rows"]
    )
    assert got["plan"]["key"] and got["plan"]["end"] == date(2025, 12, 31)
    worst = got["worst"][0]
    assert worst["name"] and worst["score"] >= got["worst"][-1]["score"]
    # Names come in both languages; the screen picks.
    assert any(w["name_en"] for w in got["worst"])


def test_lean_connection_refuses_a_database_not_at_head(tmp_path) -> None:
    assert lean_connect(f"sqlite:///{tmp_path / 'missing.db'}", HEAD) is None
    assert lean_connect("mysql://nowhere/x", HEAD) is None


@pytest.mark.asyncio
async def test_the_early_reading_is_shown_and_then_let_go(campaign: Env) -> None:
    early = overview.prefetch(campaign)
    assert early.result(timeout=30)["figures"]["overdue"] == 3
    # Mark the early reading so the screen can be seen to use it rather than re-read.
    early.result()["figures"]["overdue"] = 12345
    from duban.tui.app import create_app

    app = create_app(campaign, lang="en", early=early)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        doors = {d.filter_line: str(d.render()) for d in app.screen.query("Door")}
        assert "12345" in doors["overdue"]
        assert app.plan_title  # the status line's plan came early too
        await app.set_as_of(date(2024, 7, 1))  # another date: the early reading no longer applies
        await settle(pilot)
        doors = {d.filter_line: str(d.render()) for d in app.screen.query("Door")}
        assert "12345" not in doors["overdue"]


def test_the_first_screen_loads_without_the_orm() -> None:
    """What bare `duban` imports before the dashboard's figures are on screen."""
    code = (
        "import sys, duban.tui.entry, duban.tui.overview, duban.tui.app, duban.tui.screens.dashboard; "
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'duban.core.models') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_plugin_screens_are_collected_without_the_orm_or_textual() -> None:
    """The plugins' ``duban_tui_screens`` hooks, as the app calls them at start-up, import
    ``duban.tui.api`` for ``TuiScreen``: that alone loads neither the screens nor the ORM."""
    code = (
        "import sys\n"
        "from duban.core.plugins import get_host\n"
        "from duban.tui import hookspecs\n"
        "host = get_host()\n"
        "host.pm.add_hookspecs(hookspecs)\n"
        "found = []\n"
        "host.call('duban_tui_screens', register=found.append)\n"
        "print([s.key for s in found], sorted(m for m in "
        "('sqlalchemy', 'sqlmodel', 'duban.core.models', 'textual') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['ledger'] []"


@pytest.mark.asyncio
async def test_what_the_first_screen_does_not_show_waits_for_its_figures(
    campaign: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lights, the plugins' panels and the plugins' screens are read once the dashboard's
    figures are on screen, so that they do not compete with drawing them."""
    from duban.tui.app import DubanApp, create_app
    from duban.tui.screens.dashboard import DashboardScreen

    shown = threading.Event()
    began_after_figures: dict[str, bool] = {}
    show = DashboardScreen.show

    async def showing(self, d):
        await show(self, d)
        shown.set()

    def noting(name: str, method):
        def run(self, *args):
            began_after_figures[name] = shown.is_set()
            return method(self, *args)

        return run

    monkeypatch.setattr(DashboardScreen, "show", showing)
    for owner, name in (
        (DashboardScreen, "fetch_lights"),
        (DashboardScreen, "fetch_panels"),
        (DubanApp, "_collect_plugin_screens"),
    ):
        monkeypatch.setattr(owner, name, noting(name, getattr(owner, name)))

    app = create_app(campaign, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "ledger" in app.plugin_screens
    assert began_after_figures == {
        "fetch_lights": True,
        "fetch_panels": True,
        "_collect_plugin_screens": True,
    }


def test_suggested_targets_are_counted_apart_from_the_plans(hunan: Runner) -> None:
    """A plugin's suggested targets are never counted as the plan's: the dashboard gives the
    plan's (and the office's own) targets and the suggestions separately."""
    hunan.ok("sweep", as_of="2024-06-01")
    lean = lean_connect(hunan.url, HEAD)
    assert lean is not None
    with lean:
        own = overview.target_status_counts(lean, date(2024, 6, 1))
        suggested = overview.target_status_counts(lean, date(2024, 6, 1), suggested=True)
        sources = dict(lean.rows("SELECT COALESCE(source, ''), COUNT(*) FROM target GROUP BY 1"))
    assert sum(own.values()) == sources.get("plan", 0) + sources.get("", 0)
    assert sum(suggested.values()) == sum(n for s, n in sources.items() if s not in ("plan", ""))
    assert sum(suggested.values()) > 0
