"""Calendar subscriptions: secret feed URLs, their scopes, and what was last served.

A subscriber's calendar app cannot send credentials, so the secret is the URL: 256 random
bits (``secrets.token_urlsafe(32)``). Only its SHA-256 is stored; a presented token is hashed
and compared with ``hmac.compare_digest``. Revoked and unknown tokens look the same.

Validators: the ETag is a hash of the body, Last-Modified the latest change in the scope.
What was last served (fingerprint, ETag, Last-Modified) is kept in ``FeedToken.scope`` under
``"served"`` so that a 304 needs no rebuild and Last-Modified never moves backwards, across
restarts and between server processes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from .. import audit
from ..controls import check_text
from ..errors import Conflict, NotFound, PermissionDenied, UserError
from ..i18n import language, t
from ..models import FeedToken, UserRole
from . import calendar
from .base import current_user, now, require_coordinator, snapshot

TOKEN_BYTES = 32  # 256 bits
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # what token_urlsafe(32) produces


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_urls(base_url: str, token: str) -> dict[str, str]:
    """The subscription URL and its ``webcal://`` form (which calendar apps open directly)."""
    url = f"{base_url.rstrip('/')}/feeds/{token}.ics"
    return {"url": url, "webcal": "webcal://" + url.split("://", 1)[1]}


def check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UserError(
            t("--base-url: not an http(s) URL without query: {value!r}", value=base_url)
        )
    return base_url.rstrip("/")


# Managing feeds --------------------------------------------------------------------------
def add_feed(*, session: Session, scope: calendar.Scope) -> tuple[FeedToken, str]:
    """Create a subscription; returns it and its secret token (shown once, never stored)."""
    _require_may_subscribe(session, scope)
    check_text(scope.name, "--name", single_line=True)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = FeedToken(
        name=scope.name,
        scope=scope.to_json(),
        token_hash=_hash(token),
        created_by=session.info["actor"],
        created_at=now(session),
    )
    session.add(row)
    session.flush()
    audit.record(session, "feed.add", "feed", row.id, after=_public(row))
    return row, token


def _require_may_subscribe(session: Session, scope: calendar.Scope) -> None:
    """Coordinators subscribe to anything; a member only to its own owner's deadlines."""
    user = current_user(session)
    if (
        user is not None
        and user.role == UserRole.member
        and scope.owner_id is not None
        and scope.owner_id == user.owner_id
    ):
        return
    require_coordinator(session)


def _require_manager(session: Session, row: FeedToken) -> None:
    user = current_user(session)
    if user is not None and user.role == UserRole.coordinator:
        return
    if user is not None and row.created_by == user.name:
        return
    raise PermissionDenied(
        t(
            "{user} may not manage feed #{id}: it takes a coordinator or whoever created it",
            user=session.info["actor"],
            id=row.id,
        )
    )


def get_feed(*, session: Session, feed_id: int) -> FeedToken:
    row = session.get(FeedToken, feed_id)
    if row is None:
        raise NotFound(t("unknown feed #{id}", id=feed_id))
    return row


def revoke_feed(*, session: Session, feed_id: int) -> FeedToken:
    """Stop serving a feed for good; its URL then answers 404 like any unknown one."""
    row = get_feed(session=session, feed_id=feed_id)
    _require_manager(session, row)
    if row.revoked_at is not None:
        raise Conflict(t("feed #{id} is already revoked", id=row.id))
    before = _public(row)
    row.revoked_at = now(session)
    session.add(row)
    session.flush()
    audit.record(session, "feed.revoke", "feed", row.id, before=before, after=_public(row))
    return row


def rotate_feed(*, session: Session, feed_id: int) -> tuple[FeedToken, str]:
    """Give a feed a new secret (the old URL stops working at once); same scope and id."""
    row = get_feed(session=session, feed_id=feed_id)
    _require_manager(session, row)
    if row.revoked_at is not None:
        raise Conflict(t("feed #{id} is revoked; add a new one instead", id=row.id))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row.token_hash = _hash(token)
    session.add(row)
    session.flush()
    audit.record(session, "feed.rotate", "feed", row.id, after=_public(row))
    return row, token


