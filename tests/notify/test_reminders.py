"""Reminder passes with an injected clock: occasions, downtime, digests, quiet hours,
escalation notices, exactly-once across restarts, and the command line."""

from __future__ import annotations

import ast
import tomllib
import types
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from duban.core import audit
from duban.core.db import dispose_all
from duban.core.hookspecs import hookimpl
from duban.core.models import AuditEvent, Escalation, Notification
from duban.core.plugins import get_host

DUE = date(2025, 6, 30)


def keys(report) -> set[tuple[str, str, str]]:
    return {(r["owner"], r["channel"], r["occasion"]) for r in report.rows}


def sent(report) -> set[tuple[str, str, str]]:
    return {
        (r["owner"], r["channel"], r["occasion"]) for r in report.rows if r["status"] == "delivered"
    }


@pytest.fixture
def campaign(world, receiver):
    """Lead 水利厅 (webhook + inbox), participant 生态环境厅 (inbox only), one milestone."""
    world.owner("水利厅", webhook=f"{receiver.url}/a")
    world.owner("生态环境厅")
    world.obligation(
        "开展饮用水水源地保护专项行动",
        code="（四）",
        leads=["水利厅"],
        participants=["生态环境厅"],
        dues=[DUE],
    )
    return world


def test_downtime_gap_is_caught_up_once_and_old_occasions_are_folded(campaign, receiver) -> None:
    w = campaign
    w.at(DUE - timedelta(days=40))
    assert w.run().rows == []

    w.at(DUE - timedelta(days=30))
    assert sent(w.run()) == {("水利厅", "webhook", "T-30"), ("水利厅", "inbox", "T-30")}
    w.at(DUE - timedelta(days=30), hour=15)  # later passes the same day: nothing again
    assert w.run().rows == []

    # Down from T-29 to T-5: T-7 fell two days ago, inside the 3-day catch-up horizon.
    w.at(DUE - timedelta(days=5))
    assert sent(w.run()) == {
        ("水利厅", "webhook", "T-7"),
        ("水利厅", "inbox", "T-7"),
        ("生态环境厅", "inbox", "T-7"),
    }

    # Down again until D+20: T-1, due, overdue weeks 1 and 2 all fell more than 3 days ago.
    w.at(DUE + timedelta(days=20))
    report = w.run()
    folded = {
        (r["owner"], r["channel"], r["occasion"]) for r in report.rows if r["status"] == "digested"
    }
    assert folded == {
        (o, c, occ)
        for o, c in [("水利厅", "webhook"), ("水利厅", "inbox")]
        for occ in ("T-1", "due", "overdue-week-1", "overdue-week-2")
    } | {("生态环境厅", "inbox", "overdue-week-1"), ("生态环境厅", "inbox", "overdue-week-2")}
    assert sent(report) == {
        ("水利厅", "webhook", "digest"),
        ("水利厅", "inbox", "digest"),
        ("生态环境厅", "inbox", "digest"),
    }
    assert w.run().rows == []

    w.at(DUE + timedelta(days=21))
    assert sent(w.run()) == {
        ("水利厅", "webhook", "overdue-week-3"),
        ("水利厅", "inbox", "overdue-week-3"),
        ("生态环境厅", "inbox", "overdue-week-3"),
    }
    assert w.run().rows == []

    bodies = [h.json() for h in receiver.delivered("/a")]
    assert [b["occasion"] for b in bodies] == ["T-30", "T-7", "digest", "overdue-week-3"]
    digest = bodies[2]
    assert digest["subject"] == "【督办汇总】自2025-06-25以来的4条提醒"
    assert "明天到期" in digest["text"] and "已逾期14天" in digest["text"]
    assert "已逾期21天" in bodies[3]["subject"]
    assert len({h.headers["idempotency-key"] for h in receiver.delivered()}) == 4


