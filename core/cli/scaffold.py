"""``duban plugin new``: scaffold an installable plugin package."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

import click

from ..errors import UserError
from ..i18n import t

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
# template -> path in the new package ({package} is the import name)
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "{package}/__init__.py",
    "test_plugin.py.tmpl": "tests/test_plugin.py",
}


@click.group()
def plugin() -> None:
    """Tools for plugin authors."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to create it (default: ./duban-NAME).",
)
@click.option("--title", help="What the plugin covers, in English (default: from NAME).")
@click.option("--title-zh", help="The same in Chinese (default: the English title).")
def new(name: str, directory: Path | None, title: str | None, title_zh: str | None) -> None:
    """Create a complete plugin package NAME: entry point, one indicator, one escalation rule,
    one importer, a README and tests that use duban's pytest fixtures."""
    if not _NAME.match(name):
        raise UserError(
            t(
                "NAME: use lower-case letters, digits and _ (start with a letter), not {name!r}",
                name=name,
            )
        )
    dist = f"duban-{name.replace('_', '-')}"
    target = directory or Path(dist)
    if target.exists() and any(target.iterdir()):
        raise UserError(t("{path}: already exists and is not empty", path=target))
    title = title or name.replace("_", " ").capitalize()
    values = {
        "name": name,
        "dist": dist,
        "package": f"duban_{name}",
        "title": title,
        "title_zh": title_zh or title,
    }
    folder = resources.files("duban.core") / "data" / "scaffold"
    for template, relative in FILES.items():
        path = target / relative.format(package=values["package"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            Template(folder.joinpath(template).read_text("utf-8")).substitute(values),
            encoding="utf-8",
        )
    click.echo(t("Created {dist} in {path}; next: pip install -e {path}", dist=dist, path=target))
