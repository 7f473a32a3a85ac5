"""Fixtures for the notification tests: a small world, a stepping clock, real servers on
loopback (an HTTP webhook receiver, fake chat robots that behave as WeCom, DingTalk and
Feishu document, and an SMTP server) and a duban.toml per test."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
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
        secret: str | None = None,
        mentions: list[str] | None = None,
    ) -> int:
        from duban.core.services.owners import add_owner, set_owner

        with self.session() as s:
            owner = add_owner(session=s, name=name)
            if email or webhook or preset:
                set_owner(
                    session=s,
                    ref=name,
                    email=email,
                    webhook=webhook,
                    preset=preset,
                    secret=secret,
                    mentions=mentions,
                )
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

    def config(
        self, text: str, monkeypatch: pytest.MonkeyPatch, *, report_reminders: bool = False
    ) -> Path:
        """Write a duban.toml (a new file each time: the config loader caches by path).
        Reminders before report due days (催报) are left out unless ``report_reminders``: the
        tests about milestone occasions count messages, and test_report_reminders.py has its own."""
        self.configs += 1
        path = self.tmp / f"duban-{self.configs}.toml"
        if not report_reminders and "[reports]" not in text:
            text += "\n[reports]\nremind_before = []\n"
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
    peers: list[Any] = field(default_factory=list)  # the connection each DATA came on
    busy: set[str] = field(default_factory=set)  # recipients answered "421 closing"


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
                box.peers.append(session.peer)
                if box.busy & set(envelope.rcpt_tos):
                    return "421 4.3.2 Service not available, closing transmission channel"
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


# Fake chat robots ---------------------------------------------------------------------------
class FakeTime:
    """A time source that advances when slept on, instead of waiting: the pacer and the fake
    robots' per-minute windows share it, so minutes of pacing take no time."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)

    def pacer(self) -> Any:
        from duban.core.notify.pacing import Pacer

        return Pacer(monotonic=self.monotonic, sleep=self.sleep)