def test_exactly_once_across_a_restart_and_a_crashed_worker(
    campaign, receiver, monkeypatch
) -> None:
    from duban.core.notify import dispatch as notify

    w = campaign
    w.at(DUE - timedelta(days=7))
    assert len(w.run().rows) == 3
    # "Restart": every engine and connection gone, a new environment on the same database.
    w.env.close()
    dispose_all()
    assert w.run(worker="second-life").rows == []
    assert len(receiver.delivered()) == 1

    # A worker records the T-1 rows, claims them and dies before sending: nobody sends them
    # until the claim times out, then exactly one pass does.
    w.at(DUE - timedelta(days=1))

    async def crash(**_kw):
        return None

    deliver = notify._deliver
    monkeypatch.setattr(notify, "_deliver", crash)
    w.run(worker="dead")
    monkeypatch.setattr(notify, "_deliver", deliver)
    with w.session() as s:
        claimed = notify.claim(
            s,
            worker="dead",
            at=w.clock.now(),
            lease=timedelta(minutes=15),
            channels=None,
            limit=100,
        )
    assert len(claimed) == 2  # the lead's webhook and inbox (participants get no T-1)
    w.clock.advance(minutes=5)
    assert w.run().rows == []
    w.clock.advance(minutes=11)
    assert {r["status"] for r in w.run().rows} == {"delivered"}
    assert w.run().rows == []
    assert [h.json()["occasion"] for h in receiver.delivered()] == ["T-7", "T-1"]


def test_quiet_hours_defer_everything_but_the_inbox(campaign, receiver, monkeypatch) -> None:
    w = campaign
    w.config('[reminders]\nquiet_hours = "22:00-07:00"\n', monkeypatch)
    w.at(DUE - timedelta(days=8), hour=23)
    assert w.run().rows == []
    w.at(DUE - timedelta(days=7), hour=3)
    report = w.run()
    assert {(r["channel"], r["status"]) for r in report.rows} == {
        ("inbox", "delivered"),
        ("webhook", "deferred"),
    }
    w.at(DUE - timedelta(days=7), hour=6)
    assert w.run().rows == []
    assert receiver.delivered() == []
    w.at(DUE - timedelta(days=7), hour=7)
    assert sent(w.run()) == {("水利厅", "webhook", "T-7")}
    assert w.run().rows == []
    assert len(receiver.delivered()) == 1


def test_escalation_changes_reach_the_addressed_body_and_the_coordinators(
    campaign, receiver
) -> None:
    w = campaign
    w.at(DUE + timedelta(days=2))
    w.run()  # the due-day reminders, out of the way
    ob_id = w.ledger()[0].payload["data"]["obligation_id"]
    opened = w.clock.now()
    with w.session() as s:
        esc = Escalation(
            subject_type="milestone",
            subject_id=1,
            obligation_id=ob_id,
            condition="milestone:1:overdue",
            rule="overdue",
            level="supervise",
            reason="逾期未完成",
            reason_en="Overdue",
            addressed_to_id=w.owners["水利厅"],
            opened_at=opened,
        )
        s.add(esc)
        s.flush()
        audit.record(s, "escalation.open", "escalation", esc.id)  # as the sweep does
    w.clock.advance(minutes=15)
    report = w.run()
    assert keys(report) == {
        ("水利厅", "webhook", "opened:supervise"),
        ("水利厅", "inbox", "opened:supervise"),
        ("coord", "inbox", "opened:supervise"),
    }
    assert w.run().rows == []

    with w.session() as s:
        esc = s.get(Escalation, esc.id)
        esc.level, esc.raised_at = "list", w.clock.now()
        s.add(esc)
        audit.record(s, "escalation.raise", "escalation", esc.id)
    w.clock.advance(minutes=15)
    assert {r["occasion"] for r in w.run().rows} == {"raised:list"}
    with w.session() as s:
        esc = s.get(Escalation, esc.id)
        esc.resolved_at, esc.resolve_reason = w.clock.now(), "已完成整改"
        s.add(esc)
        audit.record(s, "escalation.resolve", "escalation", esc.id)
    w.clock.advance(minutes=15)
    assert {r["occasion"] for r in w.run().rows} == {"resolved:list"}
    assert w.run().rows == []
    bodies = [h.json() for h in receiver.delivered("/a")][-3:]
    assert [b["subject"] for b in bodies] == [
        "【督办通知】（四） 开展饮用水水源地保护专项行动：启动督办",
        "【督办通知】（四） 开展饮用水水源地保护专项行动：升级为挂牌督办",
        "【督办通知】（四） 开展饮用水水源地保护专项行动：挂牌督办已解除",
    ]
    assert "逾期未完成" in bodies[0]["text"] and "已完成整改" in bodies[2]["text"]


