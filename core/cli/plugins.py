"""``duban plugins``."""

from __future__ import annotations

from dataclasses import asdict

import click

from ..i18n import t
from .output import emit, format_option


@click.command("plugins")
@click.option("--hook", metavar="NAME", help="Only plugins implementing this hook.")
@click.option("--all", "show_all", is_flag=True, help="Include core's own built-in plugin.")
@format_option()
def plugins_cmd(hook: str | None, show_all: bool, fmt: str) -> None:
    """List plugins, their hooks and whether they loaded."""
    from ..errors import UserError
    from ..plugins import get_host

    host = get_host()
    # Registries are built on demand; build them so failing register hooks show up.
    registries = {
        "indicators": host.indicators(),
        "rules": host.rules(),
        "importers": host.importers(),
        "site_kinds": host.site_kinds(),
        "notifiers": host.notifiers(),
    }
    infos = [host.reported(info) for info in host.plugins.values()]
    if hook:
        if not hasattr(host.pm.hook, hook):
            raise UserError(t("--hook: unknown hook {name!r}", name=hook))
        wanted = set(host.implementers(hook))
        infos = [p for p in infos if p.name in wanted]
    if not show_all:
        infos = [p for p in infos if not p.builtin or hook]
    rows = []
    for info in infos:
        row = asdict(info)
        for kind, items in registries.items():
            row[kind] = sorted(key for key, item in items.items() if item.plugin == info.name)
        rows.append(row)
    emit(
        rows,
        [
            ("name", t("Name")),
            ("version", t("Version")),
            ("status", t("Status")),
            ("hooks", t("Hooks")),
            ("error", t("Error")),
        ],
        fmt,
        max_width=60,
    )
