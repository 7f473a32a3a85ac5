"""The rectification ledger (整改台账) of the supervision plugin's domain: stages as doors
over the same windowed table as the obligations list."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from sqlmodel import Session
from textual.containers import Horizontal

from duban.core.i18n import t
from duban.core.models import State

from .. import data
from ..widgets.door import Door
from .obligations import ObligationsScreen

DOMAIN = "supervision"
# The ledger's names for the lifecycle: 交办 → 整改中 → 申请销号 → 销号.
STAGES = ((State.open, "Assigned"), (State.in_progress, "Rectifying"),
          (State.submitted, "Close-out requested"), (State.closed, "Closed out"))


class LedgerScreen(ObligationsScreen):
    TITLE_MSGID = "Ledger"

    def __init__(self) -> None:
        super().__init__(f"domain:{DOMAIN}")

    def body(self) -> Any:
        yield Horizontal(id="ledger-stages", classes="doors")
        yield from super().body()

    def load(self) -> None:
        super().load()
        self.read(lambda s: data.ledger(session=s, as_of=self.app.as_of, domain=DOMAIN),
                  self.show_stages, group="stages")

    def fetch(self, session: Session) -> Any:
        return None

    async def show_stages(self, d: dict[str, Any]) -> None:
        doors = [Door(Text.assemble((t(label) + " ", "dim"), (str(d["stages"].get(state.value, 0)), "bold")),
                      filter_line=f"domain:{DOMAIN} state:{state.value}", classes="door")
                 for state, label in STAGES]
        doors.append(Door(Text.assemble((t("Overdue") + " ", "dim"), (str(d["overdue"]), "bold red")),
                          filter_line=f"domain:{DOMAIN} overdue", classes="door"))
        box = self.query_one("#ledger-stages")
        await box.remove_children()
        await box.mount_all(doors)

    def on_door_opened(self, event: Door.Opened) -> None:
        event.stop()
        if event.filter_line is not None:
            self.set_filter(event.filter_line)
