"""What every duban screen shares: the status line, the footer, and staying current.

The app has a *stamp* (language, as-of date, data version). A screen remembers the stamp it
last showed; when it comes back into view with an older one it reloads (and recomposes if
the language changed), so switching the language or the date never leaves stale text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.worker import get_current_worker

from duban.core.errors import UserError
from duban.core.i18n import t
from duban.core.queries import Lean

from ..widgets.door import Door
from ..widgets.footer import LocalFooter
from ..widgets.status import StatusLine

if TYPE_CHECKING:
    from sqlmodel import Session

    from ..app import DubanApp


class DubanScreen(Screen):
    """Subclasses set ``TITLE_MSGID``, compose ``body()``, and implement ``fetch``/``show``."""

    TITLE_MSGID = ""
    app: DubanApp  # type: ignore[assignment]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stamp: tuple | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine(t(self.TITLE_MSGID), id="status")
        yield from self.body()
        yield LocalFooter()

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.stamp = self.app.stamp
        self.load()

    async def on_screen_resume(self) -> None:
        if self.stamp is not None and self.stamp != self.app.stamp:
            await self.refresh_view()

    async def refresh_view(self) -> None:
        """Catch up with the app's stamp: recompose for a new language, then reload."""
        old, self.stamp = self.stamp, self.app.stamp
        if old is None or old[0] != self.stamp[0]:
            await self.recompose()
        else:
            self.refresh_status()
        self.load()

    def refresh_status(self) -> None:
        for line in self.query(StatusLine):
            line.refresh_status()

    # Data ------------------------------------------------------------------------------
    def load(self) -> None:
        """Fetch this screen's data in a thread worker and show it."""
        self.read(self.fetch, self.show, group="load")

    def fetch(self, session: Session) -> Any:
        return None

    def show(self, data: Any) -> Awaitable[None] | None:
        """Show what ``fetch`` returned, on the UI thread (a coroutine is awaited)."""

    def read(
        self,
        fetch: Callable[[Any], Any],
        then: Callable[[Any], Any],
        *,
        group: str,
        on_error: Callable[[str], Any] | None = None,
        lean: bool = False,
    ) -> None:
        """Run ``fetch(session)`` in a thread; hand its result to ``then`` on the UI thread.
        With ``lean``, ``fetch`` gets an ``Env.reading`` connection (plain SQL, no ORM).
        A newer read of the same group supersedes an older one (its result is dropped)."""
        app = self.app

        def work() -> None:

            worker = get_current_worker()
            try:
                with (
                    app.env.reading() if lean else app.env.session(write=False) as source,
                    app.interruptible(source if lean else Lean.of_session(source)),
                ):
                    result = fetch(source)
            except UserError as exc:
                if not worker.is_cancelled:
                    app.call_from_thread(on_error or app.report_error, str(exc))
                    app.call_from_thread(app.data_shown)
                return
            except Exception:
                if app.closing:  # stopped as the app closed: nobody waits for it
                    return
                raise
            if not worker.is_cancelled:
                app.call_from_thread(then, result)
                app.call_from_thread(app.data_shown)

        self.run_worker(
            work, thread=True, exclusive=True, group=group, name=f"{type(self).__name__}.{group}"
        )

    # Doors -----------------------------------------------------------------------------
    def on_door_opened(self, event: Door.Opened) -> None:
        event.stop()
        if event.obligation_id is not None:
            self.app.open_obligation(event.obligation_id)
        elif event.filter_line is not None:
            self.run_worker(self.app.open_list(event.filter_line), group="navigate")
