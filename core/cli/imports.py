"""``duban import KIND FILE``: core's importers plus every importer a plugin registers."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

import click

from ..errors import UserError
from ..i18n import pick, t
from .context import Env, pass_env
from .helptext import localise
from .output import emit_one, format_option, sheet_option

# Core's own import commands: name -> "module:attribute" under duban.core.cli.
IMPORTS: dict[str, str] = {
    "obligations": "transfer:import_obligations_cmd",
    "measurements": "measurements:import_measurements_cmd",
    "plan": "plans:import_plan_cmd",
}


def _importer_command(key: str) -> click.Command:
    """A generic command for an importer registered through ``duban_register_importers``."""

    @click.command(key)
    @click.argument("path", type=click.Path(path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
    @sheet_option
    @format_option("table", "json")
    @pass_env
    def run(env: Env, path: Path, dry_run: bool, sheet: str | None, fmt: str) -> None:
        from ..plugins import get_host
        from ..spreadsheet_reader import sheet_option as reading

        importer = get_host().importers()[key]
        if importer.extensions and path.suffix.lower() not in importer.extensions:
            raise UserError(
                t(
                    "{path}: {kind} imports take {exts} files",
                    path=path,
                    kind=key,
                    exts=", ".join(importer.extensions),
                )
            )
        if not path.is_file():
            raise UserError(t("{path}: no such file", path=path))
        with reading(sheet), env.session(write=not dry_run) as session:
            summary = importer.run(session=session, path=path, dry_run=dry_run)
        emit_one(dict(summary), fmt)

    return run


class ImportGroup(click.Group):
    def _registered(self) -> dict[str, Any]:
        from ..plugins import get_host

        return get_host().importers()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(IMPORTS) | set(self._registered()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in IMPORTS:
            module, attr = IMPORTS[name].split(":")
            return localise(getattr(import_module(f"duban.core.cli.{module}"), attr))
        importer = self._registered().get(name)
        if importer is None:
            return None
        command = _importer_command(name)
        command.help = pick(importer.name, importer.name_en) + (
            f"\n\n{t(importer.description)}" if importer.description else ""
        )
        return localise(command)


@click.group("import", cls=ImportGroup)
def import_group() -> None:
    """Import a file: obligations, measurements, a plan, or a plugin's format."""
