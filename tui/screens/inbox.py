"""The inbox: notifications delivered to the acting user (channel "inbox"), newest first."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from duban.core.clock import to_local_date
from duban.core.i18n import t
from duban.core.labels import occasion_label

from .. import data
from ..text import ellipsize
from ..widgets.grid import Grid
from .base import DubanScreen


class InboxScreen(DubanScreen):
    TITLE_MSGID = "Inbox"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "mark_read", "Mark read", id="inbox.read"),
        Binding("enter", "open", "Open", id="inbox.open", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    def body(self) -> ComposeResult:
        yield Static(id="inbox-note", classes="note")
        yield Grid("", t("Date"), t("Subject"), t("Occasion"), id="inbox-table", cursor_type="row")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(Grid).focus()

    def fetch(self, session: Session) -> dict[str, Any]:
        return data.inbox(session=session)

    def show(self, d: dict[str, Any]) -> None:
        self.rows = d["rows"]
        self.query_one("#inbox-note", Static).update(t("{n} unread", n=d["unread"]))
        rows = [
            [
                "" if r["read"] else "●",
                to_local_date(r["created"]).isoformat(),
                Text(ellipsize(r["subject"], 70), style="" if r["read"] else "bold"),
                occasion_label(r["occasion"]),
            ]
            for r in self.rows
        ]
        self.query_one(Grid).fill(
            rows or [["", "", t("No messages."), ""]], [str(r["id"]) for r in self.rows]
        )

    def _current(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        return (
            self.rows[table.cursor_row] if self.rows and table.cursor_row < len(self.rows) else None
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self._current()
        ob = (row or {}).get("payload", {}).get("obligation_id")
        if ob:
            self.app.open_obligation(int(ob))

    def action_mark_read(self) -> None:
        row = self._current()
        if row is None or row["read"]:
            return
        app = self.app

        def work() -> None:
            from duban.core.errors import UserError
            from duban.core.notify.inbox import mark_read

            try:
                with app.env.session() as session:
                    mark_read(session=session, ids=[row["id"]])
            except UserError as exc:
                app.call_from_thread(app.report_error, str(exc))
                return
            app.call_from_thread(app.changed)

        self.run_worker(work, thread=True, group="write")
