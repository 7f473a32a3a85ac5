"""The obligations table: a virtual list that holds only the rows in (and near) view.

Textual's DataTable needs every row up front (100k rows take seconds and block the loop),
so this is a ScrollView on the line API: its virtual height is the match count, it renders
the visible lines from a small cache, and asks its screen for missing windows with
``NeedRows``; the screen fetches them in a thread worker and hands them back.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from duban.core.i18n import pick, t

from ..text import fit, level_label, level_style, light_label, light_style, state_label

# key, header msgid, width (0 = takes the rest)
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("code", "Code", 10),
    ("title", "Title", 0),
    ("lead", "Lead", 18),
    ("next_due", "Next due", 11),
    ("state", "State", 8),
    ("light", "Light", 6),
    ("level", "Level", 10),
    ("region", "Region", 8),
)
KEEP = 600  # rows kept around the view; the rest are dropped from the cache


def layout(width: int) -> list[tuple[str, str, int]]:
    fixed = sum(w for _, _, w in COLUMNS) + len(COLUMNS) - 1
    return [(k, h, w or max(12, width - fixed)) for k, h, w in COLUMNS]


def cells(row: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The text and style of each column of one obligation."""
    english = row.get("lead_en") or [None] * len(row["lead"])
    leads = [pick(name, en) for name, en in zip(row["lead"], english, strict=True)]
    lead = leads[0] + (f" +{len(leads) - 1}" if len(leads) > 1 else "") if leads else ""
    due = row.get("next_due") or ""
    return {
        "code": (row.get("code") or f"#{row['id']}", ""),
        "title": (pick(row["title"], row.get("title_en")), ""),
        "lead": (lead, ""),
        "next_due": (
            f"!{due}" if row.get("overdue") else f" {due}",
            "red" if row.get("overdue") else "",
        ),
        "state": (state_label(row["state"]), ""),
        "light": (light_label(row.get("light")), light_style(row.get("light"))),
        "level": (level_label(row.get("level")), level_style(row.get("level"))),
        "region": (pick(row.get("region") or "", row.get("region_en")), ""),
    }


class ColumnHeader(Static):
    sort: tuple[str, bool] = ("code", False)

    def on_resize(self) -> None:
        self.show(*self.sort)

    def show(self, sort: str, descending: bool) -> None:
        self.sort = (sort, descending)
        text = Text()
        for i, (key, title, width) in enumerate(layout(self.size.width or 120)):
            mark = ("▼" if descending else "▲") if key == sort else ""
            text.append(fit(t(title) + mark, width), style="bold")
            if i < len(COLUMNS) - 1:
                text.append(" ")
        self.update(text)


class ObligationTable(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "open", "Open", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "obligation-table--cursor",
        "obligation-table--loading",
    }

    cursor = reactive(0)

    class NeedRows(Message):
        """Rows ``start .. start+count`` of ``generation`` are wanted."""

        def __init__(self, generation: int, start: int, count: int) -> None:
            super().__init__()
            self.generation, self.start, self.count = generation, start, count

    class Opened(Message):
        def __init__(self, obligation_id: int) -> None:
            super().__init__()
            self.obligation_id = obligation_id

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.total = 0
        self.generation = 0
        self.rows: dict[int, dict[str, Any]] = {}
        self._asked: set[tuple[int, int]] = set()

    # Data in ---------------------------------------------------------------------------
    def reset(self, generation: int, total: int, start: int, rows: list[dict[str, Any]]) -> None:
        """A new result (the filter or sort changed): count and first window together."""
        if generation < self.generation:
            return
        self.generation, self.total = generation, total
        self.rows = {start + i: row for i, row in enumerate(rows)}
        self._asked = set()
        self._size_range()
        self.cursor = min(self.cursor, max(0, total - 1))
        self._keep_cursor_visible()
        self.refresh()
        self._request_missing()

    def set_total(self, generation: int, total: int) -> None:
        """The count arrived after the first window: size the scroll range to it."""
        if generation != self.generation or total == self.total:
            return
        self.total = total
        self._size_range()
        self.refresh()
        self._request_missing()

    def add_rows(self, generation: int, start: int, rows: list[dict[str, Any]]) -> None:
        if generation != self.generation:
            return
        for i, row in enumerate(rows):
            self.rows[start + i] = row
        top = self.scroll_offset.y
        if len(self.rows) > 2 * KEEP:
            self.rows = {i: r for i, r in self.rows.items() if top - KEEP <= i <= top + KEEP}
        self.refresh()

    def _request_missing(self) -> None:
        height = max(1, self.size.height)
        top = self.scroll_offset.y
        visible = range(top, min(self.total, top + height))
        if all(i in self.rows for i in visible):
            return
        start = max(0, top - height)
        key = (self.generation, start)
        if key not in self._asked:
            self._asked.add(key)
            self.post_message(self.NeedRows(self.generation, start, 3 * height))

    # Rendering -------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.row_width
        base = self.rich_style
        if index >= self.total:
            return Strip.blank(width, base)
        row = self.rows.get(index)
        cursor = (
            self.get_component_rich_style("obligation-table--cursor")
            if index == self.cursor and self.has_focus
            else None
        )
        if row is None:
            dim = self.get_component_rich_style("obligation-table--loading")
            return Strip([Segment(fit("…", width), base + dim)], width)
        segments = []
        values = cells(row)
        for i, (key, _, col_width) in enumerate(layout(width)):
            text, style = values[key]
            seg_style = base + Style.parse(style) if style else base
            if cursor is not None:
                seg_style += cursor
            segments.append(Segment(fit(text, col_width), seg_style))
            if i < len(COLUMNS) - 1:
                segments.append(Segment(" ", base + cursor if cursor else base))
        return Strip(segments).crop_extend(0, width, base + cursor if cursor else base)

    def on_resize(self) -> None:
        self._size_range()
        self._request_missing()

    @property
    def row_width(self) -> int:
        """Cells a row may use: the content area less the (always shown) scrollbar."""
        return self.scrollable_content_region.width

    def _size_range(self) -> None:
        # As wide as a row, never wider: the table scrolls only vertically.
        self.virtual_size = Size(self.row_width, self.total)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._request_missing()

    def watch_cursor(self) -> None:
        self._keep_cursor_visible()
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def _keep_cursor_visible(self) -> None:
        height = max(1, self.size.height)
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    # Keys and mouse --------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        if self.total:
            self.cursor = self.total - 1 if where < 0 else 0

    def action_open(self) -> None:
        row = self.rows.get(self.cursor)
        if row is not None:
            self.post_message(self.Opened(row["id"]))

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < self.total:
            self.cursor = index
            if event.chain >= 2:
                self.action_open()

    @property
    def current(self) -> dict[str, Any] | None:
        return self.rows.get(self.cursor)
