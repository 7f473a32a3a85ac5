"""Escalations open as of the date under review, highest rung first; acknowledge one or
open its obligation."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from duban.core.clock import to_local_date
from duban.core.i18n import t
from duban.core.models import Level

from .. import data
from ..text import ellipsize, level_label
from ..widgets.grid import Grid
from ..widgets.ladder import level_badge
from . import forms
from .base import DubanScreen


class EscalationsScreen(DubanScreen):
    TITLE_MSGID = "Escalations"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k", "acknowledge", "Acknowledge", id="esc.ack"),
        Binding("enter", "open", "Open", id="esc.open", show=False),
        Binding("f", "cycle_level", "Level filter", id="esc.level"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.level: str | None = None
        self.rows: list[dict[str, Any]] = []

    def body(self) -> ComposeResult:
        yield Static(id="esc-summary")
        yield Grid(
            t("Level"),
            "#",
            t("Code"),
            t("Obligation"),
            t("Reason"),
            t("Addressed to"),
            t("Opened"),
            t("Acknowledged"),
            id="esc-table",
            cursor_type="row",
            zebra_stripes=True,
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(Grid).focus()

    def fetch(self, session: Session) -> dict[str, Any]:
        return data.escalations(session=session, as_of=self.app.as_of, level=self.level)

    def show(self, d: dict[str, Any]) -> None:
        self.rows = d["rows"]
        counts = Text()
        for level in Level:
            n = d["counts"].get(level.value, 0)
            counts.append_text(level_badge(level.value))
            counts.append(f" {n}   ", style="bold" if n else "dim")
        shown = (
            t("showing {level}", level=level_label(self.level)) if self.level else t("all levels")
        )
        counts.append(f"  ({shown}; " + t("{n} open", n=d["total"]) + ")", style="dim")
        self.query_one("#esc-summary", Static).update(counts)
        rows = [
            [
                level_badge(r["level"]),
                str(r["id"]),
                r["code"],
                ellipsize(r["title"], 26),
                ellipsize(r["reason"], 30),
                ellipsize(r["to"], 16),
                to_local_date(r["opened"]).isoformat(),
                "✓" if r["acknowledged"] else "",
            ]
            for r in self.rows
        ]
        self.query_one(Grid).fill(
            rows or [[t("No open escalations."), *[""] * 7]], [str(r["id"]) for r in self.rows]
        )

    def _current(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self._current()
        if row and row["obligation_id"]:
            self.app.open_obligation(row["obligation_id"])

    def action_acknowledge(self) -> None:
        row = self._current()
        if row is None:
            return
        self.app.push_screen(forms.AcknowledgeForm(escalation_id=row["id"]), self._after)

    async def _after(self, result: Any) -> None:
        if result is not None:
            await self.app.changed()

    def action_cycle_level(self) -> None:
        levels = [None, *[lv.value for lv in Level]]
        self.level = levels[(levels.index(self.level) + 1) % len(levels)]
        self.load()
