"""A small chart of a target's readings against the straight path to it."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual.widgets import Static

from duban.core.i18n import t

from ..text import STATUS_STYLES

HEIGHT = 6


def plot(
    readings: list[tuple[date, float]],
    baseline: tuple[date, float] | None,
    target: tuple[date, float] | None,
    as_of: date,
    width: int,
    status: str = "no_data",
) -> Text:
    """Readings (●) and the straight path from the baseline to the target (·) on one grid;
    the target itself is ◎ at its due date and today's column is marked on the axis."""
    if not readings and not (baseline and target):
        return Text(t("no readings yet"), style="dim")
    points = list(readings)
    dates = [d for d, _ in points] + [as_of]
    values = [v for _, v in points]
    for anchor in (baseline, target):
        if anchor is not None:
            dates.append(anchor[0])
            values.append(anchor[1])
    x0, x1 = min(dates), max(dates)
    lo, hi = min(values), max(values)
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    label_width = max(len(f"{hi:g}"), len(f"{lo:g}")) + 1
    cols = max(10, width - label_width - 1)
    span = max(1, (x1 - x0).days)

    def col(day: date) -> int:
        return min(cols - 1, round((day - x0).days / span * (cols - 1)))

    def row(value: float) -> int:
        return min(HEIGHT - 1, round((hi - value) / (hi - lo) * (HEIGHT - 1)))

    grid = [[(" ", "")] * cols for _ in range(HEIGHT)]
    if baseline and target:
        (d0, v0), (d1, v1) = baseline, target
        for c in range(col(d0), col(d1) + 1):
            frac = (c - col(d0)) / max(1, col(d1) - col(d0))
            grid[row(v0 + (v1 - v0) * frac)][c] = ("·", "dim")
    if target:
        grid[row(target[1])][col(target[0])] = ("◎", "bold")
    style = STATUS_STYLES.get(status, "")
    for day, value in points:
        grid[row(value)][col(day)] = ("●", style)
    out = Text()
    for r, cells in enumerate(grid):
        label = f"{hi:g}" if r == 0 else f"{lo:g}" if r == HEIGHT - 1 else ""
        out.append(label.rjust(label_width) + "┤", style="dim")
        for char, st in cells:
            out.append(char, style=st)
        out.append("\n")
    axis = [" "] * cols
    axis[col(as_of)] = "▲"
    out.append(" " * (label_width + 1) + "".join(axis) + "\n", style="dim")
    left, right = x0.isoformat(), x1.isoformat()
    gap = max(1, cols - len(left) - len(right))
    out.append(" " * (label_width + 1) + left + " " * gap + right, style="dim")
    return out


class TargetChart(Static):
    def __init__(self, target: dict, as_of: date, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.target = target
        self.as_of = as_of

    def on_resize(self) -> None:
        self._draw()

    def on_mount(self) -> None:
        self._draw()

    def _draw(self) -> None:
        tg = self.target
        goal = (tg["due"], tg["value"]) if tg["value"] is not None else None
        self.update(
            plot(
                tg["readings"],
                tg["baseline"],
                goal,
                self.as_of,
                self.size.width or 50,
                tg["status"]["status"],
            )
        )