def list_feeds(*, session: Session) -> list[dict[str, Any]]:
    """Feeds the actor may manage: every one for a coordinator, else those it created."""
    user = current_user(session)
    query = select(FeedToken).order_by(FeedToken.id)
    if user is None or user.role != UserRole.coordinator:
        query = query.where(FeedToken.created_by == session.info["actor"])
    rows = []
    for row in session.exec(query):
        scope = replace(calendar.Scope.from_json(row.scope), lang=language())
        rows.append(
            {**_public(row), "scope_label": calendar.scope_label(session=session, scope=scope)}
        )
    return rows


def _public(row: FeedToken) -> dict[str, Any]:
    """A feed without its secret's hash or serving state (for listings and the audit log)."""
    scope = {k: v for k, v in (row.scope or {}).items() if k != "served"}
    return {**snapshot(row, exclude=("token_hash", "scope")), "scope": scope}


# Serving ---------------------------------------------------------------------------------
def find_feed(*, session: Session, token: str) -> FeedToken | None:
    """The live feed a token opens, or None (unknown, malformed and revoked look alike)."""
    if not _TOKEN.match(token):
        return None
    digest = _hash(token)
    row = session.exec(select(FeedToken).where(FeedToken.token_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at is not None:
        return None
    return row


class BodyCache:
    """Recently served bodies by (feed, variant, fingerprint), bounded in bytes; thread-safe."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[int, str], tuple[str, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str], fp: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != fp:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: tuple[int, str], fp: str, body: bytes) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old[1])
            if len(body) > self.max_bytes:
                return
            self._items[key] = (fp, body)
            self._size += len(body)
            while self._size > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= len(dropped)


@dataclass(frozen=True)
class Served:
    etag: str
    last_modified: datetime
    body: bytes | None  # None when the client's copy is current (answer 304)


def serve_feed(
    *,
    session: Session,
    feed: FeedToken,
    todo: bool,
    cache: BodyCache,
    is_current: Callable[[str, datetime], bool],
) -> Served:
    """Validators and body of a feed. ``is_current(etag, last_modified)`` says whether the
    client already holds that version; then no body is built or sent.

    Last-Modified is the scope's latest change and never moves backwards. When the body
    changed with no newer timestamp in scope, the change came from a sweep (target statuses)
    or from a row leaving the scope: it moves to that sweep's time, or at least one second
    past the previous value, so If-Modified-Since still sees the change.
    """
    scope = calendar.Scope.from_json(feed.scope)
    variant = "todo" if todo else "ics"
    fp = calendar.fingerprint(session=session, scope=scope)
    served = dict((feed.scope or {}).get("served") or {})
    state = served.get(variant) or {}
    stored_lm = datetime.fromisoformat(state["lm"]) if state.get("lm") else None
    if state.get("fp") == fp.digest and stored_lm is not None:
        if is_current(state["etag"], stored_lm):
            return Served(state["etag"], stored_lm, None)
        body = cache.get((feed.id, variant), fp.digest)
        if body is not None:
            return Served(state["etag"], stored_lm, body)
    built = calendar.render(session=session, scope=scope, todo=todo)
    if stored_lm is None:
        lm = fp.latest or feed.created_at.replace(microsecond=0)
    elif state.get("etag") == built.etag:
        lm = max(stored_lm, fp.latest or stored_lm)
    else:
        lm = max(stored_lm + timedelta(seconds=1), fp.latest or stored_lm, fp.swept or stored_lm)
    new_state = {"fp": fp.digest, "etag": built.etag, "lm": lm.isoformat()}
    if new_state != state:
        # Bookkeeping of what was served, not a decision anyone made: not audited.
        served[variant] = new_state
        feed.scope = {**(feed.scope or {}), "served": served}
        session.add(feed)
        session.flush()
    cache.put((feed.id, variant), fp.digest, built.body)
    if is_current(built.etag, lm):
        return Served(built.etag, lm, None)
    return Served(built.etag, lm, built.body)
