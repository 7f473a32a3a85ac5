"""`duban feed` and `duban serve`: secret URLs, validators and 304s over real HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import icalendar
import pytest
from sqlmodel import select

from duban.core.cli.context import Env
from duban.core.db import get_engine
from duban.core.models import Assignment, AuditEvent, FeedToken, Milestone
from duban.core.serve import create_app, serve_in_thread


@pytest.fixture
def campaign(duban):
    duban.ok("owner", "add", "湖南省生态环境厅", "--alias", "省生态环境厅")
    duban.ok("owner", "add", "湖南省水利厅", "--alias", "省水利厅")
    duban.ok(
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
        as_of="2024-01-10T09:00",
    )
    duban.ok(
        "add", "黑臭水体治理", "--lead", "省水利厅", "--due", "2025-09-30", as_of="2024-01-11T09:00"
    )
    return duban


@pytest.fixture
def base_url(db_url: str, campaign) -> Iterator[str]:
    app = create_app(engine=get_engine(db_url), actor="coord")
    with serve_in_thread(app) as url:
        yield url


def add_feed(duban, base_url: str, *args: str) -> dict:
    return duban.ok("feed", "add", *args, "--base-url", base_url, "--format", "json").json()


def fetch(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=30, trust_env=False)  # loopback: no proxy


def test_feed_add_prints_id_url_and_webcal(campaign, base_url: str) -> None:
    feed = add_feed(campaign, base_url, "--owner", "省生态环境厅", "--name", "生态环境厅期限")
    assert set(feed) == {"id", "url", "webcal"}
    token = feed["url"].removeprefix(f"{base_url}/feeds/").removesuffix(".ics")
    assert len(token) == 43  # 32 random bytes, URL-safe base64
    assert feed["webcal"] == "webcal://" + feed["url"].removeprefix("http://")
    with Env.create(db_url=campaign.url, actor="coord", as_of=None).session(write=False) as session:
        row = session.get(FeedToken, feed["id"])
        token_hash = row.token_hash
        stored = " ".join(str(v) for v in row.model_dump().values())
        audit = " ".join(str(e.after) for e in session.exec(select(AuditEvent)).all())
    assert token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored and token not in audit and token_hash not in audit
    listed = campaign.ok("feed", "list", "--format", "json").json()
    assert [(f["id"], f["name"]) for f in listed] == [(feed["id"], "生态环境厅期限")]
    assert token not in campaign.ok("feed", "list", "--format", "json").stdout


def test_feed_add_needs_exactly_one_scope(campaign) -> None:
    for args in ([], ["--owner", "省水利厅", "--all"], ["--region", "x", "--domain", "water"]):
        result = campaign("feed", "add", *args)
        assert result.exit_code == 2 and "exactly one" in result.stderr
    assert campaign("feed", "add", "--all", "--role", "lead").exit_code == 2
    assert campaign("feed", "add", "--all", "--base-url", "ftp://x").exit_code == 2
    assert campaign.ok("feed", "list", "--format", "json").json() == []


def test_feed_permissions(campaign) -> None:
    campaign.ok("user", "add", "li", "--role", "member", "--owner", "省水利厅")
    campaign.ok("user", "add", "wang", "--role", "viewer")
    assert campaign("feed", "add", "--all", actor="wang").exit_code == 3
    assert campaign("feed", "add", "--owner", "省生态环境厅", actor="li").exit_code == 3
    own = campaign.ok(
        "feed", "add", "--owner", "湖南省水利厅", "--format", "json", actor="li"
    ).json()
    other = campaign.ok("feed", "add", "--all", "--format", "json").json()
    assert [
        f["id"] for f in campaign.ok("feed", "list", "--format", "json", actor="li").json()
    ] == [own["id"]]
    assert campaign("feed", "revoke", str(other["id"]), actor="li").exit_code == 3
    campaign.ok("feed", "revoke", str(own["id"]), actor="li")


def test_serves_the_calendar(campaign, base_url: str) -> None:
    feed = add_feed(campaign, base_url, "--all", "--lang", "zh")
    response = fetch(feed["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "content-disposition" not in response.headers
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    # Last-Modified is the latest change in scope (the second obligation's creation), not now.
    assert parsedate_to_datetime(response.headers["last-modified"]) == datetime(
        2024, 1, 11, 1, 0, tzinfo=UTC
    )
    cal = icalendar.Calendar.from_ical(response.content)
    assert sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT")) == [
        "饮用水水源整治",
        "饮用水水源整治",
        "黑臭水体治理",
    ]
    assert fetch(feed["url"]).content == response.content  # byte-identical
    todo = fetch(feed["url"] + "?todo=1")
    assert (
        todo.status_code == 200
        and len(icalendar.Calendar.from_ical(todo.content).walk("VTODO")) == 3
    )
    assert todo.headers["etag"] != response.headers["etag"]
    health = fetch(f"{base_url}/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


def test_not_modified(campaign, base_url: str) -> None:
    feed = add_feed(campaign, base_url, "--owner", "省水利厅")
    first = fetch(feed["url"])
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    again = fetch(feed["url"], **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["last-modified"] == last_modified
    assert fetch(feed["url"], **{"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert fetch(feed["url"], **{"If-None-Match": '"other"'}).status_code == 200
    assert fetch(feed["url"], **{"If-Modified-Since": last_modified}).status_code == 304
    earlier = format_datetime(
        parsedate_to_datetime(last_modified) - timedelta(seconds=1), usegmt=True
    )
    assert fetch(feed["url"], **{"If-Modified-Since": earlier}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110).
    assert (
        fetch(
            feed["url"], **{"If-None-Match": '"other"', "If-Modified-Since": last_modified}
        ).status_code
        == 200
    )
    # A change in scope: a new ETag, a later Last-Modified, and the old validators get 200.
    campaign.ok(
        "add", "新任务", "--lead", "省水利厅", "--due", "2026-01-31", as_of="2024-03-01T08:00"
    )
    changed = fetch(feed["url"], **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert parsedate_to_datetime(changed.headers["last-modified"]) == datetime(
        2024, 3, 1, 0, 0, tzinfo=UTC
    )
    assert fetch(feed["url"], **{"If-Modified-Since": last_modified}).status_code == 200


def test_wrong_and_revoked_tokens_get_a_plain_404(campaign, base_url: str) -> None:
    feed = add_feed(campaign, base_url, "--all")
    good = feed["url"]
    token = good.rsplit("/", 1)[1].removesuffix(".ics")
    wrong = fetch(good.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B")))
    malformed = fetch(f"{base_url}/feeds/short.ics")
    assert fetch(good).status_code == 200
    campaign.ok("feed", "revoke", str(feed["id"]))
    revoked = fetch(good)
    for response in (wrong, malformed, revoked, fetch(f"{base_url}/nothing")):
        assert response.status_code == 404
        assert response.content == b"Not Found"
    assert {r.headers["content-type"] for r in (wrong, revoked)} == {"text/plain; charset=utf-8"}
    again = campaign("feed", "revoke", str(feed["id"]))
    assert again.exit_code == 5 and "already revoked" in again.stderr
    assert campaign("feed", "revoke", "99").exit_code == 4
    assert campaign("feed", "rotate", str(feed["id"])).exit_code == 5


def test_rotate_replaces_the_secret(campaign, base_url: str) -> None:
    feed = add_feed(campaign, base_url, "--owner", "省生态环境厅")
    body = fetch(feed["url"]).content
    rotated = campaign.ok(
        "feed", "rotate", str(feed["id"]), "--base-url", base_url, "--format", "json"
    ).json()
    assert rotated["id"] == feed["id"] and rotated["url"] != feed["url"]
    assert fetch(feed["url"]).status_code == 404
    assert fetch(rotated["url"]).content == body
    with Env.create(db_url=campaign.url, actor="coord", as_of=None).session(write=False) as session:
        actions = [
            e.action
            for e in session.exec(select(AuditEvent).where(AuditEvent.entity_type == "feed"))
        ]
    assert actions == ["feed.add", "feed.rotate"]


def test_moved_deadline_reappears_with_a_higher_sequence(campaign, base_url: str) -> None:
    feed = add_feed(campaign, base_url, "--owner", "省生态环境厅")
    first = fetch(feed["url"])
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(first.content).walk("VEVENT")}
    with Env.create(db_url=campaign.url, actor="coord", as_of=None).session(write=False) as session:
        ms_id, uid = session.exec(
            select(Milestone.id, Milestone.uid).where(Milestone.due == datetime(2025, 6, 30).date())
        ).one()
    campaign.ok("milestone", "move", str(ms_id), "--due", "2025-07-31", as_of="2024-05-06T12:00")
    second = fetch(feed["url"], **{"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    moved = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(second.content).walk("VEVENT")}[
        uid
    ]
    assert moved.decoded("DTSTART") == datetime(2025, 7, 31).date()
    assert int(moved["SEQUENCE"]) > int(events[uid]["SEQUENCE"])
    assert parsedate_to_datetime(second.headers["last-modified"]) == datetime(
        2024, 5, 6, 4, 0, tzinfo=UTC
    )


def test_last_modified_moves_forward_when_deadlines_disappear(campaign, base_url: str) -> None:
    from duban.core.models import Obligation
    from duban.core.services.obligations import set_state

    feed = add_feed(campaign, base_url, "--owner", "省水利厅")
    first = fetch(feed["url"])
    lm1 = parsedate_to_datetime(first.headers["last-modified"])
    # Cancelling an obligation: its events turn CANCELLED, Last-Modified is the cancellation.
    with Env.create(
        db_url=campaign.url, actor="coord", as_of="2024-06-01T10:00"
    ).session() as session:
        set_state(session=session, obligation=session.get(Obligation, 2), state="cancelled")
    second = fetch(feed["url"])
    lm2 = parsedate_to_datetime(second.headers["last-modified"])
    assert lm2 == datetime(2024, 6, 1, 2, 0, tzinfo=UTC) > lm1
    assert b"STATUS:CANCELLED" in second.content
    # An obligation leaving the scope leaves no newer timestamp behind: Last-Modified still
    # moves forward (never backwards), and a client holding the old copy gets the new one.
    with Env.create(db_url=campaign.url, actor="coord", as_of=None).session() as session:
        for row in session.exec(select(Assignment).where(Assignment.obligation_id == 2)):
            session.delete(row)
    third = fetch(feed["url"], **{"If-Modified-Since": second.headers["last-modified"]})
    assert third.status_code == 200 and b"STATUS:CANCELLED" not in third.content
    lm3 = parsedate_to_datetime(third.headers["last-modified"])
    assert lm3 > lm2
    assert (
        fetch(feed["url"], **{"If-Modified-Since": third.headers["last-modified"]}).status_code
        == 304
    )
    assert parsedate_to_datetime(fetch(feed["url"]).headers["last-modified"]) == lm3
