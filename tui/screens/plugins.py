"""Plugins: which loaded, which failed and why, their hooks, indicators and rules."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from duban.core.i18n import t
from duban.core.labels import domain_label, unit_label

from .. import data
from ..text import ellipsize
from ..widgets.grid import Grid
from .base import DubanScreen

STATUS_STYLES = {"ok": "green", "failed": "bold red", "disabled": "dim"}


def _plugin(name: str) -> str:
    """A plugin by the domain it serves (水环境 water), core's own as built in."""
    if name == "core":
        return t("built in")
    label = domain_label(name)
    return name if label == name else f"{label} {name}"


class PluginsScreen(DubanScreen):
    TITLE_MSGID = "Plugins"

    def body(self) -> ComposeResult:
        with VerticalScroll(id="plugins"):
            yield Static(t("Plugins"), classes="heading")
            yield Grid(
                t("Plugin"),
                t("Version"),
                t("Status"),
                t("Hooks"),
                t("Error"),
                id="plugin-table",
                cursor_type="row",
                show_cursor=False,
            )
            yield Static(t("Indicators"), classes="heading")
            yield Grid(
                t("Indicator"),
                t("Name"),
                t("Unit"),
                t("Better"),
                t("Reported"),
                t("Plugin"),
                id="indicator-table",
                cursor_type="row",
                show_cursor=False,
            )
            yield Static(t("Escalation rules"), classes="heading")
            yield Grid(
                t("Rule"),
                t("Name"),
                t("Plugin"),
                t("Defaults"),
                id="rule-table",
                cursor_type="row",
                show_cursor=False,
            )

    def fetch(self, session: Session) -> dict[str, Any]:
        info = data.plugins()
        screens = getattr(self.app, "plugin_screens", {})
        info["screens"] = sorted(screens)
        return info

    def show(self, d: dict[str, Any]) -> None:
        self.query_one("#plugin-table", Grid).fill(
            [
                [
                    _plugin(p["name"]),
                    p["version"],
                    Text(
                        t(p["status"]) + (f" ({t('built in')})" if p["builtin"] else ""),
                        style=STATUS_STYLES.get(p["status"], ""),
                    ),
                    ellipsize(", ".join(h.removeprefix("duban_") for h in p["hooks"]), 50),
                    ellipsize(p["error"], 40),
                ]
                for p in d["plugins"]
            ]
        )
        self.query_one("#indicator-table", Grid).fill(
            [
                [
                    i["key"],
                    ellipsize(i["name"], 36),
                    unit_label(i["unit"]),
                    t(i["direction"]),
                    t(i["frequency"]),
                    _plugin(i["plugin"]),
                ]
                for i in d["indicators"]
            ]
        )
        self.query_one("#rule-table", Grid).fill(
            [
                [
                    r["key"],
                    ellipsize(r["name"], 36),
                    _plugin(r["plugin"]),
                    ellipsize(", ".join(f"{k}={v}" for k, v in r["defaults"].items()), 40),
                ]
                for r in d["rules"]
            ]
        )