def test_policy_per_domain_from_config_and_from_a_plugin(world, monkeypatch) -> None:
    world.owner("甲")
    world.obligation("水", leads=["甲"], dues=[DUE], domain="water")
    world.obligation("渔", leads=["甲"], dues=[DUE], domain="fishing_ban")
    world.obligation("常", leads=["甲"], dues=[DUE])
    world.config("[reminders.water]\nlead = [14]\n", monkeypatch)

    @hookimpl
    def duban_reminder_offsets(obligation):
        return {"lead": [10]} if obligation.domain == "fishing_ban" else None

    plugin = types.ModuleType("test_offsets")
    plugin.duban_reminder_offsets = duban_reminder_offsets
    get_host().register_module("test-offsets", plugin)
    occasions = {}
    for day in range(31, -1, -1):
        world.at(DUE - timedelta(days=day))
        for row in world.run().rows:
            occasions.setdefault(row["subject"].split("：")[0], []).append(row["occasion"])
    assert occasions == {
        "【督办提醒】水": ["T-14"],
        "【督办提醒】渔": ["T-10"],
        "【督办提醒】常": ["T-30", "T-7", "T-1", "due"],
    }


def test_language_follows_the_recipient(world, monkeypatch) -> None:
    world.owner("Water Dept")
    world.owner("水利厅")
    world.obligation("加强水源保护", leads=["Water Dept", "水利厅"], dues=[DUE])
    world.config('[notify.languages]\n"Water Dept" = "en"\n', monkeypatch)
    world.at(DUE - timedelta(days=1))
    subjects = {r["owner"]: r["subject"] for r in world.run().rows}
    assert subjects == {
        "Water Dept": "[duban reminder] 加强水源保护: due tomorrow",
        "水利厅": "【督办提醒】加强水源保护：明天到期",
    }
    text = {n.payload["data"]["recipient"]: n.payload["text"] for n in world.ledger()}
    assert "Your role: the lead owner" in text["Water Dept"]
    assert "贵单位职责：牵头单位" in text["水利厅"]


def test_nothing_after_close_or_done(world) -> None:
    from duban.core.models import Milestone, Obligation

    world.owner("甲")
    done = world.obligation("已完成节点", leads=["甲"], dues=[DUE])
    closed = world.obligation("已销号", leads=["甲"], dues=[DUE])
    with world.session() as s:
        s.exec(select(Milestone).where(Milestone.obligation_id == done)).one().done_on = (
            DUE - timedelta(days=10)
        )
        s.get(Obligation, closed).state = "closed"
    world.at(DUE - timedelta(days=7))
    assert world.run().rows == []


def test_bad_config_is_one_clear_error(world, monkeypatch) -> None:
    from duban.core.errors import UserError

    world.owner("甲")
    world.obligation("事项", leads=["甲"], dues=[DUE])
    world.at(DUE - timedelta(days=7))
    for text, needle in [
        ("[notify]\nconcurrency = 'many'\n", "[notify] concurrency"),
        ("[reminders]\nquiet_hours = '22-7'\n", "quiet_hours"),
        ("[reminders]\nlead = [7, -1]\n", "[reminders] lead"),
        ("[webhook.template]\nt = '{nope}'\n", "placeholder"),
    ]:
        world.config(text, monkeypatch)
        with pytest.raises(UserError, match=needle.replace("[", r"\[").replace("]", r"\]")):
            if "webhook" in text:
                from duban.core.settings import get_settings

                get_settings().webhook  # noqa: B018  (reading the section checks it)
            else:
                world.run()
    assert world.ledger() == []


# The command line --------------------------------------------------------------------------
@pytest.fixture
def cli_world(duban, receiver):
    duban.ok("owner", "add", "省水利厅")
    duban.ok("owner", "add", "省生态环境厅")
    duban.ok("owner", "set", "省水利厅", "--webhook", f"{receiver.url}/water")
    duban.ok(
        "add",
        "开展饮用水水源地环境保护专项行动",
        "--lead",
        "省水利厅",
        "--participant",
        "省生态环境厅",
        "--due",
        DUE.isoformat(),
    )
    duban.ok("user", "add", "wr", "--role", "member", "--owner", "省水利厅")
    return duban


def test_remind_twice_at_the_same_moment_sends_nothing_the_second_time(
    cli_world, receiver, fingerprint
) -> None:
    duban = cli_world
    as_of = (DUE - timedelta(days=7)).isoformat()
    before = fingerprint(duban.url)
    dry = duban.ok("remind", "--dry-run", "--format", "json", as_of=as_of).json()
    assert fingerprint(duban.url) == before  # a dry run writes nothing
    assert {r["status"] for r in dry} == {"due"} and len(dry) == 3

    first = duban.ok("remind", "--format", "json", as_of=as_of).json()
    assert sorted((r["owner"], r["channel"], r["occasion"], r["status"]) for r in first) == [
        ("省水利厅", "inbox", "T-7", "delivered"),
        ("省水利厅", "webhook", "T-7", "delivered"),
        ("省生态环境厅", "inbox", "T-7", "delivered"),
    ]
    assert set(first[0]) == {"subject", "owner", "channel", "occasion", "status"}
    assert duban.ok("remind", "--format", "json", as_of=as_of).json() == []
    assert len(receiver.delivered()) == 1
    assert "0 delivered" in duban.ok("remind", as_of=as_of).stderr