# What each platform answers: success, "too many" (its rate-limit code), a bad signature,
# a message over its size limit, a body it cannot read.
PLATFORMS: dict[str, dict[str, Any]] = {
    "wecom": {
        "ok": {"errcode": 0, "errmsg": "ok"},
        "rate": {"errcode": 45009, "errmsg": "api freq out of limit"},
        "size": {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"},
        "bad": {"errcode": 40008, "errmsg": "invalid message type"},
    },
    "dingtalk": {
        "ok": {"errcode": 0, "errmsg": "ok"},
        "rate": {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
        "sign": {"errcode": 310000, "errmsg": "sign not match"},
        "size": {"errcode": 460101, "errmsg": "message too long"},
        "bad": {"errcode": 40035, "errmsg": "缺少参数 json"},
    },
    "feishu": {
        "ok": {"code": 0, "msg": "success", "data": {}},
        "rate": {"code": 11232, "msg": "frequency limited psm"},
        "sign": {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"},
        "size": {"code": 9499, "msg": "request body too large"},
        "bad": {"code": 19002, "msg": "params error, msg_type need"},
    },
}


@dataclass
class FakeRobot:
    platform: str
    secret: str | None = None
    per_minute: int = 20
    portal: int = 0  # the next this many posts get a 200 text/html page (a captive portal)
    busy: int = 0  # the next this many posts get HTTP 429 with Retry-After
    window: deque = field(default_factory=deque)  # when the posts of the last minute came


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    answer: dict[str, Any] | str

    @property
    def text(self) -> str:
        """The message text, whatever the platform's body shape."""
        b = self.body
        if "markdown" in b:
            return b["markdown"].get("content") or b["markdown"].get("text", "")
        if "card" in b:
            return (
                b["card"]["header"]["title"]["content"]
                + "\n"
                + "\n".join(e["text"]["content"] for e in b["card"]["elements"])
            )
        return json.dumps(b, ensure_ascii=False)


class FakeRobots(ThreadingHTTPServer):
    """Chat robots on loopback as their platforms document them: signature check (DingTalk
    ``timestamp``/``sign`` query, Feishu body fields), size limit, at most ``per_minute``
    posts in any 60 s of ``time`` (beyond: the platform's rate-limit code), and on request
    non-JSON replies or HTTP 429. ``posts`` holds every answered post; ``accepted()`` those
    the platform took."""

    daemon_threads = True

    def __init__(self, time_source: FakeTime) -> None:
        super().__init__(("127.0.0.1", 0), _RobotHandler)
        self.time = time_source
        self.robots: dict[str, FakeRobot] = {}
        self.posts: list[Post] = []
        self.lock = threading.Lock()

    def add(self, path: str, platform: str, **kw: Any) -> str:
        self.robots[path] = FakeRobot(platform, **kw)
        key = "?key=k-" + path.strip("/") if platform == "wecom" else ""
        return f"http://127.0.0.1:{self.server_address[1]}{path}{key}"

    def accepted(self, path: str | None = None) -> list[Post]:
        with self.lock:
            return [
                p
                for p in self.posts
                if (path is None or p.path == path)
                and isinstance(p.answer, dict)
                and p.answer.get("errcode", p.answer.get("code")) == 0
            ]

    def refused(self, what: str) -> list[Post]:
        """Posts answered with the platform's ``what`` error (rate, sign, size, bad)."""
        with self.lock:
            return [
                p
                for p in self.posts
                if p.answer == PLATFORMS[self.robots[p.path].platform].get(what)
            ]

    def judge(self, robot: FakeRobot, query: dict[str, list[str]], raw: bytes) -> dict[str, Any]:
        answers = PLATFORMS[robot.platform]
        try:
            body = json.loads(raw.decode("utf-8"))  # strict UTF-8: a cut character fails here
        except (UnicodeDecodeError, ValueError):
            return answers["bad"]
        if robot.secret and robot.platform == "dingtalk":
            stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            mac = hmac.new(
                robot.secret.encode(), f"{stamp}\n{robot.secret}".encode(), hashlib.sha256
            )
            if (
                sign != base64.b64encode(mac.digest()).decode()
                or abs(int(stamp or 0) / 1000 - time.time()) > 3600
            ):
                return answers["sign"]
        if robot.secret and robot.platform == "feishu":
            stamp = str(body.get("timestamp", ""))
            mac = hmac.new(f"{stamp}\n{robot.secret}".encode(), b"", hashlib.sha256)
            if (
                body.get("sign") != base64.b64encode(mac.digest()).decode()
                or abs(int(stamp or 0) - time.time()) > 3600
            ):
                return answers["sign"]
        if robot.platform == "wecom":
            kind = body.get("msgtype")
            if kind not in ("text", "markdown") or not body.get(kind, {}).get("content"):
                return answers["bad"]
            if len(body[kind]["content"].encode()) > (4096 if kind == "markdown" else 2048):
                return answers["size"]
        elif robot.platform == "dingtalk":
            if body.get("msgtype") not in ("text", "markdown", "link", "actionCard"):
                return answers["bad"]
            if len(raw) > 20_000:
                return answers["size"]
        elif body.get("msg_type") not in ("text", "post", "interactive", "share_chat", "image"):
            return answers["bad"]
        elif len(raw) > 20 * 1024:
            return answers["size"]
        now = self.time.monotonic()
        while robot.window and robot.window[0] <= now - 60:
            robot.window.popleft()
        if len(robot.window) >= robot.per_minute:
            return answers["rate"]
        robot.window.append(now)
        return answers["ok"]


class _RobotHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, kind: str, payload: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        server: FakeRobots = self.server  # type: ignore[assignment]
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with server.lock:
            robot = server.robots[parts.path]
            if robot.portal:
                robot.portal -= 1
                answer: dict[str, Any] | str = "portal"
            elif robot.busy:
                robot.busy -= 1
                answer = "busy"
            else:
                answer = server.judge(robot, parse_qs(parts.query), raw)
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = {}
            server.posts.append(Post(parts.path, headers, body, answer))
        if answer == "portal":
            page = "<html><body>请先登录 Wi-Fi</body></html>".encode()
            self._reply(200, "text/html; charset=utf-8", page)
        elif answer == "busy":
            self._reply(429, "text/plain", b"Too Many Requests", **{"Retry-After": "7"})
        else:
            self._reply(200, "application/json", json.dumps(answer, ensure_ascii=False).encode())


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def robots(fake_time: FakeTime) -> Iterator[FakeRobots]:
    server = FakeRobots(fake_time)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
