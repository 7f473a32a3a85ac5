"""The public API for plugin screens in the terminal UI: import from here, nothing else of
``duban.tui``.

    from duban.tui.api import ObligationsScreen, Door, count_obligations

A plugin registers its screens with the ``duban_tui_screens`` hook (``TuiScreen``) and
imports this module only from the screen's factory, so textual is loaded by the TUI alone.
Names in ``__all__`` are stable within a major ``duban.core.api.API_VERSION``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from .filters import Query
from .filters import parse as parse_filter
from .hookspecs import TuiScreen
from .screens.base import DubanScreen
from .screens.obligations import ObligationsScreen
from .widgets.door import Door

if TYPE_CHECKING:
    from sqlmodel import Session

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

    return data.count(session=session, query=parse_filter(filter_line), as_of=as_of)
