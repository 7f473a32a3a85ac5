"""A door: a number on a screen that opens the obligations list it counts."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static


class Door(Static, can_focus=True):
    """Focusable, clickable text carrying a filter line; Enter or a click opens it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", "Open", show=False)]

    class Opened(Message):
        """Open the obligations list filtered by ``filter_line``, or one obligation."""

        def __init__(self, filter_line: str | None, obligation_id: int | None = None) -> None:
            super().__init__()
            self.filter_line, self.obligation_id = filter_line, obligation_id

    def __init__(
        self,
        content: Text | str = "",
        *,
        filter_line: str | None = None,
        obligation_id: int | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(content, **kwargs)  # type: ignore[arg-type]
        self.filter_line, self.obligation_id = filter_line, obligation_id
        self.can_focus = self.opens

    @property
    def opens(self) -> bool:
        return self.filter_line is not None or self.obligation_id is not None

    def show(self, content: Text | str, filter_line: str | None) -> None:
        self.filter_line = filter_line
        self.can_focus = self.opens
        self.set_class(not self.opens, "-inert")
        self.update(content)

    def action_open(self) -> None:
        if self.opens:
            self.post_message(self.Opened(self.filter_line, self.obligation_id))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_open()
