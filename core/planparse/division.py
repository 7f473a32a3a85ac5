"""Division-of-work tables (重点任务分工表): 序号 / 重点任务 / 牵头单位 / 配合单位 / 完成时限, in a
.docx or as a spreadsheet. Each row is a task; its cells are read by the rules of the text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .documents import Rows

# column -> the headers that name it (compared without spaces or a bracketed note)
HEADERS = {
    "number": ("序号", "编号"),
    "task": (
        "重点任务",
        "主要任务",
        "工作任务",
        "任务",
        "任务内容",
        "工作内容",
        "重点工作",
        "具体任务",
    ),
    "lead": ("牵头单位", "牵头部门", "责任单位", "责任部门", "主办单位"),
    "participants": ("配合单位", "配合部门", "参与单位", "协办单位", "协同单位"),
    "due": ("完成时限", "完成时间", "时限", "时限要求", "时间节点", "完成期限"),
}


@dataclass
class DivisionRow:
    line: int | None  # in the file; None in a Word table
    number: str
    task: str
    lead: str
    participants: str
    due: str


def _header(cells: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = re.sub(r"\s+|[（(][^）)]*[）)]$", "", cell)
        for column, names in HEADERS.items():
            if name in names and column not in found:
                found[column] = i
    return found


def division_rows(table: Rows) -> tuple[list[str], list[DivisionRow]] | None:
    """(the lines above its header — a title, say — and its rows) if ``table`` is a division of
    work: a header naming at least the task and its lead among its first rows; else None."""
    for i, (_, cells) in enumerate(table[:6]):
        columns = _header(cells)
        if "task" not in columns or "lead" not in columns:
            continue
        above = [" ".join(c for c in dict.fromkeys(cells) if c) for _, cells in table[:i]]
        rows = []
        for line, cells in table[i + 1 :]:
            value = {
                column: cells[index].strip() if index < len(cells) else ""
                for column, index in columns.items()
            }
            if value["task"]:
                rows.append(
                    DivisionRow(
                        line,
                        value.get("number", ""),
                        value["task"],
                        value["lead"],
                        value.get("participants", ""),
                        value.get("due", ""),
                    )
                )
        return above, rows
    return None
