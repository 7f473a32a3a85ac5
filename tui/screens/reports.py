"""Progress reports (进展报送). A member sees 待报送 — its owner's obligations whose report for
the latest ended period is not in — and opens one to report (``b`` on the detail screen);
a coordinator sees who has and has not reported, and sends a 催报 now with ``u``."""

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
from .base import DubanScreen


class ReportsScreen(DubanScreen):
    TITLE_MSGID = "Progress reports"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="reports.open", show=False),
        Binding("u", "urge", "Urge", id="reports.urge"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, Any] = {"mode": None, "rows": []}

    def body(self) -> ComposeResult:
        yield Static(id="reports-note", classes="note")
        yield Grid(id="reports-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(Grid).focus()

    def fetch(self, session: Session) -> dict[str, Any]:
        return data.reporting(session, self.app.as_of)

    def show(self, found: dict[str, Any]) -> None:
        self.found = found
        grid = self.query_one(Grid)
        note = self.query_one("#reports-note", Static)
        rows = found["rows"]
        if found["mode"] == "pending":
            note.update(
                t(
                    "Still to report for {owner}: Enter opens one, b there reports.",
                    owner=found["owner"],
                )
                if rows
                else t("Nothing to report: every report of {owner} is in.", owner=found["owner"])
            )
            grid.labels = (t("Code"), t("Title"), t("Report period"), t("Due"), t("Late"))
            keys = [str(r["obligation"]) for r in rows]
            cells = [
                [
                    r["code"] or f"#{r['obligation']}",
                    ellipsize(r["title"], 50),
                    r["period"],
                    r["due"],
                    t("overdue") if r["late"] else "",
                ]
                for r in rows
            ]
        else:
            note.update(
                t(
                    "Who has reported for the latest ended period, most missing first. u urges an owner to report now."
                )
            )
            grid.labels = (t("Owner"), t("Due"), t("Received"), t("Late"), t("Missing"))
            keys = [r["owner"] for r in rows]
            cells = [
                [
                    ellipsize(r["owner"], 40),
                    str(r["due"]),
                    str(r["received"]),
                    str(r["late"]),
                    str(r["missing"]),
                ]
                for r in rows
            ]
        grid.fill(cells, keys)

    def _current(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        rows = self.found["rows"]
        return rows[table.cursor_row] if rows and table.cursor_row < len(rows) else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self._current()
        if row is None:
            return
        if self.found["mode"] == "pending":
            self.app.open_obligation(row["obligation"])
        else:
            self.run_worker(
                self.app.open_list(f'owner:"{row["owner"]}" role:lead'), group="navigate"
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "urge":
            return self.found["mode"] == "owners"
        return True

    def action_urge(self) -> None:
        row = self._current()
        if row is None or not row["missing"]:
            return
        app = self.app

        def work() -> None:
            from duban.core.errors import UserError
            from duban.core.services.reports import urge

            try:
                with app.env.session() as session:
                    n = urge(session=session, owner=row["owner"], as_of=app.as_of)
            except UserError as exc:
                app.call_from_thread(app.report_error, str(exc))
                return
            app.call_from_thread(
                app.notify, t("Urged {owner} to report: {n} report(s)", owner=row["owner"], n=n)
            )

        self.run_worker(work, thread=True, group="urge")
