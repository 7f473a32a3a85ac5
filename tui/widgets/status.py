"""The status line: where you are, the plan, as of when, who acts, in which language."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from duban.core.i18n import language, t

from ..text import ellipsize


class StatusLine(Horizontal):
    def __init__(self, title: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.screen_title = title

    def compose(self) -> ComposeResult:
        yield Static(id="status-left")
        yield Static(id="status-right")

    def on_mount(self) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        if not self.query("#status-right"):
            return  # not composed yet (a language switch recomposes the screen)
        app = self.app
        role = getattr(app, "actor_role", None)
        who = f"{t(role)} {app.env.actor}" if role else app.env.actor  # type: ignore[attr-defined]
        lang = "中文" if language() == "zh" else "English"
        busy = "  ⋯" if getattr(app, "busy", 0) else ""
        right = Text.assemble(
            (f"{t('sandbox')} · ", "bold reverse") if getattr(app, "sandbox", False) else "",
            (t("as of {date}", date=app.as_of.isoformat()), "bold"),  # type: ignore[attr-defined]
            " · ",
            who,
            " · ",
            lang,
            busy,
        )
        self.query_one("#status-right", Static).update(right)
        plan = getattr(app, "plan_title", "") or ""
        room = max(10, (self.size.width or 120) - right.cell_len - 8 - len(self.screen_title) * 2)
        left = Text.assemble(
            (" duban ", "bold reverse"),
            "  ",
            (self.screen_title, "bold"),
            "  ",
            (ellipsize(plan, room), "italic"),
        )
        self.query_one("#status-left", Static).update(left)
