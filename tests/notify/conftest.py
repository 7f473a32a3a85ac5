"""Fixtures for the notification tests: a small world, a stepping clock, real servers on
loopback (an HTTP webhook receiver and an SMTP server) and a duban.toml per test."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from duban.core.clock import SteppingClock, local_midnight
from duban.core.db import open_session
from duban.core.plugins import reset_host

ACTOR = "coord"


# A small world ----------------------------------------------------------------------------
@dataclass
class World:
    """Owners and obligations built through the real services, and a clock tests move."""

    env: Any
    clock: SteppingClock
    tmp: Path
    owners: dict[str, int] = field(default_factory=dict)
    configs: int = 0

    def session(self, actor: str = ACTOR):
        return open_session(self.env.engine, actor=actor, clock=self.clock)

    def owner(
        self,
        name: str,
        *,
        email: str | None = None,
        webhook: str | None = None,
        preset: str | None = None,
    ) -> int:
        from duban.core.services.owners import add_owner, set_owner

        with self.session() as s:
            owner = add_owner(session=s, name=name)
            if email or webhook or preset:
                set_owner(session=s, ref=name, email=email, webhook=webhook, preset=preset)
            self.owners[name] = owner.id
        return owner.id

    def obligation(
        self,
        title: str,
        *,
        leads: list[str],
        participants: list[str] = (),
        dues: list[date] = (),
        code: str | None = None,
        domain: str = "general",
    ) -> int:
        from duban.core.services.obligations import add_obligation

        with self.session() as s:
            return add_obligation(
                session=s,
                title=title,
                leads=leads,
                participants=participants,
                dues=dues,
                code=code,
                domain=domain,
            ).id

    def at(self, day: date, hour: int = 9) -> None:
        """Move the clock to ``hour`` o'clock Shanghai time on ``day``."""
        from datetime import timedelta

        self.clock.instant = local_midnight(day) + timedelta(hours=hour)

    def config(self, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
        """Write a duban.toml (a new file each time: the config loader caches by path)."""
        self.configs += 1
        path = self.tmp / f"duban-{self.configs}.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("DUBAN_CONFIG", str(path))
        return path

    def run(self, **kw: Any):
        from duban.core.notify.dispatch import run_pass

        return run_pass(engine=self.env.engine, clock=self.clock, actor=ACTOR, **kw)

    def ledger(self) -> list[Any]:
        from sqlmodel import select

        from duban.core.models import Notification

        with self.session() as s:
            return list(s.exec(select(Notification).order_by(Notification.id)).all())


@pytest.fixture
def world(env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    reset_host()
    w = World(env=env, clock=SteppingClock(local_midnight(date(2025, 1, 1))), tmp=tmp_path)
    w.config("[notify]\nretry_base = 60\n", monkeypatch)
    yield w
    reset_host()


# An HTTP receiver ---------------------------------------------------------------------------
@dataclass
class Hit:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class Receiver(ThreadingHTTPServer):
    """Records every POST. ``plan[path]`` lists what the next requests to ``path`` get:
    a status code, or ("sleep", seconds) to outlast the client's timeout; then 200."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: list[Hit] = []
        self.plan: dict[str, list[Any]] = {}
        self.answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        self.delay = 0.0  # seconds every request takes
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def delivered(self, path: str | None = None) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if path is None or h.path == path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as robots' servers do

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        server: Receiver = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = urlsplit(self.path)
        with server.lock:
            todo = server.plan.get(parts.path) or []
            action = todo.pop(0) if todo else 200
        if server.delay:
            time.sleep(server.delay)
        if isinstance(action, tuple):  # too slow: the client has given up, nothing counts
            time.sleep(action[1])
        elif action == 200:
            with server.lock:
                server.hits.append(
                    Hit(
                        parts.path,
                        parse_qs(parts.query),
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
        action = 200 if isinstance(action, tuple) else action
        answer = json.dumps(server.answer if action == 200 else {"error": "boom"}).encode()
        try:
            self.send_response(action)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except OSError:  # the client gave up (timeout test)
            pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# An SMTP server -----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    """A loopback port nothing listens on (yet)."""
    return free_port()


@dataclass
class Mailbox:
    port: int
    messages: list[Any] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., Mailbox]]:
    """``smtp_server(**smtp_kwargs)`` starts an aiosmtpd server on a free loopback port."""
    from email import message_from_bytes
    from email.policy import default

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    controllers = []

    def start(port: int | None = None, **kwargs: Any) -> Mailbox:
        box = Mailbox(port=port or free_port())

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                box.messages.append(
                    (
                        envelope.rcpt_tos,
                        message_from_bytes(envelope.original_content, policy=default),
                    )
                )
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            box.logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=auth_data.password == b"s3cret")

        controller = Controller(
            Handler(), hostname="127.0.0.1", port=box.port, authenticator=authenticator, **kwargs
        )
        controller.start()
        controllers.append(controller)
        return box

    yield start
    for controller in controllers:
        controller.stop()
