"""Long jobs (sweeps, imports) run in a thread worker behind a progress dialog.

The job gets a ``progress(done, total)`` callback; until it first reports (or if it never
does) the bar pulses. The result stays on screen until dismissed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, ProgressBar, Static

from duban.core.errors import UserError
from duban.core.i18n import t

Job = Callable[[Session, Callable[[int, int], None]], Any]


class ProgressScreen(ModalScreen[Any]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="progress.close")
    ]

    def __init__(
        self, title: str, job: Job, describe: Callable[[Any], str], *, write: bool = True
    ) -> None:
        super().__init__()
        self.title_text, self.job, self.describe = title, job, describe
        self.write = write  # a preview reads only (and so works with a date under review)
        self.finished = False
        self.result: Any = None

    def compose(self) -> ComposeResult:
        with Vertical(id="progress"):
            yield Label(self.title_text, id="progress-title")
            yield ProgressBar(total=None, show_eta=False, id="progress-bar")
            yield Static(id="progress-result")
            yield Button(t("Close"), id="progress-close", disabled=True)

    def on_mount(self) -> None:
        app = self.app

        def report(done: int, total: int) -> None:
            app.call_from_thread(self.query_one(ProgressBar).update, total=total, progress=done)

        def work() -> None:
            try:
                with app.env.session(write=self.write) as session:  # type: ignore[attr-defined]
                    result = self.job(session, report)
            except UserError as exc:
                app.call_from_thread(self._finish, None, str(exc))
                return
            app.call_from_thread(self._finish, result, None)

        self.run_worker(work, thread=True, group="job")

    def _finish(self, result: Any, error: str | None) -> None:
        self.finished, self.result = True, result
        bar = self.query_one(ProgressBar)
        bar.update(total=1, progress=1 if error is None else 0)
        note = self.query_one("#progress-result", Static)
        note.update(error or self.describe(result))
        note.set_class(error is not None, "-error")
        close = self.query_one("#progress-close", Button)
        close.disabled = False
        close.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        if self.finished:
            self.dismiss(self.result)
