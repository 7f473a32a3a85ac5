"""``duban audit verify|head|log``."""

from __future__ import annotations

import click

from ..clock import local_time
from ..errors import UserError
from ..i18n import t
from ..labels import action_label, entity_label
from .context import Env, pass_env
from .output import emit, emit_one, format_option


@click.group()
def audit() -> None:
    """The tamper-evident history of every change."""


def _witness(value: str) -> tuple[int, str]:
    seq, sep, digest = value.partition(":")
    digest = digest.strip().lower()
    if not sep or not seq.strip().isdigit() or len(digest) != 64:
        raise UserError(
            t("--witness: expected SEQ:HASH (from `duban audit head`), got {value!r}", value=value)
        )
    return int(seq), digest


@audit.command("verify")
@click.option(
    "--witness",
    "witnesses",
    multiple=True,
    metavar="SEQ:HASH",
    help="An earlier `duban audit head`; fail unless the chain still holds it (repeatable).",
)
@pass_env
def audit_verify(env: Env, witnesses: tuple[str, ...]) -> None:
    """Recompute the hash chain; exit non-zero at the first broken event."""
    from .. import audit as chain

    wanted = [_witness(w) for w in witnesses]
    with env.session(write=False) as session:
        checked, broken = chain.verify(session)
        missing = [
            (seq, why)
            for seq, digest in wanted
            if (why := chain.check_witness(session, seq, digest))
        ]
    if missing:
        seq, why = missing[0]
        click.echo(t("audit witness #{seq} fails: {why}", seq=seq, why=t(why)), err=True)
        raise click.exceptions.Exit(1)
    if broken is not None:
        click.echo(
            t(
                "audit chain broken at event #{seq} (id {id}): {why}",
                seq=broken.seq,
                id=broken.id,
                why=t(broken.why),
            ),
            err=True,
        )
        raise click.exceptions.Exit(1)
    click.echo(t("audit chain intact: {n} events", n=checked))


@audit.command("head")
@format_option("table", "json")
@pass_env
def audit_head(env: Env, fmt: str) -> None:
    """The newest event's sequence number, hash and time: keep it elsewhere as a witness."""
    from .. import audit as chain

    with env.session(write=False) as session:
        found = chain.head(session) or {"seq": 0, "hash": chain.GENESIS, "at": None}
    if fmt != "json":
        found = {**found, "at": local_time(found["at"])}
    emit_one(found, fmt)


@audit.command("log")
@click.option(
    "--entity", metavar="TYPE[:ID]", help="Only events about this entity, e.g. obligation:12."
)
@click.option("--actor", metavar="NAME", help="Only events by this actor.")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@format_option()
@pass_env
def audit_log(env: Env, entity: str | None, actor: str | None, limit: int, fmt: str) -> None:
    """Show history, newest first."""
    from sqlmodel import select

    from ..models import AuditEvent

    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if entity:
        kind, _, ident = entity.partition(":")
        if not kind:
            raise UserError(t("--entity: expected TYPE or TYPE:ID, got {value!r}", value=entity))
        query = query.where(AuditEvent.entity_type == kind)
        if ident:
            query = query.where(AuditEvent.entity_id == ident)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    raw = fmt == "json"
    with env.session(write=False) as session:
        rows = [
            {
                "seq": e.seq,
                "at": e.at.isoformat(timespec="seconds") if raw else local_time(e.at),
                "actor": e.actor,
                "os_user": e.os_user,
                "action": e.action if raw else action_label(e.action),
                "entity": f"{e.entity_type}:{e.entity_id or ''}"
                if raw
                else " ".join(filter(None, (entity_label(e.entity_type), e.entity_id))),
                "before": e.before,
                "after": e.after,
                "hash": e.hash,
            }
            for e in session.exec(query).all()
        ]
    emit(
        rows,
        [
            ("seq", "#"),
            ("at", t("Time")),
            ("actor", t("Actor")),
            ("os_user", t("OS user")),
            ("action", t("Action")),
            ("entity", t("Entity")),
        ],
        fmt,
    )
