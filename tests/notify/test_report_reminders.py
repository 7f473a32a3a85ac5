"""催报: reminders before a progress report's due day, through real reminder passes with an
injected clock; each sent once, to the lead owners that have not reported."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

DUE = date(2025, 12, 31)


@pytest.fixture
def reporting(world, receiver, monkeypatch):
    """Lead 水利厅 (webhook + inbox) and participant 生态环境厅 of a task recorded on
    2025-01-01 (the world's clock), reporting monthly: January's report is due on 2025-02-05."""
    world.config("[notify]\nretry_base = 60\n", monkeypatch, report_reminders=True)
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


def reports_sent(report) -> list[tuple[str, str, str, str]]:
    return sorted(
        (r["owner"], r["channel"], r["occasion"], r["subject"])
        for r in report.rows
        if r["status"] == "delivered" and "进展报送" in r["subject"]
    )


def test_reminded_three_days_before_and_on_the_due_day_once(reporting, receiver) -> None:
    w = reporting
    seen: dict[date, list[tuple[str, str, str, str]]] = {}
    for offset in range(10):
        day = date(2025, 1, 28) + timedelta(days=offset)
        w.at(day)
        found = reports_sent(w.run())
        w.at(day, hour=15)
        assert w.run().rows == []  # a later pass the same day: nothing again
        if found:
            seen[day] = found
    subject_t3 = "【督办提醒】2025-01进展报送：距截止还有3天"
    subject_due = "【督办提醒】2025-01进展报送：今天到期"
    assert seen == {
        date(2025, 2, 2): [
            ("水利厅", "inbox", "T-3", subject_t3),
            ("水利厅", "webhook", "T-3", subject_t3),
        ],
        date(2025, 2, 5): [
            ("水利厅", "inbox", "due", subject_due),
            ("水利厅", "webhook", "due", subject_due),
        ],
    }
    body = [h.json() for h in receiver.delivered("/a")][-1]
    assert body["kind"] == "report" and body["occasion"] == "due"
    assert body["data"]["due"] == "2025-02-05" and body["data"]["periods"] == ["2025-01"]
    text = next(n for n in w.ledger() if n.occasion == "due" and n.channel == "inbox")
    assert "（四） 开展饮用水水源地保护专项行动（2025-01）" in text.payload["text"]
    assert "截止日期：2025-02-05" in text.payload["text"]
    # Restarted passes do not send them again: the ledger holds them.
    w.at(date(2025, 2, 5), hour=20)
    assert w.run().rows == []


def test_no_reminder_once_reported_or_when_not_reporting(reporting, monkeypatch) -> None:
    from duban.core.services.reports import add_report, set_frequency

    w = reporting
    w.at(date(2025, 3, 1))
    with w.session() as s:
        add_report(session=s, ref=1, period="2025-02", progress="按计划推进", owner="水利厅")
    for day in (date(2025, 3, 2), date(2025, 3, 5)):
        w.at(day)
        assert reports_sent(w.run()) == []
    with w.session() as s:
        set_frequency(session=s, ref=1, frequency="none")
    for day in (date(2025, 4, 2), date(2025, 4, 5)):
        w.at(day)
        assert reports_sent(w.run()) == []


def test_quarterly_due_days_and_the_configured_offsets(reporting, monkeypatch) -> None:
    from duban.core.services.reports import set_frequency

    w = reporting
    w.config(
        "[notify]\nretry_base = 60\n[reports]\nremind_before = [1]\ndue_day = 10\n",
        monkeypatch,
    )
    with w.session() as s:
        set_frequency(session=s, ref=1, frequency="quarterly")
    occasions = []
    for offset in range(0, 100):
        w.at(date(2025, 3, 1) + timedelta(days=offset))
        occasions += [(w.clock.today(), o[2], o[3]) for o in reports_sent(w.run())]
    assert occasions == [
        (date(2025, 4, 9), "T-1", "【督办提醒】2025-Q1进展报送：明天到期"),
        (date(2025, 4, 9), "T-1", "【督办提醒】2025-Q1进展报送：明天到期"),
    ]  # inbox and webhook, one day before 2025-04-10; none in May or June


def test_in_the_recipients_language(world, monkeypatch) -> None:
    world.config(
        '[notify]\nretry_base = 60\n[notify.languages]\n"Water Dept" = "en"\n',
        monkeypatch,
        report_reminders=True,
    )
    world.owner("Water Dept")
    world.obligation("Protect the sources", code="(4)", leads=["Water Dept"], dues=[DUE])
    world.at(date(2025, 2, 2))
    (row,) = world.run().rows
    assert row["subject"] == "[duban reminder] progress reports for 2025-01: due in 3 days"
    (sent,) = world.ledger()
    assert "Task: (4) Protect the sources (2025-01)" in sent.payload["text"]
    assert "Reports outstanding: 1" in sent.payload["text"]


def test_bad_remind_before_is_one_clear_error(world, monkeypatch) -> None:
    from duban.core.errors import UserError

    world.owner("甲")
    world.obligation("事项", leads=["甲"], dues=[DUE])
    world.config("[reports]\nremind_before = [3, -1]\n", monkeypatch)
    world.at(date(2025, 2, 2))
    with pytest.raises(UserError, match=r"\[reports\] remind_before"):
        world.run()
    assert world.ledger() == []
