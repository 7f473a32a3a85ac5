"""The public API for plugin screens in the terminal UI: import from here, nothing else of
``duban.tui``.

    from duban.tui.api import ObligationsScreen, Door, count_obligations

A plugin registers its screens with the ``duban_tui_screens`` hook (``TuiScreen``) and
imports this module only inside that hook and the screen's factory, so textual is loaded by
the TUI alone. Names in ``__all__`` are stable within a major ``duban.core.api.API_VERSION``.

The hook runs while the app starts: importing ``TuiScreen`` loads nothing more, and the
screens (with the ORM behind the obligations table) load when first asked for.
"""

from __future__ import annotations

from datetime import date
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .hookspecs import TuiScreen

if TYPE_CHECKING:
    from sqlmodel import Session

    from .filters import Query
    from .filters import parse as parse_filter
    from .screens.base import DubanScreen
    from .screens.obligations import ObligationsScreen
    from .widgets.door import Door

# name -> "module:attribute" under duban.tui, imported on first use.
_LAZY = {
    "Door": "widgets.door:Door",
    "DubanScreen": "screens.base:DubanScreen",
    "ObligationsScreen": "screens.obligations:ObligationsScreen",
    "Query": "filters:Query",
    "parse_filter": "filters:parse",
}

__all__ = [
    "Door",
    "DubanScreen",
    "ObligationsScreen",
    "Query",
    "TuiScreen",
    "count_obligations",
    "parse_filter",
]


def count_obligations(*, session: Session, filter_line: str, as_of: date) -> int:
    """How many obligations the filter line (the obligations screen's syntax) selects."""
    from . import data
    from .filters import parse

    return data.count(session=session, query=parse(filter_line), as_of=as_of)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'duban.tui.api' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = getattr(import_module(f"duban.tui.{module}"), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
