"""Coordinators, members and viewers: services refuse what a role may not do."""

from __future__ import annotations


def test_first_user_is_coordinator(duban) -> None:
    users = duban.ok("user", "list", "--format", "json").json()
    assert users == [{"id": 1, "name": "coord", "role": "coordinator", "owner": None}]


def test_viewer_cannot_write(duban) -> None:
    duban.ok("owner", "add", "湖南省水利厅")
    duban.ok("user", "add", "wang", "--role", "viewer")
    result = duban("add", "任务", "--lead", "湖南省水利厅", actor="wang")
    assert result.exit_code == 3
    assert "wang (viewer) may not do this" in result.stderr
    assert duban.ok("list", "--count", actor="wang").stdout.strip() == "0"


def test_unregistered_user_is_refused_with_a_hint(duban) -> None:
    duban.ok("owner", "add", "湖南省水利厅")
    result = duban("add", "任务", "--lead", "湖南省水利厅", actor="stranger")
    assert result.exit_code == 3
    assert "duban user add stranger" in result.stderr


def test_member_writes_only_for_its_owner(duban) -> None:
    from duban.core.db import get_engine, open_session
    from duban.core.errors import PermissionDenied
    from duban.core.services.obligations import add_milestone, get_obligation

    duban.ok("owner", "add", "湖南省水利厅")
    duban.ok("owner", "add", "湖南省林业局")
    mine = duban.ok("add", "水利任务", "--lead", "湖南省水利厅").stdout.strip()
    other = duban.ok("add", "林业任务", "--lead", "湖南省林业局").stdout.strip()
    duban.ok("user", "add", "zhao", "--role", "member", "--owner", "湖南省水利厅")
    from datetime import date

    engine = get_engine(duban.url_for("zhao"))
    with open_session(engine, actor="zhao") as session:
        add_milestone(
            session=session,
            obligation=get_obligation(session=session, ref=mine),
            due=date(2025, 6, 30),
        )
    try:
        with open_session(engine, actor="zhao") as session:
            add_milestone(
                session=session,
                obligation=get_obligation(session=session, ref=other),
                due=date(2025, 6, 30),
            )
    except PermissionDenied as exc:
        assert "member of another owner" in str(exc)
    else:
        raise AssertionError("a member wrote to another owner's obligation")
    # Members are not coordinators: they cannot add users or owners.
    assert duban("owner", "add", "某单位", actor="zhao").exit_code == 3


def test_member_needs_an_owner(duban) -> None:
    result = duban("user", "add", "li", "--role", "member")
    assert result.exit_code == 2 and "--owner" in result.stderr
