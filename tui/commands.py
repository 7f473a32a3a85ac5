"""The command palette: "noun: verb" commands in both languages (任务: 记录读数 /
obligation: record reading). A query matches either language; the current one is shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from duban.core.i18n import catalog, language, t

if TYPE_CHECKING:
    from .app import DubanApp


@dataclass(frozen=True)
class Entry:
    noun: str  # English msgids; Chinese comes from the catalog (or verb_zh for plugins)
    verb: str
    help: str
    run: Callable[[], Any]
    verb_zh: str | None = None

    def text(self, lang: str) -> str:
        if lang == "zh":
            zh = catalog()
            return f"{zh.get(self.noun, self.noun)}: {self.verb_zh or zh.get(self.verb, self.verb)}"
        return f"{self.noun}: {self.verb}"


def entries(app: DubanApp, screen: Any = None) -> list[Entry]:
    """Every command that applies on ``screen`` (where the palette was opened)."""
    from .screens.detail import DetailScreen
    from .screens.escalations import EscalationsScreen

    found = [
        Entry(
            "view",
            title,
            "Open this section",
            partial(app.run_action, f"go('{mode}')"),
            verb_zh=title_zh,
        )
        for mode, title, title_zh in app.section_names()
    ]
    found += [
        Entry("app", "switch language", "中文 ⇄ English", partial(app.run_action, "language")),
        Entry(
            "app",
            "review as of a date",
            "Show the campaign as it stood on a date",
            partial(app.run_action, "as_of"),
        ),
        Entry("app", "help", "Keys and commands", partial(app.run_action, "help")),
        Entry(
            "campaign",
            "run sweep",
            "Evaluate targets and escalate what is late",
            partial(app.run_action, "sweep"),
        ),
        Entry(
            "campaign",
            "preview sweep",
            "What a sweep would open, raise and resolve; writes nothing",
            partial(app.run_action, "sweep_preview"),
        ),
        Entry(
            "campaign",
            "import file",
            "Import obligations, readings or a plugin's format",
            partial(app.run_action, "import_file"),
        ),
        Entry(
            "obligations",
            "show overdue",
            "The obligations list, overdue only",
            partial(app.run_action, "open_filter('overdue')"),
        ),
    ]
    screen = screen or app.screen
    if isinstance(screen, DetailScreen):
        # The same actions the footer offers for this obligation, in its state.
        found += [
            Entry("obligation", verb, why, partial(screen.run_action, action))
            for action, verb, why in DetailScreen.ACTIONS
            if screen.check_action(action, ())
        ]
    if isinstance(screen, EscalationsScreen):
        found.append(
            Entry(
                "escalation",
                "acknowledge",
                "Acknowledge the selected escalation",
                partial(screen.run_action, "acknowledge"),
            )
        )
    return found


class DubanCommands(Provider):
    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        lang = language()
        for entry in entries(self.app, self.screen):  # type: ignore[arg-type]
            shown, other = entry.text(lang), entry.text("en" if lang == "zh" else "zh")
            score = max(matcher.match(shown), matcher.match(other))
            if score > 0:
                yield Hit(
                    score, matcher.highlight(shown), entry.run, text=shown, help=t(entry.help)
                )

    async def discover(self) -> Hits:
        lang = language()
        for entry in entries(self.app, self.screen):  # type: ignore[arg-type]
            yield DiscoveryHit(
                entry.text(lang), entry.run, text=entry.text(lang), help=t(entry.help)
            )
