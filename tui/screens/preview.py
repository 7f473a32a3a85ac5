"""A plan document's import preview: every task with its leads, dates, targets and parts, and
what the parser did not read, before anything is written (``duban import plan --dry-run``)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from duban.core.i18n import t
from duban.core.labels import route_text

_SIGNS = {"gte": "≥", "lte": "≤", "eq": "=", "decrease_pct": "↓", "increase_pct": "↑"}


def preview_lines(summary: dict[str, Any]) -> list[str]:
    """The preview as lines of text: the ``--dry-run`` summary, parts indented under tasks."""
    plan = summary["plan"]
    lines = [
        f"{plan.get('title')}  {plan.get('issued_on') or ''} → {plan.get('valid_until') or ''}",
        t("Issued by: {names}", names="、".join(plan.get("issuers") or [])),
        "",
    ]

    def task(item: dict[str, Any], indent: str) -> None:
        lines.append(f"{indent}{item['code']} {item['title']}")
        pad = indent + "    "
        lines.append(pad + t("Lead: {names}", names="、".join(item["lead"]) or "—"))
        if item["participants"]:
            lines.append(pad + t("Participants: {names}", names="、".join(item["participants"])))
        for m in item["milestones"]:
            every = f" ({m['recurrence']})" if m.get("recurrence") else ""
            lines.append(f"{pad}{m['due']}{every} {m['text']}")
        for g in item["targets"]:
            value = "" if g["value"] is None else g["value"]
            unit = g["unit"] if value != "" and g["unit"] not in (None, "class") else ""
            sign = _SIGNS.get(g["comparator"], g["comparator"])
            either = (
                " " + t("or {route}", route=route_text(g["alternative"]))
                if g.get("alternative")
                else ""
            )
            lines.append(f"{pad}◎ {g['name']} {sign}{value}{unit}{either} ({g['due']})")
        for part in item.get("parts") or []:
            task(part, pad)

    for item in summary["tasks"]:
        task(item, "")
    if summary["unparsed"]:
        lines += ["", t("Not interpreted ({n}) — review these:", n=len(summary["unparsed"]))]
        for u in summary["unparsed"]:
            where = " ".join(
                str(x) for x in (u.get("line") and f"L{u['line']}", u.get("task")) if x
            )
            text = f" «{u['text']}»" if u.get("text") else ""
            lines.append(f"  {where} {u['why']}{text}".rstrip())
    return lines


class PlanPreview(ModalScreen[bool]):
    """Dismissed with True to import, False to leave the database as it is."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="preview.cancel")
    ]

    def __init__(self, name: str, summary: dict[str, Any]) -> None:
        super().__init__()
        self.file_name, self.summary = name, summary

    def compose(self) -> ComposeResult:
        with Vertical(id="preview"):
            yield Label(
                t(
                    "Import {path}: {tasks} tasks, {unparsed} items to review",
                    path=self.file_name,
                    tasks=len(self.summary["tasks"]),
                    unparsed=len(self.summary["unparsed"]),
                ),
                id="preview-title",
            )
            with VerticalScroll(id="preview-body"):
                yield Static(
                    "\n".join(preview_lines(self.summary)), id="preview-text", markup=False
                )
            with Horizontal(id="preview-buttons"):
                yield Button(t("Import"), id="preview-import", variant="primary")
                yield Button(t("Cancel"), id="preview-cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "preview-import")

    def action_cancel(self) -> None:
        self.dismiss(False)
