"""The obligations list: a live filter line over a windowed table (only visible rows are
queried and drawn, so 100k obligations feel like 40)."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from duban.core.errors import UserError
from duban.core.i18n import t

from .. import data
from ..filters import SORTS, Query, parse, unparse
from ..widgets.filterbar import FilterBar
from ..widgets.table import ColumnHeader, ObligationTable
from .base import DubanScreen


class ObligationsScreen(DubanScreen):
    TITLE_MSGID = "Obligations"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="list.filter"),
        Binding("s", "sort", "Sort", id="list.sort"),
        Binding("S", "reverse", "Reverse", id="list.reverse"),
        Binding("escape", "leave_filter", "Table", id="list.table", show=False),
        Binding("down", "leave_filter", "Table", show=False),
    ]

    def __init__(self, line: str = "") -> None:
        super().__init__()
        self.line = line
        self.query_: Query = Query()
        self.generation = 0
        self.total = 0

    def body(self) -> ComposeResult:
        yield FilterBar(self.line, id="filter-bar")
        yield ColumnHeader(id="table-header")
        yield ObligationTable(id="table")
        with Horizontal(id="list-foot"):
            yield Static(id="list-count")

    def load(self) -> None:
        try:
            self.query_ = parse(self.line)
        except UserError as exc:
            self.query_one(FilterBar).show_error(str(exc))
            return
        self.run_query()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(ObligationTable).focus()

    # Filtering -------------------------------------------------------------------------
    def set_filter(self, line: str) -> None:
        self.query_one(FilterBar).set_line(line)

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        event.stop()
        self.line, self.query_ = event.line, event.query
        self.run_query()

    def run_query(self) -> None:
        """The first window, then the count: counting 100k rows takes longer than fetching
        a screenful, and run side by side the two would share the cores the keystroke's
        answer needs. A newer keystroke supersedes both."""
        self.generation += 1
        generation, query, as_of = self.generation, self.query_, self.app.as_of
        table = self.query_one(ObligationTable)
        limit = max(20, table.size.height) + 20
        self.query_one(ColumnHeader).show(query.sort, query.descending)

        def first(session):
            return (
                generation,
                data.window(session=session, query=query, as_of=as_of, offset=0, limit=limit),
                limit,
            )

        self.read(first, self._show_rows, group="query", on_error=self._show_error)

    def _show_rows(self, result: tuple[int, list, int]) -> None:
        generation, rows, limit = result
        if generation != self.generation:
            return
        table = self.query_one(ObligationTable)
        known = len(rows) < limit  # a short first window is the whole answer
        table.reset(generation, len(rows), 0, rows)
        table.scroll_to(y=0, animate=False, immediate=True)
        table.cursor = 0
        if known:
            self._show_count((generation, len(rows)))
            return
        self.query_one("#list-count", Static).update(t("counting…"))
        query, as_of = self.query_, self.app.as_of

        def count(session):
            return generation, data.count(session=session, query=query, as_of=as_of)

        self.read(count, self._show_count, group="count", on_error=self._show_error)

    def _show_count(self, result: tuple[int, int]) -> None:
        generation, total = result
        if generation != self.generation:
            return
        self.total = total
        self.query_one(ObligationTable).set_total(generation, total)
        self.query_one("#list-count", Static).update(
            t("{n} obligations", n=f"{total:,}")
            + "  ·  "
            + t("sorted by {key}", key=t(self.query_.sort))
        )

    def _show_error(self, message: str) -> None:
        self.query_one(FilterBar).show_error(message)
        self.query_one(ObligationTable).reset(self.generation, 0, 0, [])
        self.query_one("#list-count", Static).update("")

    def on_obligation_table_need_rows(self, event: ObligationTable.NeedRows) -> None:
        event.stop()
        query, as_of = self.query_, self.app.as_of
        generation, start, count = event.generation, event.start, event.count

        def fetch(session):
            if get_current_worker().is_cancelled:
                return generation, start, []
            return (
                generation,
                start,
                data.window(session=session, query=query, as_of=as_of, offset=start, limit=count),
            )

        self.read(fetch, lambda r: self.query_one(ObligationTable).add_rows(*r), group="rows")

    def on_obligation_table_opened(self, event: ObligationTable.Opened) -> None:
        event.stop()
        self.app.open_obligation(event.obligation_id)

    # Keys ------------------------------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        """A printable key no shortcut wants (衡阳, typed while the list is still loading
        too) goes into the filter line instead of being lost."""
        box = self.query_one("#filter-input", Input)
        if (
            not event.is_printable
            or event.character is None
            or self.focused is box
            or event.key in self.active_bindings
        ):
            return
        event.stop()
        box.focus()
        box.post_message(events.Key(event.key, event.character))

    def action_focus_filter(self) -> None:
        self.query_one("#filter-input", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one(ObligationTable).focus()

    def action_sort(self) -> None:
        following = SORTS[(SORTS.index(self.query_.sort) + 1) % len(SORTS)]
        self.set_filter(unparse(self.query_.with_sort(following)))

    def action_reverse(self) -> None:
        self.set_filter(
            unparse(self.query_.with_sort(self.query_.sort, not self.query_.descending))
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_filter":
            return isinstance(self.focused, Input)
        return True