def test_notifications_and_inbox_commands(cli_world, receiver) -> None:
    duban = cli_world
    receiver.plan["/water"] = [500]
    duban.ok("remind", as_of=(DUE - timedelta(days=7)).isoformat())
    failed = duban.ok("notifications", "--failed", "--format", "json").json()
    assert [(r["owner"], r["channel"], r["attempts"]) for r in failed] == [
        ("省水利厅", "webhook", 1)
    ]
    assert failed[0]["last_error"].startswith("DeliveryError: HTTP 500")
    assert len(duban.ok("notifications", "--owner", "省生态环境厅", "--format", "json").json()) == 1
    assert duban("notifications", "--status", "lost").exit_code == 2

    inbox = duban.ok("inbox", "--unread", "--format", "json", actor="wr").json()
    assert len(inbox) == 1 and inbox[0]["subject"].endswith("距截止还有7天")
    assert duban.ok("inbox", "--format", "json").json() == []  # coord's owner gets nothing
    bad = duban("inbox", "--mark-read", str(inbox[0]["id"]), "--mark-read", "9999", actor="wr")
    assert bad.exit_code == 4 and "9999" in bad.stderr
    assert len(duban.ok("inbox", "--unread", "--format", "json", actor="wr").json()) == 1
    duban.ok("inbox", "--mark-read", str(inbox[0]["id"]), actor="wr")
    assert duban.ok("inbox", "--unread", "--format", "json", actor="wr").json() == []
    assert duban.ok("inbox", "--format", "json", actor="wr").json()[0]["read"] is True


def test_only_a_coordinator_sends(cli_world, receiver) -> None:
    result = cli_world("remind", actor="wr", as_of=(DUE - timedelta(days=7)).isoformat())
    assert result.exit_code == 3
    assert receiver.delivered() == []
    assert cli_world("remind", "--dry-run", actor="wr").exit_code == 0


def test_each_pass_that_changes_the_ledger_is_audited(campaign) -> None:
    campaign.at(DUE - timedelta(days=7))
    campaign.run()
    campaign.run()
    with campaign.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "notify.pass")).all()
        assert len(events) == 1 and events[0].after["delivered"] == 3
        assert events[0].actor == "coord"
        assert all(n.created_at == campaign.clock.now() for n in s.exec(select(Notification)))


# Every message has its Chinese --------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "core/notify").glob("*.py")),
    "core/scheduler.py",
    "core/cli/notifications.py",
]


def test_every_message_has_its_translation() -> None:
    from duban.core.notify.messages import LEVEL_WORDS, ROLE_WORDS

    catalog = tomllib.loads((ROOT / "core/locale/zh/notify.toml").read_text(encoding="utf-8"))
    wanted = (
        set(LEVEL_WORDS.values())
        | set(ROLE_WORDS.values())
        | {"{level} started", "raised to {level}", "{level} lifted"}
    )
    for path in MODULES:
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                args = node.args
                pos = {"t": 0, "tr": 1}.get(node.func.id)
                if pos is not None and len(args) > pos and isinstance(args[pos], ast.Constant):
                    wanted.add(args[pos].value)
    assert sorted(wanted - set(catalog)) == []


def test_a_change_during_the_day_is_planned_at_the_next_pass(world, receiver) -> None:
    from duban.core.services.owners import set_owner

    world.owner("甲")
    world.obligation("事项", leads=["甲"], dues=[DUE])
    world.at(DUE - timedelta(days=7))
    assert sent(world.run()) == {("甲", "inbox", "T-7")}
    world.clock.advance(minutes=15)
    assert world.run().rows == []  # nothing changed: not even planned
    with world.session() as s:  # an address added at 09:20 (audited, like every change)
        set_owner(session=s, ref="甲", webhook=f"{receiver.url}/jia")
    world.clock.advance(minutes=15)
    assert sent(world.run()) == {("甲", "webhook", "T-7")}
    assert world.run().rows == []
    assert len(receiver.delivered("/jia")) == 1
