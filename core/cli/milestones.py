"""``duban milestone move|done``: the dated deliverables of obligations."""

from __future__ import annotations

import click

from .context import Env, pass_env
from .output import emit_one, format_option


@click.group()
def milestone() -> None:
    """Milestones: the dated deliverables of obligations."""


@milestone.command("move")
@click.argument("milestone_id", metavar="ID", type=int)
@click.option("--due", required=True, metavar="DATE", help="The new due date (YYYY-MM-DD).")
@format_option("table", "json")
@pass_env
def milestone_move(env: Env, milestone_id: int, due: str, fmt: str) -> None:
    """Move a milestone's due date; calendars show it with a higher SEQUENCE."""
    from ..clock import parse_date
    from ..services.calendar import move_milestone

    day = parse_date(due, what="--due")
    with env.session() as session:
        ms = move_milestone(session=session, milestone_id=milestone_id, due=day)
        data = {"id": ms.id, "obligation": ms.obligation_id, "due": ms.due, "sequence": ms.sequence}
    emit_one(data, fmt)


@milestone.command("done")
@click.argument("milestone_id", metavar="ID", type=int)
@click.option("--on", "on", required=True, metavar="DATE", help="The day it was done (YYYY-MM-DD).")
@format_option("table", "json")
@pass_env
def milestone_done(env: Env, milestone_id: int, on: str, fmt: str) -> None:
    """Record the day a milestone was done (never later than today)."""
    from ..clock import parse_date
    from ..services.calendar import mark_milestone_done

    day = parse_date(on, what="--on")
    with env.session() as session:
        ms = mark_milestone_done(session=session, milestone_id=milestone_id, on=day)
        data = {
            "id": ms.id,
            "obligation": ms.obligation_id,
            "done_on": ms.done_on,
            "done_at": ms.done_at,
            "done_by": ms.done_by,
        }
    emit_one(data, fmt)
