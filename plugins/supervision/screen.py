"""The rectification ledger in the terminal UI: the ledger's stages as doors over the
obligations table, scoped to the ledger's own items (``has:ledger``), as ``duban ledger list``.

Imported by the ``duban_tui_screens`` hook only, so textual is loaded by the TUI alone.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.containers import Horizontal

from duban.core.api import pick, t
from duban.tui.api import Door, ObligationsScreen, count_obligations

from .ledger import SCOPE, by_stage, stage_filter


def stage_counts(*, session: Session, as_of: Any) -> dict[str, Any]:
    """Ledger items by stage, and how many the obligations list calls overdue."""
    return {
        "stages": list(by_stage(session=session)),
        "overdue": count_obligations(session=session, filter_line=f"{SCOPE} overdue", as_of=as_of),
    }


class LedgerScreen(ObligationsScreen):
    TITLE_MSGID = "Rectification ledger"
    DEFAULT_CSS: ClassVar[str] = "#ledger-stages { padding: 0 1; }"

    def __init__(self) -> None:
        super().__init__(SCOPE)

    def body(self) -> ComposeResult:
        yield Horizontal(id="ledger-stages", classes="doors")
        yield from super().body()

    def load(self) -> None:
        super().load()
        self.read(
            lambda s: stage_counts(session=s, as_of=self.app.as_of),
            self.show_stages,
            group="stages",
        )

    async def show_stages(self, counts: dict[str, Any]) -> None:
        doors = [
            Door(
                Text.assemble((pick(stage.zh, stage.en) + " ", "dim"), (str(n), "bold")),
                filter_line=stage_filter(stage.key),
            )
            for stage, n in counts["stages"]
        ]
        doors.append(
            Door(
                Text.assemble((t("Overdue") + " ", "dim"), (str(counts["overdue"]), "bold red")),
                filter_line=f"{SCOPE} overdue",
            )
        )
        box = self.query_one("#ledger-stages")
        await box.remove_children()
        await box.mount_all(doors)

    def on_door_opened(self, event: Door.Opened) -> None:
        event.stop()
        if event.filter_line is not None:
            self.set_filter(event.filter_line)
