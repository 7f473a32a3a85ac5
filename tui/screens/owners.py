"""Owners' scorecards (lead role): obligations led, closed, overdue, escalations addressed
to them; Enter opens that owner's obligations."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from duban.core.i18n import t

from .. import data
from ..text import ellipsize
from ..widgets.grid import Grid
from ..widgets.ladder import level_badge
from .base import DubanScreen


class OwnersScreen(DubanScreen):
    TITLE_MSGID = "Owners"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Obligations", id="owners.open", show=False)
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    def body(self) -> ComposeResult:
        yield Static(
            t("Scorecards, worst first. Enter opens the owner's obligations."),
            id="owners-note",
            classes="note",
        )
        yield Grid(
            "#",
            t("Owner"),
            t("Lead"),
            t("Participant"),
            t("On time"),
            t("Overdue"),
            t("Escalations"),
            t("Highest"),
            id="owners-table",
            cursor_type="row",
            zebra_stripes=True,
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(Grid).focus()

    def fetch(self, session: Session) -> list[dict[str, Any]]:
        return data.owner_scores(session, self.app.as_of)

    def show(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.query_one(Grid).fill(
            [
                [
                    "—" if r["rank"] is None else str(r["rank"]),
                    ellipsize(r["label"], 40),
                    str(r["led"] or 0),
                    "" if r["participant"] is None else str(r["participant"]),
                    "" if r["on_time_rate"] is None else f"{r['on_time_rate']:.0%}",
                    str(r["overdue"]),
                    str(r["escalations"]),
                    level_badge(r["top_level"]),
                ]
                for r in rows
            ],
            [r["name"] for r in rows],
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.rows and table.cursor_row < len(self.rows):
            name = self.rows[table.cursor_row]["name"]
            self.run_worker(self.app.open_list(f'owner:"{name}"'), group="navigate")
