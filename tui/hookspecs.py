"""Hooks the terminal UI adds to duban's plugin manager (core never imports textual).

A plugin implements them with ``@hookimpl`` from ``duban.core.api`` like any core hook; the
TUI registers these specifications on the same plugin manager when it starts. Import
textual inside your factory, not at module level, so ``duban list`` stays lean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from duban.core.hookspecs import hookspec
from duban.core.i18n import pick


@dataclass(frozen=True)
class TuiScreen:
    """A screen a plugin adds to the TUI.

    ``key`` names the screen (``ledger``; one of the built-in names replaces that screen);
    ``binding`` is the key that opens it (optional); ``factory()`` returns a new
    ``textual.screen.Screen``. The screen appears in the command palette as
    "view: <title>" and in the help screen.
    """

    key: str
    title: str
    title_en: str
    factory: Callable[[], Any]
    binding: str | None = None
    plugin: str = ""

    @property
    def label(self) -> str:
        return pick(self.title, self.title_en)


@hookspec
def duban_tui_screens(register: Any) -> None:
    """Add screens to the terminal UI: ``register(TuiScreen(key=..., title=..., title_en=...,
    factory=MyScreen, binding="k"))``. A screen can read the database through
    ``self.app.env.session(write=False)`` (in a thread worker) and the date under review as
    ``self.app.as_of``; opening the obligations list with a filter is
    ``await self.app.open_list("domain:mine overdue")``."""
