"""Chat robots as their platforms expect, against fake WeCom, DingTalk and Feishu robots on
loopback that check signatures and sizes, allow 20 posts a minute (then answer with the
platform's rate-limit code) and can answer with a captive portal's HTML page. Pacing runs on
a time source shared with the fakes, so minutes of pacing take no time."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

DUE = date(2025, 6, 30)
WEBHOOK_ONLY = '[notify]\nchannels = ["webhook"]\nretry_base = 60\n'


def _run(world, fake_time):
    return world.run(pacer=fake_time.pacer())


def test_sixty_reminders_to_one_wecom_robot_all_arrive_paced_and_once(
    world, robots, fake_time, monkeypatch
) -> None:
    world.config(WEBHOOK_ONLY, monkeypatch)
    url = robots.add("/group", "wecom")
    world.owner("甲", webhook=url, preset="wecom")
    codes = []
    for i in range(40):  # one owner's many reminders: folded into one digest, in parts
        codes.append(f"J{i:02d}")
        world.obligation(
            f"长江干流岸线第{i}段生态修复与整治工程（含码头、排污口、岸线复绿）",
            code=codes[-1],
            leads=["甲"],
            dues=[DUE],
        )
    for i in range(20):  # twenty owners with one each, sharing the same group robot
        world.owner(f"乙{i}", webhook=url, preset="wecom")
        codes.append(f"Y{i:02d}")
        world.obligation(f"任务{i}", code=codes[-1], leads=[f"乙{i}"], dues=[DUE])
    world.at(DUE - timedelta(days=7))
    started = fake_time.now

    report = _run(world, fake_time)

    assert robots.refused("rate") == [] and robots.refused("size") == []
    posts = robots.accepted("/group")
    assert len(posts) == len(robots.posts) > 20  # more than a minute's worth: paced
    assert fake_time.now - started >= 60
    # Every reminder arrives whole, in exactly one post.
    assert Counter(c for p in posts for c in codes if f"{c} " in p.text) == Counter(codes)
    text = "\n".join(p.text for p in posts)
    for i in range(40):
        assert f"J{i:02d} 长江干流岸线第{i}段生态修复与整治工程（含码头、排污口、岸线复绿）" in text
    keys = [p.headers["idempotency-key"] for p in posts]
    assert len(set(keys)) == len(keys)
    digest = [p for p in posts if "甲的40条提醒" in p.text]
    assert len(digest) >= 2 and all(len(p.text.encode()) <= 4096 for p in posts)
    assert [
        p.text.splitlines()[0].endswith(f"({i}/{len(digest)})") for i, p in enumerate(digest, 1)
    ] == [True] * len(digest)
    counts = Counter(r["status"] for r in report.rows)
    assert counts == {"digested": 40, "delivered": 20 + len(digest)}
    assert {n.status for n in world.ledger()} == {"digested", "delivered"}
    assert _run(world, fake_time).rows == []


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_a_rate_limit_answer_is_waited_out_and_sent_again(
    world, robots, fake_time, monkeypatch, platform
) -> None:
    world.config(WEBHOOK_ONLY, monkeypatch)
    url = robots.add("/r", platform)
    robots.robots["/r"].window.extend([fake_time.now] * 20)  # someone else used this minute
    world.owner("甲", webhook=url, preset=platform)
    for i in range(3):
        world.obligation(f"事项{i}", code=f"C{i}", leads=["甲"], dues=[DUE])
    world.at(DUE - timedelta(days=1))
    report = _run(world, fake_time)
    assert {r["status"] for r in report.rows} == {"delivered"} and len(report.rows) == 3
    assert len(robots.refused("rate")) >= 1  # the platform's own code, then a pause
    accepted = robots.accepted("/r")
    assert sorted(p.headers["idempotency-key"] for p in accepted) == sorted(
        n.key for n in world.ledger()
    )
    assert fake_time.now >= 1_060


def test_http_429_holds_for_retry_after(world, robots, fake_time, monkeypatch) -> None:
    world.config(WEBHOOK_ONLY, monkeypatch)
    url = robots.add("/r", "feishu", busy=1)
    world.owner("甲", webhook=url, preset="feishu")
    world.obligation("事项", leads=["甲"], dues=[DUE])
    world.at(DUE - timedelta(days=1))
    assert [r["status"] for r in _run(world, fake_time).rows] == ["delivered"]
    assert len(robots.posts) == 2 and len(robots.accepted()) == 1
    assert fake_time.now >= 1_007  # Retry-After: 7


def test_a_robot_whose_turn_is_far_off_is_served_by_a_later_pass(
    world, robots, fake_time, monkeypatch
) -> None:
    world.config(WEBHOOK_ONLY + "[webhook]\npace_wait = 10\n", monkeypatch)
    url = robots.add("/r", "dingtalk")
    for i in range(25):
        world.owner(f"单位{i}", webhook=url, preset="dingtalk")
        world.obligation(f"事项{i}", leads=[f"单位{i}"], dues=[DUE])
    world.at(DUE - timedelta(days=1))
    counts = Counter(r["status"] for r in _run(world, fake_time).rows)
    assert counts == {"delivered": 20, "paced": 5}
    assert robots.refused("rate") == []
    world.clock.advance(seconds=30)
    assert _run(world, fake_time).rows == []  # not due yet: the robot's minute is not over
    fake_time.now += 60
    world.clock.advance(seconds=30)
    assert Counter(r["status"] for r in _run(world, fake_time).rows) == {"delivered": 5}
    assert len(robots.accepted()) == 25 and robots.refused("rate") == []


@pytest.mark.parametrize("platform", ["dingtalk", "feishu"])
def test_two_robots_with_their_own_secrets_both_receive_signed_posts(
    world, robots, fake_time, monkeypatch, platform
) -> None:
    world.config(WEBHOOK_ONLY, monkeypatch)
    for name, secret in (("jia", "SEC-甲-1"), ("yi", "SEC-乙-2")):
        url = robots.add(f"/{name}", platform, secret=secret)
        world.owner(name, webhook=url, preset=platform, secret=secret)
        world.obligation(f"{name}的事项", leads=[name], dues=[DUE])
    world.at(DUE - timedelta(days=1))
    assert {r["status"] for r in _run(world, fake_time).rows} == {"delivered"}
    assert robots.refused("sign") == []
    assert {p.path for p in robots.accepted()} == {"/jia", "/yi"}


def test_a_wrong_secret_is_the_platforms_error_on_record(
    world, robots, fake_time, monkeypatch
) -> None:
    world.config(WEBHOOK_ONLY, monkeypatch)
    url = robots.add("/d", "dingtalk", secret="right")
    world.owner("甲", webhook=url, preset="dingtalk", secret="wrong")
    world.obligation("事项", leads=["甲"], dues=[DUE])
    world.at(DUE - timedelta(days=1))
    assert [r["status"] for r in _run(world, fake_time).rows] == ["failed"]
    [row] = world.ledger()
    assert row.last_error == "DeliveryError: dingtalk error 310000: sign not match"


def test_a_200_html_page_is_a_failure_and_retried(
    world, robots, fake_time, monkeypatch, duban
) -> None:
    world.config(WEBHOOK_ONLY, monkeypatch)
    url = robots.add("/w", "wecom", portal=1)
    world.owner("甲", webhook=url, preset="wecom")
    world.obligation("事项", leads=["甲"], dues=[DUE])
    world.at(DUE - timedelta(days=1))
    assert [r["status"] for r in _run(world, fake_time).rows] == ["failed"]
    [row] = world.ledger()
    assert row.status == "failed" and "text/html" in row.last_error and "Wi-Fi" in row.last_error
    failed = duban.ok("notifications", "--failed", "--format", "json").json()
    assert [(n["status"], n["owner"]) for n in failed] == [("failed", "甲")]
    assert "text/html" in failed[0]["last_error"]

    world.clock.advance(seconds=61)
    assert [r["status"] for r in _run(world, fake_time).rows] == ["delivered"]
    assert len(robots.accepted()) == 1 and world.ledger()[0].attempts == 2


def test_mentions_colour_and_calendar_link(world, robots, fake_time, monkeypatch) -> None:
    world.config(
        WEBHOOK_ONLY + '[notify.calendars]\n"甲" = "https://duban.example.gov.cn/feeds/abc.ics"\n',
        monkeypatch,
    )
    for platform, mention in (
        ("wecom", "zhangsan"),
        ("dingtalk", "13800000000"),
        ("feishu", "ou_1"),
    ):
        url = robots.add(f"/{platform}", platform)
        world.owner(f"{platform}", webhook=url, preset=platform, mentions=[mention])
    world.owner("甲", webhook=robots.add("/jia", "wecom"), preset="wecom")
    world.obligation(
        "过期事项", code="（九）", leads=["wecom", "dingtalk", "feishu", "甲"], dues=[DUE]
    )
    world.at(DUE + timedelta(days=7))  # overdue a week
    assert {r["status"] for r in _run(world, fake_time).rows} == {"delivered"}
    posts = {p.path: p for p in robots.accepted()}
    wecom = posts["/wecom"].body["markdown"]["content"]
    assert wecom.startswith('### <font color="warning">') and "<@zhangsan>" in wecom
    assert "**应做**：已逾期" in wecom and "（九）" in wecom
    ding = posts["/dingtalk"].body
    assert ding["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    assert "@13800000000" in ding["markdown"]["text"]
    card = posts["/feishu"].body["card"]
    assert card["header"]["template"] == "red" and "<at id=ou_1></at>" in posts["/feishu"].text
    assert "[https://duban.example.gov.cn/feeds/abc.ics]" in posts["/jia"].text
    assert "feeds/abc.ics" not in wecom  # only the owner with a feed gets the link


def test_owner_robots_on_the_command_line_never_show_secrets(duban, robots) -> None:
    duban.ok("owner", "add", "省水利厅")
    first, second = robots.add("/a", "dingtalk"), robots.add("/b", "feishu")
    duban.ok(
        "owner",
        "set",
        "省水利厅",
        "--webhook",
        first,
        "--preset",
        "dingtalk",
        "--secret",
        "SEC-very-secret-1",
        "--mention",
        "13800000000",
        "--mention",
        "13900000000",
    )
    duban.ok(
        "owner",
        "set",
        "省水利厅",
        "--webhook",
        second,
        "--preset",
        "feishu",
        "--secret",
        "SEC-very-secret-2",
    )
    listed = duban.ok("owner", "list", "--format", "json")
    table = duban.ok("owner", "list")
    audit = duban.ok("audit", "log", "--format", "json") if False else duban.ok("audit", "log")
    for out in (listed.stdout, table.stdout, audit.stdout):
        assert "SEC-very-secret" not in out
    [owner] = listed.json()
    assert owner["robots"] == [
        {
            "url": first,
            "preset": "dingtalk",
            "signed": True,
            "mentions": ["13800000000", "13900000000"],
        },
        {"url": second, "preset": "feishu", "signed": True, "mentions": []},
    ]
    # Robot settings without --webhook are ambiguous with two robots: refused, nothing written.
    bad = duban("owner", "set", "省水利厅", "--preset", "wecom")
    assert bad.exit_code == 2 and "--webhook" in bad.stderr and "Traceback" not in bad.stderr
    assert duban.ok("owner", "list", "--format", "json").json() == listed.json()
    duban.ok("owner", "set", "省水利厅", "--webhook", "")
    assert duban.ok("owner", "list", "--format", "json").json()[0]["robots"] == []


def test_an_upgraded_database_keeps_its_robot_and_sends_nothing_twice(duban) -> None:
    from alembic import command
    from sqlalchemy import text

    from duban.core.db import get_engine
    from duban.core.migrations import config

    duban.ok("owner", "add", "甲")
    engine = get_engine(duban.url)
    command.downgrade(config(engine), "0002")
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE owner SET webhook = 'https://robot.example/send?key=k', webhook_preset = 'wecom'"
            )
        )
        owner_id = conn.execute(text("SELECT id FROM owner")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO notification (key, channel, owner_id, subject, occasion, status, "
                "attempts, created_at) VALUES (:key, 'webhook', :owner, 'milestone:1:2025-06-30', "
                "'T-7', 'delivered', 1, '2025-06-23 01:00:00')"
            ),
            {"key": f"milestone:1:2025-06-30|owner:{owner_id}|T-7|webhook", "owner": owner_id},
        )
    [owner] = duban.ok("owner", "list", "--format", "json").json()  # upgrades on the way
    assert owner["robots"] == [
        {
            "url": "https://robot.example/send?key=k",
            "preset": "wecom",
            "signed": False,
            "mentions": [],
        }
    ]
    with engine.connect() as conn:
        robot_id = conn.execute(text("SELECT id FROM owner_robot")).scalar_one()
        key, rid = conn.execute(text("SELECT key, robot_id FROM notification")).one()
    assert (key, rid) == (
        f"milestone:1:2025-06-30|owner:{owner_id}|T-7|webhook:{robot_id}",
        robot_id,
    )


def test_an_overlong_message_is_cut_on_a_whole_character(
    world, robots, fake_time, monkeypatch
) -> None:
    world.config(WEBHOOK_ONLY, monkeypatch)
    world.owner("甲", webhook=robots.add("/w", "wecom"), preset="wecom")
    world.obligation("长江" * 1500, code="（一）", leads=["甲"], dues=[DUE])  # 9,000 bytes
    world.at(DUE - timedelta(days=1))
    assert [r["status"] for r in _run(world, fake_time).rows] == ["delivered"]
    [post] = robots.accepted()  # the fake reads it as strict UTF-8
    content = post.body["markdown"]["content"]
    assert 4000 < len(content.encode()) <= 4096 and content.endswith("…")
