"""``duban serve``: the calendar feeds over HTTP (Starlette on uvicorn).

``GET /feeds/<token>.ics`` (``?todo=1`` for the VTODO form) and ``GET /health``. Database
work runs in the thread pool so one slow feed does not stall the others. Binds loopback by
default: put a TLS reverse proxy in front of it (docs/calendar.md). Starlette and uvicorn
are imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from .clock import Clock

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("duban.serve")
CONTENT_TYPE = "text/calendar; charset=utf-8"
# The token is the credential: keep it out of caches shared between users and out of
# Referer headers of any link a client might follow.
COMMON_HEADERS = {
    "Cache-Control": "private, no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _matches(
    if_none_match: str | None, if_modified_since: str | None, etag: str, last_modified: datetime
) -> bool:
    """RFC 9110: If-None-Match wins when present; otherwise If-Modified-Since."""
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/").strip('"') for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return last_modified <= since
    return False


def create_app(*, engine: Engine, actor: str, clock: Clock | None = None) -> Any:
    """The ASGI application serving feeds from ``engine``."""
    import anyio.to_thread
    from sqlalchemy import text
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    from .db import open_session
    from .services import feeds

    cache = feeds.BodyCache()
    # Database work runs on worker threads, a bounded number at a time: SQLite takes its
    # write lock for every transaction (db.py), so there one at a time queues fairly here
    # instead of piling up on the busy timeout; PostgreSQL gets a share of the pool.
    limiter = anyio.CapacityLimiter(1 if engine.dialect.name == "sqlite" else 8)
    # Health has a lane of its own and reads without taking SQLite's write lock, so a feed
    # stuck in a slow plugin hook does not make the server look dead.
    health_limiter = anyio.CapacityLimiter(1)
    reader = engine.execution_options(duban_read_only=True)
    _warm_up()

    def not_found() -> Response:
        # The same bytes for unknown, malformed and revoked tokens: no hint which.
        return PlainTextResponse("Not Found", status_code=404, headers=COMMON_HEADERS)

    def answer(token: str, todo: bool, inm: str | None, ims: str | None) -> Response:
        with open_session(engine, actor=actor, clock=clock) as session:
            feed = feeds.find_feed(session=session, token=token)
            if feed is None:
                return not_found()
            served = feeds.serve_feed(
                session=session,
                feed=feed,
                todo=todo,
                cache=cache,
                is_current=lambda etag, lm: _matches(inm, ims, etag, lm),
            )
        headers = {
            **COMMON_HEADERS,
            "ETag": f'"{served.etag}"',
            "Last-Modified": format_datetime(served.last_modified, usegmt=True),
        }
        if served.body is None:
            return Response(status_code=304, headers=headers)
        return Response(served.body, headers=headers, media_type=CONTENT_TYPE)

    async def feed(request: Request) -> Response:
        todo = request.query_params.get("todo", "") in ("1", "true", "yes")
        return await anyio.to_thread.run_sync(
            answer,
            request.path_params["token"],
            todo,
            request.headers.get("if-none-match"),
            request.headers.get("if-modified-since"),
            limiter=limiter,
        )

    def check_database() -> bool:
        try:
            with reader.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any database failure means unhealthy
            log.warning("health check failed: %s", exc)
            return False
        return True

    async def health(request: Request) -> Response:
        ok = await anyio.to_thread.run_sync(check_database, limiter=health_limiter)
        return JSONResponse(
            {"status": "ok" if ok else "unavailable"},
            status_code=200 if ok else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def missing(request: Request, exc: Exception) -> Response:
        return not_found()

    return Starlette(
        routes=[
            Route("/feeds/{token}.ics", feed, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ],
        exception_handlers={404: missing},
    )


def _warm_up() -> None:
    """Load plugins and iCalendar now rather than on the first subscriber's request."""
    import icalendar  # noqa: F401

    from .plugins import get_host

    get_host().implementers("duban_reminder_offsets")


# Seconds in-flight requests get to finish once asked to stop.
GRACEFUL_SHUTDOWN = 3


def _config(app: Any, **kw: Any) -> Any:
    import uvicorn

    # No access log: request paths carry the secret tokens.
    return uvicorn.Config(
        app,
        access_log=False,
        server_header=False,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        **kw,
    )


def _server(config: Any) -> Any:
    """A uvicorn server that, on SIGTERM or SIGINT, stops waiting for plugin hooks too: a
    request blocked in a hung hook would otherwise hold the shutdown for the hook's limit."""
    import uvicorn

    from .plugins import interrupt_hooks

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            interrupt_hooks()
            super().handle_exit(sig, frame)

    return Server(config)


def run(app: Any, *, host: str, port: int) -> None:
    """Serve until interrupted."""
    _server(_config(app, host=host, port=port)).run()


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` on a background thread (tests, benchmarks); yields its base URL.

    Port 0 picks a free port; the socket is bound before the thread starts, so there is no
    window in which another process can take it.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the feed server did not start")
            time.sleep(0.01)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
