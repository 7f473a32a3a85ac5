"""``duban export`` and ``duban import KIND FILE``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .context import Env, pass_env
from .output import emit_one, format_option


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@pass_env
def export(env: Env, fmt: str, output: Path | None) -> None:
    """Export every obligation, one ``show``-shaped JSON object per line."""
    from ..services.transfer import export_rows

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
@format_option("table", "json")
@pass_env
def import_obligations_cmd(env: Env, path: Path, fmt: str) -> None:
    """Import obligations from a JSONL file in the `duban export` format (all or nothing)."""
    from ..services.transfer import import_obligations

    with env.session() as session:
        summary = import_obligations(session=session, path=path)
    emit_one(summary, fmt)
