"""The dashboard: the plan's clock, obligations by state, the ladder, what is due next, the
owners doing worst, and a panel per domain plugin. Every number is a door."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from duban.core.i18n import pick, t
from duban.core.queries import Lean
from duban.core.vocabulary import State

from .. import overview
from ..text import ellipsize, fit, level_label, level_style, light_label, light_style, state_label
from ..widgets.door import Door
from ..widgets.ladder import LadderBars
from .base import DubanScreen

BAR_WIDTH = 28
TONES = {"good": "green", "warn": "yellow", "bad": "red", "normal": ""}


def progress_bar(fraction: float | None, width: int = BAR_WIDTH) -> Text:
    if fraction is None:
        return Text("")
    done = round(fraction * width)
    return Text.assemble(
        ("█" * done, "bold"), ("░" * (width - done), "dim"), f" {fraction:>4.0%} ", t("elapsed")
    )


class DashboardScreen(DubanScreen):
    TITLE_MSGID = "Dashboard"

    def body(self) -> ComposeResult:
        with Horizontal(id="dashboard"):
            with VerticalScroll(id="dash-left"):
                with Vertical(id="panel-progress", classes="panel") as p:
                    p.border_title = t("Progress")
                    yield Static(id="plan-period")
                    yield Static(id="plan-bar")
                    yield Horizontal(id="state-doors", classes="doors")
                    yield Horizontal(id="risk-doors", classes="doors")
                    yield Horizontal(id="light-doors", classes="doors")
                with Vertical(id="panel-upcoming", classes="panel") as p:
                    p.border_title = t("Due within 30 days")
                with Vertical(id="plugin-panels"):
                    pass
            with VerticalScroll(id="dash-right"):
                with Vertical(id="panel-ladder", classes="panel") as p:
                    p.border_title = t("Escalation ladder")
                    yield LadderBars(id="ladder")
                with Vertical(id="panel-worst", classes="panel") as p:
                    p.border_title = t("Doing worst")

    def load(self) -> None:
        # The figures in plain SQL (no ORM to wait for), usually read already at start-up.
        # The rest is read once they are drawn, so that it does not compete with drawing
        # them for the cores and the interpreter (the panels load the ORM).
        self.read(self.fetch, self._show_then_rest, group="load", lean=True, on_error=self._failed)

    async def _show_then_rest(self, d: dict[str, Any]) -> None:
        await self.show(d)
        self.call_after_refresh(self._load_rest)

    def _failed(self, message: str) -> None:
        self.app.report_error(message)
        self._load_rest()

    def _load_rest(self) -> None:
        # The lights read every obligation's reports.
        self.read(self.fetch_lights, self.show_lights, group="lights", lean=True)
        # Plugins' panels can be slow on a big campaign: they arrive on their own.
        self.read(self.fetch_panels, self.show_panels, group="panels")

    def fetch(self, db: Lean) -> dict[str, Any]:  # type: ignore[override]  # read with lean=True
        return self.app.early("figures") or overview.figures(db, self.app.as_of)

    def fetch_lights(self, db: Lean) -> dict[str, int]:
        return overview.light_counts(db, self.app.as_of)

    async def show_lights(self, counts: dict[str, int]) -> None:
        await self._replace(
            "#light-doors",
            [
                Door(
                    Text.assemble(
                        (light_label(light) + " ", light_style(light)),
                        (str(counts.get(light, 0)), "bold"),
                    ),
                    filter_line=f"light:{light}",
                    classes="door",
                )
                for light in ("red", "yellow", "green")
            ],
        )

    def fetch_panels(self, session: Any) -> list[dict[str, Any]]:
        from .. import data

        return data.plugin_panels(session, self.app.as_of)

    async def show(self, d: dict[str, Any]) -> None:
        plan = d["plan"]
        period = self.query_one("#plan-period", Static)
        if plan:
            span = f"{plan['start'] or '?'} → {plan['end'] or '?'}"
            left = (
                t("{days} days left", days=plan["remaining_days"])
                if plan["remaining_days"] is not None and plan["remaining_days"] >= 0
                else t("period over")
                if plan["remaining_days"] is not None
                else ""
            )
            late = (
                t("{n} deadlines had passed when the plan was loaded", n=plan["late_at_load"])
                if plan.get("late_at_load")
                else ""
            )
            period.update(
                Text.assemble(
                    (t("Period") + " ", "dim"), span, "  ", (left, "italic"), "  ", (late, "dim")
                )
            )
            self.query_one("#plan-bar", Static).update(progress_bar(plan["elapsed"]))
        else:
            period.update(t("No plan loaded: `duban import plan FILE` loads one."))
        states = d["states"]
        doors = [
            Door(
                Text.assemble((t("Obligations") + " ", "dim"), (str(d["total"]), "bold")),
                filter_line="",
                classes="door",
            )
        ]
        for state in State:
            n = states.get(state.value, 0)
            if n or state in (State.in_progress, State.closed):
                doors.append(
                    Door(
                        Text.assemble((state_label(state) + " ", "dim"), (str(n), "bold")),
                        filter_line=f"state:{state.value}",
                        classes="door",
                    )
                )
        await self._replace("#state-doors", doors)
        targets, suggested = d["targets"], d["suggested_targets"]
        off = targets.get("off_track", 0) + targets.get("missed", 0)
        off_suggested = suggested.get("off_track", 0) + suggested.get("missed", 0)
        risk = [
            Door(
                Text.assemble(
                    (t("Overdue") + " ", "dim"),
                    (str(d["overdue"]), "bold red" if d["overdue"] else "bold"),
                ),
                filter_line="overdue",
                classes="door",
            ),
            Door(
                Text.assemble(
                    (t("Due within 30 days") + " ", "dim"), (str(d["upcoming"]["total"]), "bold")
                ),
                filter_line="due:30 sort:due",
                classes="door",
            ),
            Static(
                Text.assemble(
                    (t("Targets off track") + " ", "dim"),
                    (str(off), "bold red" if off else "bold"),
                    (" / " + str(sum(targets.values())), "dim"),
                    (
                        "  "
                        + t(
                            "plugins' suggestions {off} / {total}",
                            off=off_suggested,
                            total=sum(suggested.values()),
                        )
                        if suggested
                        else "",
                        "dim",
                    ),
                ),
                classes="door",
            ),
        ]
        await self._replace("#risk-doors", risk)
        width = max(30, self.query_one("#panel-upcoming").size.width - 4)
        rows = [
            Door(
                Text.assemble(
                    (r["due"].isoformat() + " ", "bold"),
                    fit(r["code"] + pick(r["title"], r["title_en"]), max(10, width - 29)),
                    " ",
                    (ellipsize(", ".join(pick(*n) for n in r["lead"]), 17), "dim"),
                ),
                obligation_id=r["obligation_id"],
                classes="row",
            )
            for r in d["upcoming"]["rows"]
        ] or [Static(t("Nothing due."), classes="dim")]
        await self._replace("#panel-upcoming", rows)
        self.query_one(LadderBars).show(d["ladder"])
        worst = []
        for o in d["worst"]:
            # No numbers here: the owners screen and `duban scorecard` hold the one ranking.
            text = Text.assemble(
                ("· ", "dim"),
                fit(pick(o["name"], o["name_en"]), 24),
                " ",
                (t("overdue {n}", n=o["overdue"]), "red" if o["overdue"] else "dim"),
            )
            if o["top_level"]:
                text.append(" · ")
                text.append(
                    f"{level_label(o['top_level'])} {o['levels'][o['top_level']]}",
                    style=level_style(o["top_level"]),
                )
            worst.append(Door(text, filter_line=f'owner:"{o["name"]}" role:lead', classes="row"))
        await self._replace("#panel-worst", worst or [Static(t("No owners yet."), classes="dim")])

    async def show_panels(self, found: list[dict[str, Any]]) -> None:
        panels = []
        for panel in found:
            box = Vertical(classes="panel plugin-panel")
            box.border_title = panel["title"]
            rows_ = [
                Door(
                    Text.assemble(
                        (panel_row["label"] + " ", "dim"),
                        (panel_row["value"], TONES.get(panel_row["tone"], "") or "bold"),
                    ),
                    filter_line=panel_row["filter"],
                    classes="row",
                )
                for panel_row in panel["rows"]
            ]
            panels.append((box, rows_))
        container = self.query_one("#plugin-panels")
        await container.remove_children()
        for box, rows_ in panels:
            await container.mount(box)
            await box.mount_all(rows_)

    async def _replace(self, selector: str, widgets: list) -> None:
        container = self.query_one(selector)
        await container.remove_children()
        await container.mount_all(widgets)
