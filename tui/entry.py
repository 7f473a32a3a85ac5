"""The ``duban`` console script: bare ``duban`` opens the TUI, anything else is core's CLI.

This module imports no textual, so ``duban list`` stays lean; the app is imported only
when it is about to run.
"""

from __future__ import annotations

import sys

import click

from duban.core import cli as core_cli
from duban.core.cli.context import Env, pass_env
from duban.core.i18n import add_catalog

add_catalog("duban.tui")  # the `tui` command's help, read before the app is imported


def launch(env: Env) -> None:
    """Open the TUI on ``env``'s database, creating it with the built-in plan on first run.

    The first screen's figures are read in a thread while textual loads (``overview``), and
    the ORM is imported only when the database still has to be created."""
    if env.claimed and env.url.startswith("postgresql"):
        env.actor  # noqa: B018  (refuses --as naming another login before the screen opens)
    if not _initialised(env.url):
        from duban.core.services.plans import initialise

        with env.session() as session:
            initialise(session=session)
    from .overview import prefetch

    early = prefetch(env)
    from .app import run

    run(env, early=early)


def _initialised(url: str) -> bool:
    from duban.core.migrations import HEAD
    from duban.core.queries import lean_connect

    lean = lean_connect(url, HEAD)
    if lean is None:
        return False
    with lean:
        return lean.one("SELECT value FROM setting WHERE key = 'initialised'") is not None


@click.command("tui")
@pass_env
def tui(env: Env) -> None:
    """Open the terminal UI (the same as bare `duban`)."""
    launch(env)


def main() -> None:
    core_cli.default_action = launch
    core_cli.cli.add_command(tui)
    sys.exit(core_cli.main())
