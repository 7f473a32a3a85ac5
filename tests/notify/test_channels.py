"""Real servers on loopback receive what the channels send: an HTTP receiver (webhooks with
presets, templates and signatures) and aiosmtpd (plain text + HTML, Chinese subjects,
login, STARTTLS). Failing endpoints are retried later without holding up the others."""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import ssl
import subprocess
import time
from datetime import date, timedelta
from email.header import decode_header, make_header

import pytest

DUE = date(2025, 6, 30)
SECRET = "webhook-秘密"


def _verify(hit) -> None:
    stamp = hit.headers["x-duban-timestamp"]
    expected = hmac.new(
        SECRET.encode(), stamp.encode() + b"." + hit.body, hashlib.sha256
    ).hexdigest()
    assert hit.headers["x-duban-signature"] == f"sha256={expected}"
    assert abs(int(stamp) - time.time()) < 60


def test_webhook_presets_template_and_signature(world, receiver, monkeypatch) -> None:
    monkeypatch.setenv("DUBAN_WEBHOOK_SECRET", SECRET)
    world.config(
        '[webhook.template]\nmsg = "{subject}"\nwho = "{recipient}"\nwhen = "{due}"\n'
        'extra = { all = "{data}", tags = ["duban", "{occasion}"] }\n',
        monkeypatch,
    )
    for preset in ("json", "wecom", "dingtalk", "feishu"):
        world.owner(f"{preset}单位", webhook=f"{receiver.url}/{preset}?key=abc", preset=preset)
    world.obligation(
        "长江岸线整治",
        code="（七）",
        leads=[f"{p}单位" for p in ("json", "wecom", "dingtalk", "feishu")],
        dues=[DUE],
    )
    world.at(DUE - timedelta(days=7))
    report = world.run()
    assert {r["status"] for r in report.rows} == {"delivered"} and len(report.rows) == 8

    subject = "【督办提醒】（七） 长江岸线整治：距截止还有7天"
    hits = {h.path: h for h in receiver.delivered()}
    assert set(hits) == {"/json", "/wecom", "/dingtalk", "/feishu"}
    for hit in hits.values():
        _verify(hit)
        assert hit.query["key"] == ["abc"]
        assert hit.headers["content-type"].startswith("application/json")
    body = hits["/json"].json()
    assert body["msg"] == subject and body["who"] == "json单位" and body["when"] == "2025-06-30"
    assert body["extra"]["tags"] == ["duban", "T-7"] and body["extra"]["all"]["milestone_id"] == 1

    # Rich messages: each names the task code, the deadline, the level and what to do.
    wecom = hits["/wecom"].json()
    assert wecom["msgtype"] == "markdown"
    content = wecom["markdown"]["content"]
    assert content.startswith(f"### {subject}") and "**贵单位职责**：牵头单位" in content
    for needle in ("（七）", "**截止日期**：2025-06-30", "**督办层级**：无", "**应做**："):
        assert needle in content, needle
    ding = hits["/dingtalk"]
    assert ding.json()["msgtype"] == "markdown" and ding.json()["markdown"]["title"] == subject
    assert "- **截止日期**：2025-06-30" in ding.json()["markdown"]["text"]
    stamp = ding.query["timestamp"][0]
    mac = hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert ding.query["sign"] == [base64.b64encode(mac).decode()]
    feishu = hits["/feishu"].json()
    assert feishu["msg_type"] == "interactive"
    assert feishu["card"]["header"]["title"]["content"] == subject
    assert feishu["card"]["header"]["template"] == "blue"  # not overdue, not escalated
    assert "**截止日期**：2025-06-30" in feishu["card"]["elements"][0]["text"]["content"]
    mac = hmac.new(f"{feishu['timestamp']}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
    assert feishu["sign"] == base64.b64encode(mac).decode()
    # The ledger keeps the address without its query (robot keys stay out of listings).
    assert {n.recipient for n in world.ledger() if n.channel == "webhook"} == {
        f"{receiver.url}/{p}" for p in ("json", "wecom", "dingtalk", "feishu")
    }


def test_a_robot_error_code_is_a_failure(world, receiver) -> None:
    receiver.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    world.owner("甲", webhook=f"{receiver.url}/w", preset="wecom")
    world.obligation("事项", leads=["甲"], dues=[DUE])
    world.at(DUE - timedelta(days=1))
    world.run()
    failed = next(n for n in world.ledger() if n.channel == "webhook")
    assert failed.status == "failed" and "93000" in failed.last_error


def test_failing_webhooks_do_not_stop_the_others_and_succeed_later(
    world, receiver, monkeypatch
) -> None:
    world.config("[webhook]\ntimeout = 0.5\n[notify]\nretry_base = 60\n", monkeypatch)
    receiver.plan = {"/flaky": [500], "/slow": [("sleep", 2)]}
    for name in ("ok", "flaky", "slow"):
        world.owner(name, webhook=f"{receiver.url}/{name}")
        world.obligation(f"{name}的任务", leads=[name], dues=[DUE])
    world.at(DUE - timedelta(days=1))
    started = time.perf_counter()
    report = world.run()
    assert time.perf_counter() - started < 2.5  # the slow one cost its timeout, no more
    status = {r["owner"]: r["status"] for r in report.rows if r["channel"] == "webhook"}
    assert status == {"ok": "delivered", "flaky": "failed", "slow": "failed"}
    ledger = {n.payload["data"]["recipient"]: n for n in world.ledger() if n.channel == "webhook"}
    assert ledger["flaky"].last_error.startswith("DeliveryError: HTTP 500")
    assert "ReadTimeout" in ledger["slow"].last_error or "timed out" in ledger["slow"].last_error
    for name in ("flaky", "slow"):
        assert ledger[name].attempts == 1
        assert ledger[name].next_attempt_at == world.clock.now() + timedelta(seconds=60)

    assert world.run().rows == []  # not before the backoff
    world.clock.advance(seconds=61)
    retried = world.run()
    assert {(r["owner"], r["status"]) for r in retried.rows} == {
        ("flaky", "delivered"),
        ("slow", "delivered"),
    }
    assert world.run().rows == []
    assert sorted(h.path for h in receiver.delivered()) == ["/flaky", "/ok", "/slow"]
    ledger = {n.payload["data"]["recipient"]: n for n in world.ledger() if n.channel == "webhook"}
    assert {n.status for n in ledger.values()} == {"delivered"} and ledger["slow"].attempts == 2


def test_backoff_doubles_up_to_its_cap(world, receiver, monkeypatch) -> None:
    world.config("[notify]\nretry_base = 10\nretry_max = 35\n", monkeypatch)
    receiver.plan = {"/down": [500] * 5}
    world.owner("甲", webhook=f"{receiver.url}/down")
    world.obligation("事项", leads=["甲"], dues=[DUE])
    world.at(DUE - timedelta(days=1))
    waits = []
    for _ in range(4):
        world.run()
        row = next(n for n in world.ledger() if n.channel == "webhook")
        waits.append((row.next_attempt_at - world.clock.now()).total_seconds())
        world.clock.instant = row.next_attempt_at
    assert waits == [10, 20, 35, 35]


def _mail_parts(message):
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return plain, html


def test_email_over_a_real_smtp_server(world, smtp_server, monkeypatch) -> None:
    box = smtp_server(auth_require_tls=False)
    monkeypatch.setenv("DUBAN_SMTP_USER", "duban")
    monkeypatch.setenv("DUBAN_SMTP_PASSWORD", "s3cret")
    world.config(
        f'[smtp]\nhost = "127.0.0.1"\nport = {box.port}\nsecurity = "none"\n'
        'from = "duban@example.org"\n',
        monkeypatch,
    )
    world.owner("省水利厅", email="shuili@example.org")
    world.obligation(
        "开展饮用水水源地环境保护专项行动", code="（四）", leads=["省水利厅"], dues=[DUE]
    )
    world.at(DUE - timedelta(days=30))
    report = world.run()
    assert {(r["channel"], r["status"]) for r in report.rows} == {
        ("email", "delivered"),
        ("inbox", "delivered"),
    }
    assert box.logins == [(b"duban", b"s3cret")]
    [(rcpts, mail)] = box.messages
    assert rcpts == ["shuili@example.org"]
    assert (
        str(make_header(decode_header(mail["Subject"])))
        == "【督办提醒】（四） 开展饮用水水源地环境保护专项行动：距截止还有30天"
    )
    assert "duban@example.org" in mail["From"] and mail["Message-ID"].endswith("@example.org>")
    plain, html = _mail_parts(mail)
    assert "省水利厅：" in plain and "截止日期：2025-06-30" in plain and "距截止还有30天" in plain
    assert "<table>" in html and "牵头单位" in html
    assert world.run().rows == []
    assert len(box.messages) == 1


def test_email_failure_is_retried_when_the_server_comes_up(
    world, smtp_server, free_port, monkeypatch
) -> None:
    world.config(
        f'[smtp]\nhost = "127.0.0.1"\nport = {free_port}\nsecurity = "none"\n'
        '[notify]\nchannels = ["email"]\n',
        monkeypatch,
    )
    world.owner("甲", email="jia@example.org")
    world.obligation("事项", leads=["甲"], dues=[DUE])
    world.at(DUE - timedelta(days=1))
    assert [r["status"] for r in world.run().rows] == ["failed"]
    assert "ConnectionRefusedError" in world.ledger()[0].last_error
    box = smtp_server(port=free_port, auth_require_tls=False)
    world.clock.advance(seconds=61)
    assert [r["status"] for r in world.run().rows] == ["delivered"]
    assert len(box.messages) == 1 and world.ledger()[0].attempts == 2


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_email_with_starttls_and_login(world, smtp_server, certificate, monkeypatch) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = smtp_server(tls_context=context, require_starttls=True)
    monkeypatch.setenv("DUBAN_SMTP_USER", "duban")
    monkeypatch.setenv("DUBAN_SMTP_PASSWORD", "s3cret")
    world.config(
        f'[smtp]\nhost = "127.0.0.1"\nport = {box.port}\nsecurity = "starttls"\n'
        f'ca_file = "{cert}"\n[notify]\nchannels = ["email"]\nlanguage = "en"\n',
        monkeypatch,
    )
    world.owner("Water Dept", email="water@example.org")
    world.obligation("水源地保护", leads=["Water Dept"], dues=[DUE])
    world.at(DUE)  # T-1 fell yesterday too: only the latest occasion goes out
    assert [(r["occasion"], r["status"]) for r in world.run().rows] == [
        ("T-1", "superseded"),
        ("due", "delivered"),
    ]
    [(_, mail)] = box.messages
    assert mail["Subject"] == "[duban reminder] 水源地保护: due today"
    assert box.logins == [(b"duban", b"s3cret")]


def test_email_headers_and_one_connection_per_pass(world, smtp_server, monkeypatch) -> None:
    box = smtp_server(auth_require_tls=False)
    world.config(
        f'[smtp]\nhost = "127.0.0.1"\nport = {box.port}\nsecurity = "none"\n'
        'from = "duban@sthjt.hunan.gov.cn"\n[notify]\nchannels = ["email"]\nconcurrency = 1\n',
        monkeypatch,
    )
    for name in ("甲", "乙", "丙", "丁"):
        world.owner(name, email=f"{name}@example.org")
        world.obligation(f"{name}的事项", leads=[name], dues=[DUE])
    box.busy = {"乙@example.org"}  # the server answers 421 and closes the connection
    world.at(DUE - timedelta(days=1))
    status = {r["owner"]: r["status"] for r in world.run().rows}
    assert status == {"甲": "delivered", "乙": "failed", "丙": "delivered", "丁": "delivered"}
    assert len(box.messages) == 3
    # One connection for the pass (in ledger order); after the 421 a new one for the rest.
    first, busy, third, fourth = box.peers
    assert first == busy != third == fourth
    for _, mail in box.messages:
        assert mail["Date"].endswith("+0800")
        assert mail["Message-ID"].endswith("@sthjt.hunan.gov.cn>")
        assert mail["Auto-Submitted"] == "auto-generated"
    assert len({mail["Message-ID"] for _, mail in box.messages}) == 3

    box.busy = set()
    world.clock.advance(seconds=61)
    assert [r["status"] for r in world.run().rows] == ["delivered"]
    assert box.messages[-1][0] == ["乙@example.org"]
