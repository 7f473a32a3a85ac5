"""Calendars: ``duban export ics``, ``duban feed add|list|revoke|rotate`` and ``duban serve``."""

from __future__ import annotations

from pathlib import Path

import click

from ..i18n import t
from .context import Env, pass_env
from .output import emit, emit_one, format_option

ROLES = click.Choice(["lead", "participant", "implementer"])
LANGS = click.Choice(["zh", "en"])


@click.command("ics")
@click.option(
    "--owner", metavar="OWNER", help="Deadlines of obligations this owner is assigned to."
)
@click.option("--role", type=ROLES, help="With --owner: only in this role.")
@click.option("--region", metavar="R", help="Obligations of this region and its sub-regions.")
@click.option("--domain", metavar="D", help="Obligations of this domain.")
@click.option("--plan", metavar="KEY", help="Obligations of this plan.")
@click.option("--lang", type=LANGS, help="Language of the calendar (default: --lang of duban).")
@click.option("--todo", is_flag=True, help="Write VTODO tasks instead of all-day events.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .ics file to write.",
)
@pass_env
def ics(
    env: Env,
    owner: str | None,
    role: str | None,
    region: str | None,
    domain: str | None,
    plan: str | None,
    lang: str | None,
    todo: bool,
    output: Path,
) -> None:
    """Write the deadlines in scope as an iCalendar file (RFC 5545)."""
    from ..errors import UserError
    from ..services.calendar import render, resolve_scope

    with env.session(write=False) as session:
        scope = resolve_scope(
            session=session,
            owner=owner,
            role=role,
            region=region,
            domain=domain,
            plan=plan,
            lang=lang,
        )
        calendar = render(session=session, scope=scope, todo=todo)
    try:
        output.write_bytes(calendar.body)
    except OSError as exc:
        raise UserError(
            t("{path}: cannot write: {why}", path=output, why=exc.strerror or exc)
        ) from None
    click.echo(t("{count} deadlines written to {path}", count=calendar.events, path=output))


@click.group()
def feed() -> None:
    """Calendar subscriptions: secret URLs that calendar apps poll."""


def _base_url(env: Env, value: str | None) -> str:
    from ..services.feeds import check_base_url

    return check_base_url(value or env.settings.calendar.base_url)


@feed.command("add")
@click.option(
    "--owner", metavar="OWNER", help="Deadlines of obligations this owner is assigned to."
)
@click.option("--region", metavar="R", help="Obligations of this region and its sub-regions.")
@click.option("--domain", metavar="D", help="Obligations of this domain.")
@click.option("--all", "all_", is_flag=True, help="Every obligation.")
@click.option("--role", type=ROLES, help="With --owner: only in this role.")
@click.option("--plan", metavar="KEY", help="Only obligations of this plan.")
@click.option("--name", metavar="N", help="Calendar name shown in apps (default: from the scope).")
@click.option("--lang", type=LANGS, help="Language of the calendar (default: --lang of duban).")
@click.option(
    "--base-url",
    metavar="URL",
    help="Public URL of `duban serve` (default: [calendar] base_url or http://127.0.0.1:8765).",
)
@format_option("table", "json")
@pass_env
def feed_add(
    env: Env,
    owner: str | None,
    region: str | None,
    domain: str | None,
    all_: bool,
    role: str | None,
    plan: str | None,
    name: str | None,
    lang: str | None,
    base_url: str | None,
    fmt: str,
) -> None:
    """Create a feed; prints its id and URL (the secret is shown only now)."""
    from ..errors import UserError
    from ..services.calendar import resolve_scope
    from ..services.feeds import add_feed, feed_urls

    chosen = [
        flag
        for flag, value in (
            ("--owner", owner),
            ("--region", region),
            ("--domain", domain),
            ("--all", all_),
        )
        if value
    ]
    if len(chosen) != 1:
        raise UserError(t("feed add: give exactly one of --owner, --region, --domain or --all"))
    base = _base_url(env, base_url)
    with env.session() as session:
        scope = resolve_scope(
            session=session,
            owner=owner,
            role=role,
            region=region,
            domain=domain,
            plan=plan,
            lang=lang,
            name=name,
        )
        row, token = add_feed(session=session, scope=scope)
        feed_id = row.id
    emit_one({"id": feed_id, **feed_urls(base, token)}, fmt)


@feed.command("list")
@format_option()
@pass_env
def feed_list(env: Env, fmt: str) -> None:
    """List feeds (never their secrets)."""
    from ..services.feeds import list_feeds

    with env.session(write=False) as session:
        rows = list_feeds(session=session)
    if fmt == "table":
        from ..clock import local_time

        rows = [
            {
                **r,
                "created_at": local_time(r["created_at"]),
                "revoked_at": local_time(r["revoked_at"]),
            }
            for r in rows
        ]
    emit(
        rows,
        [
            ("id", "ID"),
            ("name", t("Name")),
            ("scope_label", t("Scope")),
            ("created_by", t("Created by")),
            ("created_at", t("Created")),
            ("revoked_at", t("Revoked")),
        ],
        fmt,
    )


@feed.command("revoke")
@click.argument("feed_id", metavar="ID", type=int)
@pass_env
def feed_revoke(env: Env, feed_id: int) -> None:
    """Revoke a feed: its URL answers 404 from now on."""
    from ..services.feeds import revoke_feed

    with env.session() as session:
        revoke_feed(session=session, feed_id=feed_id)
    click.echo(t("feed #{id} revoked", id=feed_id))


@feed.command("rotate")
@click.argument("feed_id", metavar="ID", type=int)
@click.option("--base-url", metavar="URL", help="Public URL of `duban serve`.")
@format_option("table", "json")
@pass_env
def feed_rotate(env: Env, feed_id: int, base_url: str | None, fmt: str) -> None:
    """Give a feed a new secret URL; the old one stops working."""
    from ..services.feeds import feed_urls, rotate_feed

    base = _base_url(env, base_url)
    with env.session() as session:
        _, token = rotate_feed(session=session, feed_id=feed_id)
    emit_one({"id": feed_id, **feed_urls(base, token)}, fmt)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@pass_env
def serve(env: Env, host: str, port: int) -> None:
    """Serve calendar feeds over HTTP (put a TLS reverse proxy in front; see docs/calendar.md)."""
    import ipaddress

    from ..serve import create_app, run

    env.ensure_schema()
    app = create_app(engine=env.engine, actor=env.actor, clock=env.clock)
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        click.echo(
            t(
                "warning: listening on {host}, beyond this machine; feeds carry secrets in "
                "their URLs, so serve them only through a TLS reverse proxy",
                host=host,
            ),
            err=True,
        )
    click.echo(
        t("Serving calendar feeds on http://{host}:{port} (Ctrl-C stops)", host=host, port=port)
    )
    run(app, host=host, port=port)
