"""The Grid widget: columns sized while filling, so a frame drawn before the table is idle
already shows whole cells; plain strings are never read as markup."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from duban.tui.widgets.grid import Grid


class GridApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Grid("#", "Owner", "Note", id="grid")


@pytest.mark.asyncio
async def test_a_frame_drawn_right_after_filling_shows_whole_cells() -> None:
    app = GridApp()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        grid = app.query_one(Grid)
        grid.fill(
            [
                ["44", "People's Government of Hunan Province", Text("overdue", style="red")],
                ["3", "湖南省生态环境厅", ""],
            ],
            keys=["a", "b"],
        )
        # Drawn at once, before the table has had an idle moment to measure anything.
        lines = [grid.render_line(y).text for y in range(3)]
        assert "44  People's Government of Hunan Province  overdue" in lines[1]
        assert "3   湖南省生态环境厅" in lines[2]
        assert [c.width for c in grid.ordered_columns] == [2, 37, 7]
        assert list(grid.rows) == ["a", "b"]


@pytest.mark.asyncio
async def test_square_brackets_in_data_are_shown_as_they_are() -> None:
    app = GridApp()
    async with app.run_test(size=(80, 10)) as pilot:
        grid = app.query_one(Grid)
        grid.fill([["1", "[bold]not markup[/bold]", "[紧急] 整改"]])
        await pilot.pause()
        line = grid.render_line(1).text
        assert "[bold]not markup[/bold]" in line and "[紧急] 整改" in line


@pytest.mark.asyncio
async def test_refilling_keeps_the_labels_and_fits_the_new_rows() -> None:
    app = GridApp()
    async with app.run_test(size=(80, 10)) as pilot:
        grid = app.query_one(Grid)
        grid.fill([["1", "a very long owner name indeed", "x"]])
        grid.fill([["2", "short", ""]])
        await pilot.pause()
        assert [c.label.plain for c in grid.ordered_columns] == ["#", "Owner", "Note"]
        assert [c.width for c in grid.ordered_columns] == [1, 5, 4]
        assert grid.row_count == 1
