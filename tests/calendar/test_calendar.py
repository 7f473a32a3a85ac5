"""The calendar body: `duban export ics`, its content, and two independent parsers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import vobject
from sqlmodel import select

from duban.core.cli.context import Env
from duban.core.models import Escalation, Milestone, Obligation, Target


@pytest.fixture
def campaign(duban):
    from duban.core.services.regions import add_region

    with Env.create(db_url=duban.url, actor="coord", as_of=None).session() as session:
        add_region(session=session, code="430000", name="湖南省", name_en="Hunan", level="province")
    duban.ok(
        "owner", "add", "湖南省生态环境厅", "--alias", "省生态环境厅", "--name-en", "Hunan DEE"
    )
    duban.ok("owner", "add", "湖南省水利厅", "--alias", "省水利厅", "--name-en", "Hunan DWR")
    water = duban.ok(
        "add",
        "饮用水水源整治",
        "--lead",
        "省生态环境厅",
        "--participant",
        "省水利厅",
        "--due",
        "2025-06-30",
        "--due",
        "2025-12-31",
        "--domain",
        "water",
        "--code",
        "（四）",
        "--region",
        "湖南省",
        as_of="2024-01-10",
    ).stdout.strip()
    rivers = duban.ok(
        "add", "黑臭水体治理", "--lead", "省水利厅", "--due", "2025-09-30", as_of="2024-01-10"
    ).stdout.strip()
    duban.ok(
        "target",
        "add",
        water,
        "--indicator",
        "water.national_section_good_quality_rate",
        "--gte",
        "95",
        "--due",
        "2025-12-31",
        "--name",
        "断面水质优良率",
        as_of="2024-01-10",
    )
    return {"water": int(water), "rivers": int(rivers)}


def export(duban, tmp_path: Path, *args: str, name: str = "out.ics", **kw: str) -> bytes:
    path = tmp_path / name
    duban.ok("export", "ics", *args, "-o", str(path), **kw)
    return path.read_bytes()


def events(body: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def by_summary(body: bytes) -> dict[str, icalendar.Event]:
    return {str(e["SUMMARY"]): e for e in events(body)}


def test_parses_with_icalendar_and_an_independent_parser(hunan, tmp_path: Path) -> None:
    body = export(hunan, tmp_path, "--lang", "zh")
    with Env.create(db_url=hunan.url, actor="coord", as_of=None).session(write=False) as session:
        live = select(Obligation.id).where(Obligation.state.notin_(["closed"]))
        expected = len(
            session.exec(
                select(Milestone.id).where(
                    Milestone.obligation_id.in_(live), Milestone.done_on.is_(None)
                )
            ).all()
        ) + len(session.exec(select(Target.id).where(Target.obligation_id.in_(live))).all())
    parsed = events(body)
    assert len(parsed) == expected > 50
    other = vobject.readOne(body.decode("utf-8"))
    assert len(other.vevent_list) == expected
    mine = {(str(e["UID"]), e.decoded("DTSTART"), str(e["SUMMARY"])) for e in parsed}
    theirs = {(v.uid.value, v.dtstart.value, v.summary.value) for v in other.vevent_list}
    assert mine == theirs
    for event in parsed:
        assert isinstance(event.decoded("DTSTART"), date)
        assert event.decoded("DTEND") == event.decoded("DTSTART") + timedelta(days=1)
        assert event["UID"].endswith("@duban") and "DTSTAMP" in event and "LAST-MODIFIED" in event
        assert "牵头：" in str(event["DESCRIPTION"])


def test_calendar_properties(duban, campaign, tmp_path: Path) -> None:
    body = export(duban, tmp_path, "--lang", "zh")
    text = body.decode()
    cal = icalendar.Calendar.from_ical(body)
    assert "UID" not in cal  # no VCALENDAR-level UID
    assert "METHOD" not in cal  # a subscription, not a scheduling message
    assert cal["X-WR-CALNAME"] == cal["NAME"] == "督办期限：全部任务"
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in text
    zones = list(cal.walk("VTIMEZONE"))
    assert [str(z["TZID"]) for z in zones] == ["Asia/Shanghai"]
    assert all(line.endswith("\r") or not line for line in text.split("\n"))
    assert max(len(line.encode()) for line in text.split("\r\n")) <= 75


def test_event_content(duban, campaign, tmp_path: Path) -> None:
    events_zh = by_summary(export(duban, tmp_path, "--lang", "zh"))
    assert set(events_zh) == {
        "（四）饮用水水源整治",
        "黑臭水体治理",
        "（四）目标：断面水质优良率 ≥ 95%",
    }
    water = [
        e
        for e in events(export(duban, tmp_path, "--lang", "zh"))
        if str(e["SUMMARY"]) == "（四）饮用水水源整治"
    ]
    assert sorted(e.decoded("DTSTART") for e in water) == [date(2025, 6, 30), date(2025, 12, 31)]
    event = water[0]
    description = str(event["DESCRIPTION"])
    assert description.splitlines()[:4] == [
        "（四）饮用水水源整治",
        "牵头：湖南省生态环境厅",
        "参与：湖南省水利厅",
        "状态：未开始",
    ]
    assert "· 断面水质优良率 ≥ 95%：" in description  # the targets' latest status
    assert [str(c) for c in event["CATEGORIES"].cats] == ["water"]
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 0
    # Alarms follow the reminder policy: T-30, T-7, T-1 and the due day, at 09:00 local.
    triggers = [a.decoded("TRIGGER") for a in event.walk("VALARM")]
    assert triggers == [
        timedelta(days=-30, hours=9),
        timedelta(days=-7, hours=9),
        timedelta(days=-1, hours=9),
        timedelta(hours=9),
    ]
    target = events_zh["（四）目标：断面水质优良率 ≥ 95%"]
    assert target.decoded("DTSTART") == date(2025, 12, 31)
    assert "最新评估：" in str(target["DESCRIPTION"])
    english = by_summary(export(duban, tmp_path, "--lang", "en", name="en.ics"))
    assert any(s.startswith("（四）Target: ") and s.endswith(" ≥ 95%") for s in english)
    assert str(english["黑臭水体治理"]["DESCRIPTION"]).splitlines()[1:3] == [
        "Lead: Hunan DWR",
        "State: not started",
    ]


def test_reminder_policy_follows_the_owners_role(duban, campaign, tmp_path: Path) -> None:
    body = export(duban, tmp_path, "--owner", "省水利厅", "--role", "participant")
    (event,) = [
        e
        for e in events(body)
        if "饮用水" in str(e["SUMMARY"]) and e.decoded("DTSTART") == date(2025, 6, 30)
    ]
    assert [a.decoded("TRIGGER") for a in event.walk("VALARM")] == [timedelta(days=-7, hours=9)]


REPORTS_DUE = "进展报送截止："


def test_scopes(duban, campaign, tmp_path: Path) -> None:
    def summaries(*args: str) -> set[str]:
        """The deadlines' summaries; an owner's calendar also has its report due days
        (test_report_due_days), left out here."""
        found = {str(e["SUMMARY"]) for e in events(export(duban, tmp_path, *args, "--lang", "zh"))}
        return {s for s in found if not s.startswith(REPORTS_DUE)}

    assert summaries("--owner", "Hunan DEE") == {
        "（四）饮用水水源整治",
        "（四）目标：断面水质优良率 ≥ 95%",
    }
    assert summaries("--owner", "湖南省水利厅", "--role", "lead") == {"黑臭水体治理"}
    assert summaries("--domain", "water") == summaries("--owner", "省生态环境厅")
    assert summaries("--domain", "waste") == set()
    cal = icalendar.Calendar.from_ical(
        export(duban, tmp_path, "--owner", "省水利厅", "--role", "lead", "--lang", "zh")
    )
    assert cal["NAME"] == "督办期限：湖南省水利厅（牵头）"


def report_days(body: bytes) -> dict[date, icalendar.Event]:
    return {
        e.decoded("DTSTART"): e
        for e in events(body)
        if str(e["UID"]).startswith("report-") or str(e["SUMMARY"]).startswith(REPORTS_DUE)
    }


def test_report_due_days(duban, campaign, tmp_path: Path) -> None:
    """An owner's calendar has one event per day it owes progress reports: the periods of each
    obligation it is assigned to (monthly, the rivers quarterly), less those it reported."""
    water, rivers = str(campaign["water"]), str(campaign["rivers"])
    duban.ok("report", "frequency", rivers, "quarterly", as_of="2024-01-10")
    for period in ("2024-01", "2024-02"):
        duban.ok(
            "report", "add", water, "--period", period, "--progress", "推进中",
            "--owner", "省生态环境厅", as_of="2024-03-02",
        )  # fmt: skip

    # 省水利厅: participant of the water task (monthly, 2024-01 to its last deadline's
    # month 2025-12), lead of the rivers task (quarterly, 2024-Q1 to 2025-Q3).
    body = export(duban, tmp_path, "--owner", "省水利厅", "--lang", "zh", as_of="2024-03-10")
    days = report_days(body)
    assert len(days) == 24 and len(events(body)) == 24 + 4  # + 3 milestones and a target
    assert min(days) == date(2024, 2, 5) and max(days) == date(2026, 1, 5)
    assert all(day.day == 5 for day in days)
    april = days[date(2024, 4, 5)]
    assert str(april["SUMMARY"]) == "进展报送截止：2024-03、2024-Q1（2项）"
    assert str(april["DESCRIPTION"]).splitlines() == [
        "请于2024-04-05前报送以下任务的进展：",
        "· （四）饮用水水源整治（2024-03）",
        "· 黑臭水体治理（2024-Q1）",
    ]
    assert str(april["UID"]) == f"report-{owner_id(duban, '省水利厅')}-20240405@duban"
    assert april.decoded("DTEND") == date(2024, 4, 6) and str(april["TRANSP"]) == "TRANSPARENT"
    # Its alarms follow [reports] remind_before (3 days before and on the day, at 9:00).
    assert [a.decoded("TRIGGER") for a in april.walk("VALARM")] == [
        timedelta(days=-3, hours=9),
        timedelta(hours=9),
    ]
    assert str(days[date(2024, 5, 5)]["SUMMARY"]) == "进展报送截止：2024-04（1项）"
    other = vobject.readOne(body.decode("utf-8"))
    assert {v.dtstart.value for v in other.vevent_list if v.uid.value.startswith("report-")} == set(
        days
    )

    # In the lead's role only: the rivers task's quarters.
    lead_only = report_days(
        export(duban, tmp_path, "--owner", "省水利厅", "--role", "lead", as_of="2024-03-10")
    )
    assert sorted(lead_only) == [
        date(2024, 4, 5), date(2024, 7, 5), date(2024, 10, 5), date(2025, 1, 5),
        date(2025, 4, 5), date(2025, 7, 5), date(2025, 10, 5),
    ]  # fmt: skip

    # 省生态环境厅 reported January and February: its days start with March's report. As of
    # 2024-04-01 its March report (recorded then) is not seen; as of 2024-04-02 it is.
    dee = report_days(export(duban, tmp_path, "--owner", "省生态环境厅", as_of="2024-03-10"))
    assert min(dee) == date(2024, 4, 5) and len(dee) == 22  # 2024-03 to 2025-12
    duban.ok(
        "report", "add", water, "--period", "2024-03", "--progress", "推进中",
        "--owner", "省生态环境厅", as_of="2024-04-02",
    )  # fmt: skip
    assert date(2024, 4, 5) in report_days(
        export(duban, tmp_path, "--owner", "省生态环境厅", as_of="2024-04-01")
    )
    assert min(
        report_days(export(duban, tmp_path, "--owner", "省生态环境厅", as_of="2024-04-02"))
    ) == date(2024, 5, 5)

    english = report_days(
        export(duban, tmp_path, "--owner", "省水利厅", "--lang", "en", as_of="2024-03-10")
    )
    assert str(english[date(2024, 4, 5)]["SUMMARY"]) == "Progress reports due: 2024-03, 2024-Q1 (2)"

    # An obligation that reports on no calendar has no due days; a domain's calendar none.
    duban.ok("report", "frequency", water, "none", as_of="2024-04-02")
    assert report_days(export(duban, tmp_path, "--owner", "省生态环境厅", as_of="2024-04-02")) == {}
    assert report_days(export(duban, tmp_path, "--domain", "water", as_of="2024-04-02")) == {}


def owner_id(duban, name: str) -> int:
    with Env.create(db_url=duban.url, actor="coord", as_of=None).session(write=False) as session:
        from duban.core.services.owners import resolve_owner

        return resolve_owner(session=session, ref=name).id


def test_region_scope_includes_sub_regions(hunan, tmp_path: Path) -> None:
    hunan.ok(
        "add", "芙蓉区任务", "--lead", "芙蓉区人民政府", "--region", "芙蓉区", "--due", "2026-03-31"
    )
    hunan.ok(
        "add", "株洲任务", "--lead", "株洲市人民政府", "--region", "株洲市", "--due", "2026-03-31"
    )
    summaries = {str(e["SUMMARY"]) for e in events(export(hunan, tmp_path, "--region", "长沙市"))}
    assert "芙蓉区任务" in summaries and "株洲任务" not in summaries


def test_byte_identical_when_nothing_changed(duban, campaign, tmp_path: Path) -> None:
    first = export(duban, tmp_path, name="a.ics", as_of="2025-01-01")
    second = export(duban, tmp_path, name="b.ics", as_of="2025-03-15")
    assert first == second
    duban.ok("add", "新任务", "--lead", "省水利厅", "--due", "2026-01-31", as_of="2025-03-15")
    assert export(duban, tmp_path, name="c.ics", as_of="2025-03-15") != first


def test_escalation_prefixes_the_summary(duban, campaign, tmp_path: Path) -> None:
    duban.ok(
        "escalate",
        str(campaign["water"]),
        "--level",
        "supervise",
        "--reason",
        "进度滞后",
        as_of="2024-06-01",
    )
    summaries = {str(e["SUMMARY"]) for e in events(export(duban, tmp_path, "--lang", "zh"))}
    assert "【督办】（四）饮用水水源整治" in summaries
    assert "【督办】（四）目标：断面水质优良率 ≥ 95%" in summaries
    assert "黑臭水体治理" in summaries  # another obligation: no prefix
    with Env.create(db_url=duban.url, actor="coord", as_of=None).session() as session:
        esc = session.exec(select(Escalation)).one()
        esc.level = "list"
        session.add(esc)
    summaries = {str(e["SUMMARY"]) for e in events(export(duban, tmp_path, "--lang", "zh"))}
    assert "【挂牌督办】（四）饮用水水源整治" in summaries
    english = {str(e["SUMMARY"]) for e in events(export(duban, tmp_path, "--lang", "en"))}
    assert "[Public listing] （四）饮用水水源整治" in english


def test_cancelled_obligation_stays_with_status_cancelled(duban, campaign, tmp_path: Path) -> None:
    from duban.core.services.obligations import set_state

    before = by_summary(export(duban, tmp_path, name="before.ics"))["黑臭水体治理"]
    with Env.create(db_url=duban.url, actor="coord", as_of="2024-05-01").session() as session:
        set_state(
            session=session,
            obligation=session.get(Obligation, campaign["rivers"]),
            state="cancelled",
        )
    after = by_summary(export(duban, tmp_path, name="after.ics"))["黑臭水体治理"]
    assert str(after["STATUS"]) == "CANCELLED"
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("LAST-MODIFIED") > before.decoded("LAST-MODIFIED")
    assert list(after.walk("VALARM")) == []


def test_closed_obligations_and_done_milestones_leave_the_feed(
    duban, campaign, tmp_path: Path
) -> None:
    with Env.create(db_url=duban.url, actor="coord", as_of=None).session() as session:
        ms = session.exec(select(Milestone).where(Milestone.due == date(2025, 6, 30))).one()
        ms.done_on = date(2025, 6, 1)
        session.add(ms)
        ob = session.get(Obligation, campaign["rivers"])
        ob.state = "closed"
        session.add(ob)
    dates = sorted(
        (str(e["SUMMARY"]), e.decoded("DTSTART"))
        for e in events(export(duban, tmp_path, "--lang", "zh"))
    )
    assert dates == [
        ("（四）目标：断面水质优良率 ≥ 95%", date(2025, 12, 31)),
        ("（四）饮用水水源整治", date(2025, 12, 31)),
    ]


def test_moved_milestone_keeps_its_uid_and_raises_sequence(duban, campaign, tmp_path: Path) -> None:
    before = [
        e for e in events(export(duban, tmp_path, name="1.ics")) if "饮用水" in str(e["SUMMARY"])
    ]
    first = min(before, key=lambda e: e.decoded("DTSTART"))
    with Env.create(db_url=duban.url, actor="coord", as_of=None).session(write=False) as session:
        ms_id = session.exec(select(Milestone.id).where(Milestone.uid == str(first["UID"]))).one()
    moved = duban.ok(
        "milestone",
        "move",
        str(ms_id),
        "--due",
        "2025-08-31",
        "--format",
        "json",
        as_of="2025-05-20T10:00",
    ).json()
    assert moved["due"] == "2025-08-31" and moved["sequence"] == 1
    after = {str(e["UID"]): e for e in events(export(duban, tmp_path, name="2.ics"))}[
        str(first["UID"])
    ]
    assert after.decoded("DTSTART") == date(2025, 8, 31)
    assert int(after["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
    assert after.decoded("LAST-MODIFIED") == datetime(2025, 5, 20, 2, 0, tzinfo=UTC)
    audit = duban.ok("audit", "verify")
    assert audit.exit_code == 0


def test_milestone_move_errors(duban, campaign) -> None:
    missing = duban("milestone", "move", "999", "--due", "2025-01-01")
    assert missing.exit_code == 4 and "#999" in missing.stderr
    bad = duban("milestone", "move", "1", "--due", "2025-13-01")
    assert bad.exit_code == 2 and "--due" in bad.stderr
    same = duban("milestone", "move", "1", "--due", "2025-06-30")
    assert same.exit_code == 2 and "already due" in same.stderr
    duban.ok("user", "add", "viewer1", "--role", "viewer")
    denied = duban("milestone", "move", "1", "--due", "2025-07-01", actor="viewer1")
    assert denied.exit_code == 3


def test_todo_variant(duban, campaign, tmp_path: Path) -> None:
    body = export(duban, tmp_path, "--todo")
    cal = icalendar.Calendar.from_ical(body)
    todos = list(cal.walk("VTODO"))
    assert len(todos) == 4 and not list(cal.walk("VEVENT"))
    todo = next(t for t in todos if t.decoded("DUE") == date(2025, 9, 30))
    assert str(todo["STATUS"]) == "NEEDS-ACTION" and str(todo["UID"]).endswith("-todo@duban")
    assert "TRIGGER;RELATED=END:-P29DT15H" in body.decode()
    assert len(vobject.readOne(body.decode()).vtodo_list) == 4


def test_export_option_errors(duban, campaign, tmp_path: Path) -> None:
    out = str(tmp_path / "x.ics")
    role_alone = duban("export", "ics", "--role", "lead", "-o", out)
    assert role_alone.exit_code == 2 and "--role" in role_alone.stderr
    unknown = duban("export", "ics", "--owner", "不存在的单位", "-o", out)
    assert unknown.exit_code == 4 and "--owner" in unknown.stderr
    assert duban("export", "ics", "--plan", "nope", "-o", out).exit_code == 4
    assert not Path(out).exists()
    unwritable = duban("export", "ics", "-o", str(tmp_path / "missing" / "x.ics"))
    assert unwritable.exit_code == 2 and "cannot write" in unwritable.stderr


def test_every_calendar_message_has_a_translation() -> None:
    from duban.core.i18n import catalog
    from duban.core.services import calendar

    root = Path(__file__).resolve().parents[2] / "core"
    literal = re.compile(r'\b(?:t|_tr)\((?:lang, )?((?:\s*"[^"]*")+)')
    found = {
        *calendar.STATE_LABELS.values(),
        *calendar.STATUS_LABELS.values(),
        *calendar.RELATIVE.values(),
    }
    for path in (
        root / "services" / "calendar.py",
        root / "services" / "feeds.py",
        root / "cli" / "calendar_feeds.py",
    ):
        for match in literal.finditer(path.read_text(encoding="utf-8")):
            found.add("".join(re.findall(r'"([^"]*)"', match.group(1))))
    assert len(found) > 50
    assert sorted(m for m in found if m not in catalog()) == []
