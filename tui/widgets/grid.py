"""A data table filled all at once, its columns sized from the rows it is given.

Textual's DataTable measures auto-width columns later, when the table is next idle, and
caches the rows it draws under a counter that this measurement does not advance: a table
drawn in between (a slow query finishing just before a frame) keeps label-wide columns
until something else redraws it. Sizing the columns while filling leaves nothing to measure.
Cells that are plain strings are shown as they are, never read as Rich markup, so a title
with square brackets stays intact.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


class Grid(DataTable):
    """A DataTable with fixed column ``labels``; ``fill`` replaces every row."""

    def __init__(self, *labels: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.labels = labels

    def on_mount(self) -> None:
        self.fill([])

    def fill(self, rows: Sequence[Sequence[Cell]], keys: Sequence[str] | None = None) -> None:
        """Show ``rows`` (one cell per label), keyed by ``keys`` when given."""
        cells = [[c if isinstance(c, Text) else Text(c) for c in row] for row in rows]
        self.clear(columns=True)
        for i, label in enumerate(self.labels):
            width = max([Text(label).cell_len, *(row[i].cell_len for row in cells)])
            self.add_column(label, width=width)
        for n, row in enumerate(cells):
            self.add_row(*row, key=keys[n] if keys else None)
