"""Plugins: which loaded, which failed and why, their hooks, indicators and rules."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from duban.core.i18n import t

from .. import data
from ..text import ellipsize
from .base import DubanScreen

STATUS_STYLES = {"ok": "green", "failed": "bold red", "disabled": "dim"}


class PluginsScreen(DubanScreen):
    TITLE_MSGID = "Plugins"

    def body(self) -> ComposeResult:
        with VerticalScroll(id="plugins"):
            yield Static(t("Plugins"), classes="heading")
            yield DataTable(id="plugin-table", cursor_type="row", show_cursor=False)
            yield Static(t("Indicators"), classes="heading")
            yield DataTable(id="indicator-table", cursor_type="row", show_cursor=False)
            yield Static(t("Escalation rules"), classes="heading")
            yield DataTable(id="rule-table", cursor_type="row", show_cursor=False)

    def on_mount(self) -> None:
        self.query_one("#plugin-table", DataTable).add_columns(
            t("Plugin"), t("Version"), t("Status"), t("Hooks"), t("Error"))
        self.query_one("#indicator-table", DataTable).add_columns(
            t("Indicator"), t("Name"), t("Unit"), t("Better"), t("Reported"), t("Plugin"))
        self.query_one("#rule-table", DataTable).add_columns(
            t("Rule"), t("Name"), t("Plugin"), t("Defaults"))
        super().on_mount()

    def fetch(self, session: Session) -> dict[str, Any]:
        info = data.plugins()
        screens = getattr(self.app, "plugin_screens", {})
        info["screens"] = sorted(screens)
        return info

    def show(self, d: dict[str, Any]) -> None:
        table = self.query_one("#plugin-table", DataTable)
        table.clear()
        for p in d["plugins"]:
            status = t(p["status"]) + (f" ({t('built in')})" if p["builtin"] else "")
            table.add_row(p["name"], p["version"], Text(status, style=STATUS_STYLES.get(p["status"], "")),
                          ellipsize(", ".join(h.removeprefix("duban_") for h in p["hooks"]), 50),
                          ellipsize(p["error"], 40))
        table = self.query_one("#indicator-table", DataTable)
        table.clear()
        for i in d["indicators"]:
            table.add_row(i["key"], ellipsize(i["name"], 36), i["unit"], t(i["direction"]),
                          t(i["frequency"]), i["plugin"])
        table = self.query_one("#rule-table", DataTable)
        table.clear()
        for r in d["rules"]:
            defaults = ", ".join(f"{k}={v}" for k, v in r["defaults"].items())
            table.add_row(r["key"], ellipsize(r["name"], 36), r["plugin"], ellipsize(defaults, 40))
