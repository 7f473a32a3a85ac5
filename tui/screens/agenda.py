"""Deadlines ahead by week or by month (overdue first): milestones and target due dates."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from duban.core.i18n import t

from .. import data
from ..text import ellipsize
from ..widgets.grid import Cell, Grid
from .base import DubanScreen


class AgendaScreen(DubanScreen):
    TITLE_MSGID = "Agenda"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "toggle", "Week/month", id="agenda.toggle"),
        Binding("enter", "open", "Open", id="agenda.open", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.by = "week"
        self.items: list[dict[str, Any] | None] = []

    def body(self) -> ComposeResult:
        yield Static(id="agenda-note", classes="note")
        yield Grid(
            t("When"),
            t("Due"),
            t("Code"),
            t("What"),
            t("Lead"),
            id="agenda-table",
            cursor_type="row",
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(Grid).focus()

    def fetch(self, session: Session) -> dict[str, Any]:
        return data.agenda(session=session, as_of=self.app.as_of, by=self.by)

    def show(self, d: dict[str, Any]) -> None:
        note = t("By week") if self.by == "week" else t("By month")
        if d["capped"]:
            note += " · " + t("first {n} shown", n=data.CAP)
        self.query_one("#agenda-note", Static).update(note)
        self.items = []
        rows: list[list[Cell]] = []
        for group, items in d["groups"]:
            label = (
                Text(t("Overdue"), style="bold red")
                if group == "overdue"
                else Text(group, style="bold")
            )
            for i, item in enumerate(items):
                kind = "◎ " if item["kind"] == "target" else ""
                rows.append(
                    [
                        label if i == 0 else "",
                        item["due"].isoformat(),
                        item["code"],
                        Text(
                            kind + ellipsize(item["title"], 48),
                            style="red" if item["overdue"] else "",
                        ),
                        ellipsize(", ".join(item["lead"]), 24),
                    ]
                )
                self.items.append(item)
        self.query_one(Grid).fill(rows or [["", "", "", t("Nothing due."), ""]])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.items and table.cursor_row < len(self.items):
            item = self.items[table.cursor_row]
            if item:
                self.app.open_obligation(item["obligation_id"])

    def action_toggle(self) -> None:  # type: ignore[override]  # the m key, not DOMNode's
        self.by = "month" if self.by == "week" else "week"
        self.load()
