"""Help: every key that works here, the filter language, and the command palette."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from duban.core.i18n import t

FILTER_HELP = (
    ("衡阳 / text", "Title or code contains the words"),
    ("owner:NAME", "Assigned to this owner (name or alias)"),
    ("role:lead", "With owner: only in this role (lead, participant, implementer)"),
    ("region:NAME", "This region and its sub-regions"),
    ("domain:water", "This domain"),
    ("has:ledger", "Carrying a plugin's mark (has:ledger: the rectification ledger's items)"),
    ("lacks:ledger.accepted_at", "Without this mark, or this member of it (after the dot)"),
    ("state:in_progress", "This state"),
    ("level:list", "With an open escalation at this level"),
    ("due:30", "A pending milestone within this many days"),
    ("overdue", "Overdue only"),
    ("sort:-due", "Sort (code, due, title, state, level, id; - reverses)"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close")
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self._text(), id="help-text")

    def _text(self) -> Text:
        out = Text()
        out.append(t("Keys") + "\n", style="bold underline")
        screen = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else self.app.screen
        seen: set[str] = set()
        for node in (screen, self.app):
            for key, bindings in node._bindings.key_to_bindings.items():
                for b in bindings:
                    if (
                        b.description
                        and (key, b.action) not in seen
                        and node.check_action(b.action.split("(")[0], ()) is not False
                    ):
                        seen.add((key, b.action))  # type: ignore[arg-type]
                        out.append(f"  {self.app.get_key_display(b):>10}  ", style="bold")
                        out.append(t(b.description) + "\n")
        out.append(f"  {'ctrl+p':>10}  ", style="bold")
        out.append(t('Command palette: "noun: verb" commands in either language') + "\n")
        out.append("\n" + t("Filter line (obligations list)") + "\n", style="bold underline")
        for syntax, meaning in FILTER_HELP:
            out.append(f"  {t(syntax):<18}", style="bold")
            out.append(t(meaning) + "\n")
        out.append(
            "\n" + t("Every number on the dashboard opens the list it counts.") + "\n",
            style="italic",
        )
        out.append(t("Press Escape to close."), style="dim")
        return out

    def action_close(self) -> None:
        self.dismiss(None)
