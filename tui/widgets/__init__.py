"""Widgets of the duban TUI: the windowed obligations table, ladder bars, the measurement
chart, the filter bar, doors (numbers that open a filtered list), the status line."""
