"""Widgets of the duban TUI: the windowed obligations table, grids (data tables sized as
they are filled), ladder bars, the measurement chart, the filter bar, doors (numbers that
open a filtered list), the status line."""
