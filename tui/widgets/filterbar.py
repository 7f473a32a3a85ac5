"""The filter line above the obligations table; errors are explained in place."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from duban.core.errors import UserError
from duban.core.i18n import t

from ..filters import Query, parse, spoken


class FilterBar(Vertical):
    class Changed(Message):
        def __init__(self, query: Query, line: str) -> None:
            super().__init__()
            self.query, self.line = query, line

    def __init__(self, line: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.line = line

    def compose(self) -> ComposeResult:
        yield Input(
            spoken(self.line),
            id="filter-input",
            select_on_focus=False,
            placeholder=t(
                "filter: words, owner:, role:, region:, domain:, has:, lacks:, state:, level:, due:DAYS, overdue, sort:"
            ),
        )
        yield Static(id="filter-message")

    def set_line(self, line: str) -> None:
        """Replace the filter (a door was opened); fires ``Changed`` like typing does."""
        line = spoken(line)
        box = self.query_one(Input)
        if box.value == line:
            self._changed(line)
        else:
            box.value = line
            box.cursor_position = len(line)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._changed(event.value)

    def _changed(self, line: str) -> None:
        self.line = line
        try:
            query = parse(line)
        except UserError as exc:
            self.show_error(str(exc))
            return
        self.show_error(None)
        self.post_message(self.Changed(query, line))

    def show_error(self, message: str | None) -> None:
        note = self.query_one("#filter-message", Static)
        note.update(message or "")
        note.set_class(bool(message), "-error")
