"""``duban export`` and ``duban import KIND FILE``."""

from __future__ import annotations

import json
import sys
from importlib import import_module
from pathlib import Path

import click

from .context import Env, pass_env
from .helptext import localise
from .output import emit_one, format_option


class ExportGroup(click.Group):
    """Bare ``duban export`` writes JSON lines; subcommands (``ics`` …) write other formats."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(EXPORTS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in EXPORTS:
            return None
        module, attr = EXPORTS[name].split(":")
        return localise(getattr(import_module(f"duban.core.cli.{module}"), attr))


# Other export formats: name -> "module:attribute" under duban.core.cli.
EXPORTS: dict[str, str] = {"ics": "calendar_feeds:ics"}


@click.group(cls=ExportGroup, invoke_without_command=True)
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.pass_context
def export(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export every obligation, one ``show``-shaped JSON object per line."""
    from ..services.transfer import export_rows

    if ctx.invoked_subcommand is not None:
        return
    env: Env = ctx.find_object(Env)
    with env.session(write=False) as session:
        handle = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for row in export_rows(session=session, as_of=env.today):
                handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        finally:
            if output:
                handle.close()


@click.command("obligations")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--update",
    is_flag=True,
    help="Bring obligations already there (same plan and code) in line with the file.",
)
@format_option("table", "json")
@pass_env
def import_obligations_cmd(env: Env, path: Path, update: bool, fmt: str) -> None:
    """Import obligations from a JSONL file in the `duban export` format (all or nothing).

    Importing the same file again changes nothing; an obligation that differs from the
    file stops the import (exit 5) unless --update is given."""
    from ..services.transfer import import_obligations

    with env.session() as session:
        summary = import_obligations(session=session, path=path, update=update)
    emit_one(summary, fmt)
