"""``duban history ID``."""

from __future__ import annotations

import click

from ..clock import local_time
from ..i18n import t
from ..labels import action_label
from .context import Env, pass_env
from .output import emit, format_option


@click.command()
@click.argument("ref", metavar="ID")
@format_option("table", "json")
@pass_env
def history(env: Env, ref: str, fmt: str) -> None:
    """Every event about one obligation, oldest first (by id, or by code when unique)."""
    from ..names import obligation_id
    from ..services.history import events

    with env.reading() as db:
        rows = [
            {**e, "at": e["at"].isoformat(timespec="seconds")}
            if fmt == "json"
            else {**e, "at": local_time(e["at"]), "action": action_label(e["action"])}
            for e in events(db, obligation_id(db, ref))
        ]
    emit(
        rows,
        [
            ("at", t("Time")),
            ("actor", t("Actor")),
            ("action", t("Action")),
            ("summary", t("Summary")),
        ],
        fmt,
        max_width=60,
    )
