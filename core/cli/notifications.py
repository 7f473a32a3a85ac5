"""``duban remind``, ``duban notifications``, ``duban inbox`` and ``duban scheduler``."""

from __future__ import annotations

import click

from ..i18n import t
from .context import Env, pass_env
from .output import emit, format_option

_REMIND_KEYS = ("subject", "owner", "channel", "occasion", "status")


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what is due; send nothing, write nothing.")
@format_option("table", "json")
@pass_env
def remind(env: Env, dry_run: bool, fmt: str) -> None:
    """Run one reminder pass now (or as of --as-of): send what fell due, retry what failed."""
    from ..notify.dispatch import run_pass

    env.ensure_schema()
    report = run_pass(engine=env.engine, clock=env.clock, actor=env.actor, dry_run=dry_run)
    rows = [{k: r[k] for k in _REMIND_KEYS} for r in report.rows]
    emit(
        rows,
        [
            ("subject", t("Message")),
            ("owner", t("Recipient")),
            ("channel", t("Channel")),
            ("occasion", t("Trigger")),
            ("status", t("Status")),
        ],
        fmt,
        max_width=60,
    )
    if fmt == "table":
        counts = report.counts
        if dry_run:
            click.echo(
                t(
                    "{due} due, {retry} to retry (dry run: nothing sent)",
                    due=counts["due"],
                    retry=counts["retry"],
                ),
                err=True,
            )
        else:
            click.echo(
                t(
                    "{delivered} delivered, {failed} failed, {deferred} deferred (quiet hours), "
                    "{digested} folded into digests",
                    delivered=counts["delivered"],
                    failed=counts["failed"],
                    deferred=counts["deferred"],
                    digested=counts["digested"],
                ),
                err=True,
            )


@click.command()
@click.option("--failed", is_flag=True, help="Only deliveries that failed and await a retry.")
@click.option("--owner", metavar="OWNER", help="Only notifications to this owner.")
@click.option("--status", metavar="S", help="pending, sending, delivered, failed or digested.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="At most this many, newest first.",
)
@format_option()
@pass_env
def notifications(
    env: Env, failed: bool, owner: str | None, status: str | None, limit: int, fmt: str
) -> None:
    """List the notification ledger: every reminder and notice, its channel and its fate."""
    from sqlmodel import select

    from ..models import Owner
    from ..notify.ledger import list_notifications
    from ..services.owners import resolve_owner

    with env.session(write=False) as session:
        owner_row = resolve_owner(session=session, ref=owner) if owner else None
        found = list_notifications(
            session=session, failed=failed, owner=owner_row, status=status, limit=limit
        )
        ids = {n.owner_id for n in found if n.owner_id}
        names = dict(session.exec(select(Owner.id, Owner.name).where(Owner.id.in_(ids))).all())
        rows = [
            {
                "id": n.id,
                "key": n.key,
                "created": n.created_at,
                "channel": n.channel,
                "owner": names.get(n.owner_id) if n.owner_id else n.recipient,
                "recipient": n.recipient,
                "occasion": n.occasion,
                "subject": (n.payload or {}).get("subject", n.subject),
                "status": n.status,
                "attempts": n.attempts,
                "last_error": n.last_error,
                "next_attempt": n.next_attempt_at,
                "delivered": n.delivered_at,
                "read": n.read_at,
            }
            for n in found
        ]
    emit(
        rows,
        [
            ("id", "ID"),
            ("channel", t("Channel")),
            ("owner", t("Recipient")),
            ("occasion", t("Trigger")),
            ("status", t("Status")),
            ("attempts", t("Attempts")),
            ("subject", t("Message")),
            ("last_error", t("Last error")),
        ],
        fmt,
        max_width=40,
    )


@click.command()
@click.option("--unread", is_flag=True, help="Only messages not yet read.")
@click.option(
    "--mark-read",
    "mark",
    multiple=True,
    type=int,
    metavar="ID",
    help="Mark this message read (repeatable).",
)
@format_option()
@pass_env
def inbox(env: Env, unread: bool, mark: tuple[int, ...], fmt: str) -> None:
    """Your in-app messages: reminders and escalation notices to you or your owner."""
    from ..clock import LOCAL_TZ
    from ..notify.inbox import inbox as inbox_rows
    from ..notify.inbox import mark_read

    if mark:
        with env.session() as session:
            done = mark_read(session=session, ids=mark)
        click.echo(t("{count} message(s) marked read", count=len(done)))
        return
    with env.session(write=False) as session:
        rows = [
            {
                "id": n.id,
                "at": n.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
                "subject": (n.payload or {}).get("subject", n.subject),
                "text": (n.payload or {}).get("text", ""),
                "occasion": n.occasion,
                "read": n.read_at is not None,
            }
            for n in inbox_rows(session=session, unread=unread)
        ]
    emit(
        rows,
        [("id", "ID"), ("at", t("Time")), ("read", t("Read")), ("subject", t("Message"))],
        fmt,
        max_width=70,
    )


@click.command("scheduler")
@pass_env
def scheduler_cmd(env: Env) -> None:
    """Run reminder passes (every 15 minutes) and the daily escalation sweep until stopped."""
    from ..errors import UserError

    if env.as_of_given:
        raise UserError(
            t(
                "--as-of: the scheduler runs on the real clock; "
                "use `duban remind --as-of DATE` for one pass as of a date"
            )
        )
    from ..scheduler import Scheduler, configure_logging
    from ..services.base import require_coordinator

    configure_logging()
    with env.session(write=False) as session:
        require_coordinator(session)  # fail at start, not at the first pass
    Scheduler(engine=env.engine, clock=env.clock, actor=env.actor).run_forever()
