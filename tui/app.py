"""The Textual application."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from duban.core.cli.context import Env
from duban.core.i18n import t


class DubanApp(App):
    TITLE = "duban"

    def __init__(self, env: Env) -> None:
        super().__init__()
        self.env = env

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(t("duban"))
        yield Footer()


def create_app(env: Env) -> DubanApp:
    return DubanApp(env)


def run(env: Env) -> None:
    create_app(env).run()
