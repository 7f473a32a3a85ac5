"""The ``duban`` console script: bare ``duban`` opens the TUI, anything else is core's CLI.

This module imports no textual, so ``duban list`` stays lean; the app is imported only
when it is about to run.
"""

from __future__ import annotations

import sys

import click

from duban.core import cli as core_cli
from duban.core.cli.context import Env, pass_env


def launch(env: Env) -> None:
    """Open the TUI on ``env``'s database, creating it with the built-in plan on first run."""
    from duban.core.services.plans import initialise

    with env.session() as session:
        initialise(session=session)
    from .app import run

    run(env)


@click.command("tui")
@pass_env
def tui(env: Env) -> None:
    """Open the terminal UI (the same as bare `duban`)."""
    launch(env)


def main() -> None:
    core_cli.default_action = launch
    core_cli.cli.add_command(tui)
    sys.exit(core_cli.main())
