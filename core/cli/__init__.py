"""The ``duban`` command line.

Commands live in small modules and are imported only when invoked (``COMMANDS``), so that
``duban list`` starts fast. Plugins add commands through ``duban_register_commands``;
they are loaded only when a name is not a core command, or for ``--help``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any

import click

from ..errors import UserError
from ..i18n import set_language, t
from . import clicktext
from .context import Env
from .helptext import HelpContext, localise, placeholders

clicktext.install()

# name -> "module:attribute" under duban.core.cli
COMMANDS: dict[str, str] = {
    "init": "init:init",
    "add": "add:add",
    "list": "listing:list_cmd",
    "show": "listing:show",
    "history": "history:history",
    "owner": "owners:owner",
    "user": "users:user",
    "plugins": "plugins:plugins_cmd",
    "plugin": "scaffold:plugin",
    "audit": "audit:audit",
    "export": "transfer:export",
    "import": "imports:import_group",
    "feed": "calendar_feeds:feed",
    "serve": "calendar_feeds:serve",
    "milestone": "milestones:milestone",
    "record": "measurements:record",
    "target": "measurements:target",
    "status": "measurements:status",
    "remind": "notifications:remind",
    "notifications": "notifications:notifications",
    "inbox": "notifications:inbox",
    "scheduler": "notifications:scheduler_cmd",
    "sweep": "escalations:sweep",
    "escalations": "escalations:escalations",
    "ack": "escalations:ack",
    "escalate": "escalations:escalate",
    "notice": "escalations:notice",
    "submit": "closeout:submit",
    "verify": "closeout:verify",
    "reject": "closeout:reject",
    "split": "closeout:split",
    "scorecard": "closeout:scorecard",
    "report": "report:report",
}


class LazyGroup(click.Group):
    context_class = HelpContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plugins_loaded = False

    def _load_plugins(self) -> None:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            from ..plugins import get_host

            get_host().call("duban_register_commands", cli=self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return localise(self.commands[name])
        if name in COMMANDS:
            module, attr = COMMANDS[name].split(":")
            command = getattr(import_module(f"{__name__}.{module}"), attr)
            self.add_command(command, name)
            return localise(command)
        self._load_plugins()
        command = self.commands.get(name)
        return localise(command) if command is not None else None


# Set by the outermost entry point (duban.tui.entry): what bare `duban` does.
default_action: Callable[[Env], None] | None = None


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="DUBAN_DATABASE_URL",
    help="Database URL or SQLite file (default: user data directory).",
)
@click.option(
    "--as", "actor", metavar="NAME", help="Act as this user (default: DUBAN_USER or the OS user)."
)
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    envvar="DUBAN_AS_OF",
    help="Evaluate the world as of this date (YYYY-MM-DD) or instant.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    envvar="DUBAN_LANG",
    is_eager=True,
    expose_value=False,
    # Eager, so that a --help after it is already in that language.
    callback=lambda ctx, param, value: set_language(value),
    help="Language of output (default: locale; DUBAN_LANG).",
)
@click.version_option(package_name="duban", prog_name="duban", message=clicktext.VERSION)
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, actor: str | None, as_of: str | None) -> None:
    """duban (督办): who must do what, by when, is it on track, and what happens when it isn't."""
    ctx.obj = Env.create(db_url=db_url, actor=actor, as_of=as_of)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        if default_action is None:
            click.echo(ctx.get_help())
        else:
            default_action(ctx.obj)


def _language_asked(args: list[str]) -> str | None:
    """``--lang``'s value, read before click parses: a mistake on the same line is reported
    while parsing, before the option's callback runs."""
    for n, arg in enumerate(args):
        if arg == "--":
            break
        if arg.startswith("--lang="):
            return arg.removeprefix("--lang=")
        if arg == "--lang" and n + 1 < len(args):
            return args[n + 1]
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user mistakes become one line on stderr and a non-zero exit code."""
    lang = _language_asked(sys.argv[1:] if argv is None else argv)
    if lang is not None:
        set_language(lang)
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        result = cli.main(args=argv, prog_name="duban", standalone_mode=False)
    except UserError as exc:
        click.echo(f"duban: {t('error')}: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo(t("Aborted."), err=True)
        return 130
    except click.UsageError as exc:
        hint = f" ({t('see')} `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        message = placeholders(exc.format_message())
        click.echo(f"duban: {t('error')}: {message}{hint}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"duban: {t('error')}: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except Exception as exc:
        # The database's own refusal (PostgreSQL grants and row-level security), 42501.
        if getattr(getattr(exc, "orig", None), "sqlstate", None) != "42501":
            raise
        why = str(exc.orig).strip().splitlines()[0]  # type: ignore[attr-defined]
        click.echo(f"duban: {t('error')}: {t('the database refused: {why}', why=why)}", err=True)
        return 3
    return result if isinstance(result, int) else 0
