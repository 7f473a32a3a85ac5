"""The escalation ladder as labelled, coloured bars; each rung is a door."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from duban.core.vocabulary import Level

from ..text import fit, level_label, level_style
from .door import Door

BAR = "█"


def level_badge(level: str | None) -> Text:
    """The level's label in its colour (the label is always there: colour is never alone)."""
    if not level:
        return Text("")
    return Text(level_label(level), style=level_style(level))


def rung(level: str, count: int, largest: int, width: int) -> Text:
    label_width = max(cell_len(level_label(lv)) for lv in Level) + 1
    text = Text(fit(level_label(level), label_width), style=level_style(level))
    text.append(f"{count:>6} ", style="bold" if count else "dim")
    room = max(0, width - label_width - 8)
    if count and largest:
        text.append(BAR * max(1, round(room * count / largest)), style=level_style(level))
    return text


class LadderBars(Vertical):
    """Six rungs, 提醒 → 移交问责; choosing one opens the obligations at that level."""

    def compose(self) -> ComposeResult:
        for level in Level:
            yield Door(id=f"rung-{level.value}", classes="rung")

    def show(self, counts: dict[str, int]) -> None:
        largest = max(counts.values(), default=0)
        width = max(20, self.size.width or 40)
        for level in Level:
            n = counts.get(level.value, 0)
            self.query_one(f"#rung-{level.value}", Door).show(
                rung(level.value, n, largest, width), f"level:{level.value}"
            )
