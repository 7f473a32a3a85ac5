"""Who acts: on PostgreSQL the login, enforced by the database itself (group roles, grants,
row-level security, an append-only audit log); on SQLite ``--as``, with the OS user on
every audit event. Logins made here have names of their own, since roles are shared by
every database of the server."""

from __future__ import annotations

import getpass
import io
import uuid
from contextlib import redirect_stderr, redirect_stdout

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from duban.core.db_roles import RULES
from duban.core.testing import Runner, login_url

WATER, FOREST = "湖南省水利厅", "湖南省林业局"


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _cli(url: str, *args: str) -> tuple[int, str]:
    """``duban`` exactly as typed: no ``--as`` unless given; (exit code, stderr)."""
    from duban.core import cli

    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = cli.main(["--db", url, *args])
    return code, err.getvalue()


@pytest.fixture
def pg(duban: Runner) -> Runner:
    if not duban.url.startswith("postgresql"):
        pytest.skip("PostgreSQL's logins, grants and policies")
    return duban


@pytest.fixture
def office(pg: Runner) -> dict[str, str]:
    """Two owners with an obligation each; a member of the first, a viewer, a coordinator."""
    pg.ok("owner", "add", WATER)
    pg.ok("owner", "add", FOREST)
    people = {
        "mine": pg.ok("add", "水利任务", "--lead", WATER, "--due", "2025-06-30").stdout.strip(),
        "other": pg.ok("add", "林业任务", "--lead", FOREST, "--due", "2025-06-30").stdout.strip(),
        "member": _name("m"),
        "viewer": _name("v"),
        "coordinator": _name("c"),
    }
    pg.ok("user", "add", people["member"], "--role", "member", "--owner", WATER)
    pg.ok("user", "add", people["viewer"], "--role", "viewer")
    pg.ok("user", "add", people["coordinator"], "--role", "coordinator")
    return people


def _sql(url: str, statement: str) -> int:
    """Run one statement as the URL's login and commit; the number of rows it changed."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            return conn.execute(text(statement)).rowcount
    finally:
        engine.dispose()


def _denied(url: str, statement: str) -> bool:
    try:
        _sql(url, statement)
    except DBAPIError as exc:
        return getattr(exc.orig, "sqlstate", None) == "42501"
    return False


def test_the_login_is_the_identity(pg: Runner, office: dict[str, str], fingerprint) -> None:
    member = pg.url_for(office["member"])
    before = fingerprint(pg.url)
    code, err = _cli(member, "--as", "coord", "add", "冒名任务", "--lead", WATER)
    assert code == 3 and f"connected as {office['member']}" in err
    assert err.count("\n") == 1
    assert fingerprint(pg.url) == before
    # Reading too, even on the lean path that skips the ORM.
    assert _cli(member, "--as", "coord", "list", "--count")[0] == 3
    for read in (["status"], ["escalations"], ["scorecard"], ["report", "list"]):
        assert _cli(member, "--as", "coord", *read)[0] == 3
    # Naming oneself is fine; so is naming no one.
    assert _cli(member, "--as", office["member"], "list")[0] == 0
    assert _cli(member, "list")[0] == 0
    assert _cli(member, "--as", office["member"], "list", "--count")[0] == 0


def test_duban_user_cannot_claim_another_login(
    pg: Runner, office: dict[str, str], monkeypatch: pytest.MonkeyPatch, fingerprint
) -> None:
    before = fingerprint(pg.url)
    monkeypatch.setenv("DUBAN_USER", "coord")
    assert _cli(pg.url_for(office["viewer"]), "owner", "add", "某单位")[0] == 3
    assert fingerprint(pg.url) == before


def test_audit_events_name_the_login(pg: Runner, office: dict[str, str]) -> None:
    pg.ok("submit", office["mine"], "--evidence", "https://e.org/x", actor=office["member"])
    log = pg.ok("audit", "log", "--format", "json").json()
    assert {e["actor"] for e in log if e["action"] == "closeout.submit"} == {office["member"]}


def test_a_member_writes_only_its_owners_obligations(
    pg: Runner, office: dict[str, str], fingerprint
) -> None:
    before = fingerprint(pg.url)
    refused = pg("submit", office["other"], "--evidence", "https://e.org/x", actor=office["member"])
    assert refused.exit_code == 3
    assert fingerprint(pg.url) == before
    member = pg.url_for(office["member"])
    # Plain SQL: another owner's obligation is out of reach; its own only as far as a
    # submission goes (the state, never to closed, and nothing else).
    other, mine = office["other"], office["mine"]
    assert _sql(member, f"UPDATE obligation SET state = 'submitted' WHERE id = {other}") == 0
    assert _sql(member, f"UPDATE obligation SET state = 'in_progress' WHERE id = {mine}") == 1
    assert _denied(member, f"UPDATE obligation SET state = 'closed' WHERE id = {mine}")
    assert _denied(member, f"UPDATE obligation SET title = 'x' WHERE id = {mine}")
    assert _denied(member, "UPDATE app_user SET role = 'coordinator'")
    assert _denied(member, "INSERT INTO owner (name, kind) VALUES ('x', 'department')")
    # It may not write a submission in someone else's name, nor decide one.
    assert _denied(
        member,
        "INSERT INTO submission (obligation_id, submitted_by, submitted_at) "
        f"VALUES ({office['mine']}, 'coord', now())",
    )
    assert _denied(member, "UPDATE submission SET decision = 'verified'")


def test_the_audit_log_is_append_only(pg: Runner, office: dict[str, str]) -> None:
    for who in ("member", "viewer", "coordinator"):
        url = pg.url_for(office[who])
        assert _denied(url, "DELETE FROM audit_event"), who
        assert _denied(url, "UPDATE audit_event SET actor = 'x'"), who
    # An event written by anyone but the owner names its writer.
    forged = (
        "INSERT INTO audit_event (seq, at, actor, action, entity_type, prev_hash, hash) "
        "VALUES (999, now(), 'coord', 'x', 'x', 'x', 'x')"
    )
    assert _denied(pg.url_for(office["coordinator"]), forged)
    # The schema's owner (who ran duban init) is the one exception.
    assert _sql(pg.url, "DELETE FROM audit_event WHERE false") == 0


def test_a_viewer_changes_nothing(pg: Runner, office: dict[str, str], fingerprint) -> None:
    viewer = office["viewer"]
    before = fingerprint(pg.url)
    for args in (
        ("add", "任务", "--lead", WATER),
        ("owner", "add", "某单位"),
        ("user", "add", _name("x"), "--role", "viewer"),
        ("submit", office["mine"], "--evidence", "https://e.org/x"),
        ("milestone", "move", "1", "--due", "2025-07-01"),
    ):
        assert pg(*args, actor=viewer).exit_code == 3, args
    assert fingerprint(pg.url) == before
    from sqlmodel import SQLModel

    url = pg.url_for(viewer)
    for table in RULES:
        assert _denied(url, f"DELETE FROM {table} WHERE false"), table
        assert _denied(url, f"INSERT INTO {table} DEFAULT VALUES"), table
        known = SQLModel.metadata.tables.get(table)
        column = next(iter(known.columns)).name if known is not None else "version_num"
        assert _denied(url, f"UPDATE {table} SET {column} = {column} WHERE false"), table
    assert pg.ok("list", "--count", actor=viewer).stdout.strip() == "2"


def test_a_login_reads_only_where_it_is_a_user(pg: Runner, office: dict[str, str]) -> None:
    """Group roles are the server's: a viewer of another database, where the group role
    is the same, still reads nothing here."""
    _sql(pg.url, f"DELETE FROM app_user WHERE name = '{office['viewer']}'")
    viewer = create_engine(pg.url_for(office["viewer"]))
    with viewer.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM obligation")).scalar() == 0
    viewer.dispose()


def test_the_submitter_cannot_decide(pg: Runner, office: dict[str, str]) -> None:
    member, coordinator = office["member"], office["coordinator"]
    pg.ok("submit", office["mine"], "--evidence", "https://e.org/x", actor=member)
    assert pg("verify", office["mine"], actor=member).exit_code == 3
    pg.ok("verify", office["mine"], actor=coordinator)
    # A coordinator's own close-out goes to someone else, whatever it claims.
    pg.ok("submit", office["other"], "--evidence", "https://e.org/x", actor=coordinator)
    assert pg("verify", office["other"], actor=coordinator).exit_code == 3
    code, _ = _cli(pg.url_for(coordinator), "--as", "coord", "verify", office["other"])
    assert code == 3
    pg.ok("reject", office["other"], "--reason", "证据不足")


def _groups(pg: Runner, name: str) -> set[str]:
    engine = create_engine(pg.url)
    with engine.connect() as conn:
        groups = conn.execute(
            text(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = :n"
            ),
            {"n": name},
        ).scalars()
        found = set(groups)
    engine.dispose()
    return found


def test_user_add_set_remove_move_the_login(pg: Runner) -> None:
    pg.ok("owner", "add", WATER)
    name = _name("p")
    pg.ok("user", "add", name, "--role", "viewer")
    assert _groups(pg, name) == {"duban_viewer"}
    pg.ok("user", "set", name, "--role", "member", "--owner", WATER)
    assert _groups(pg, name) == {"duban_member"}
    pg.ok("user", "remove", name)
    assert _groups(pg, name) == set()
    # A removed login may not even read.
    assert pg("list", actor=name).exit_code == 3
    assert pg("user", "remove", name).exit_code == 4
    assert pg("user", "remove", "coord").exit_code == 5  # the last coordinator stays
    _sql(pg.url, f'DROP ROLE "{name}"')  # no group holds it now: the suite's end would miss it


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--role", "boss"), "--role: must be one of"),
        (("--role", "member", "--owner", "无此单位"), "--owner: unknown owner"),
    ],
)
def test_user_add_bad_input_creates_nothing(
    duban: Runner, fingerprint, args: tuple[str, ...], says: str
) -> None:
    name = _name("bad")
    before = fingerprint(duban.url)
    result = duban("user", "add", name, *args)
    assert result.exit_code == 2 and says in result.stderr
    assert result.stderr.count("\n") == 1
    assert fingerprint(duban.url) == before
    if duban.url.startswith("postgresql"):
        assert not _role_exists(duban, name)


@pytest.mark.parametrize("name", ["Robert'); DROP", "pg_admin", "duban_member", "1abc", "a" * 64])
def test_a_user_name_must_be_a_role_name(duban: Runner, fingerprint, name: str) -> None:
    before = fingerprint(duban.url)
    result = duban("user", "add", name, "--role", "viewer")
    assert result.exit_code == 2 and "not a valid user name" in result.stderr
    assert result.stderr.count("\n") == 1
    assert fingerprint(duban.url) == before


def _role_exists(runner: Runner, name: str) -> bool:
    engine = create_engine(runner.url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
    engine.dispose()
    return found is not None


def test_on_sqlite_as_acts_and_the_os_user_is_recorded(duban: Runner) -> None:
    if not duban.url.startswith("sqlite"):
        pytest.skip("SQLite: --as names anyone; the OS user is the trace")
    duban.ok("owner", "add", WATER)
    duban.ok("user", "add", "li", "--role", "coordinator")
    duban.ok("owner", "add", FOREST, actor="li")
    [event] = duban.ok("audit", "log", "--actor", "li", "--format", "json").json()
    assert event["os_user"] == getpass.getuser()
    duban.ok("audit", "verify")


def test_every_table_has_a_rule() -> None:
    from sqlmodel import SQLModel

    import duban.core.models  # noqa: F401  (registers the tables)

    assert set(SQLModel.metadata.tables) | {"alembic_version"} == set(RULES)


def test_login_url_keeps_all_but_the_user() -> None:
    url = "postgresql+psycopg://postgres:pw@127.0.0.1:5432/db?options=-csearch_path%3Dt_1"
    assert login_url(url, "li") == url.replace("postgres:pw", "li:pw")
    assert login_url("sqlite:///x.db", "li") == "sqlite:///x.db"


def test_a_member_reports_only_for_its_owner_in_the_database(
    pg: Runner, office: dict[str, str]
) -> None:
    member = office["member"]
    assert pg.ok(
        "report", "add", office["mine"], "--period", "2024-05", "--progress", "进展",
        actor=member, as_of="2024-06-02",
    ).stdout.strip()  # fmt: skip
    url = pg.url_for(member)
    row = (
        "INSERT INTO report (obligation_id, owner_id, role, period, period_end, progress,"
        " submitted_by, submitted_at) SELECT {ob}, o.id, 'lead', '2024-05', '2024-05-31', 'x',"
        " session_user, now() FROM owner o WHERE o.name = '{owner}'"
    )
    # Plain SQL: not for another owner, not on an obligation its owner is not assigned to.
    assert _denied(url, row.format(ob=office["other"], owner=FOREST))
    assert _denied(url, row.format(ob=office["other"], owner=WATER))
    assert _sql(url, row.format(ob=office["mine"], owner=WATER)) == 1
    assert _denied(url, "UPDATE report SET progress = 'changed'")


def test_a_correction_is_kept_by_the_database_alone(pg: Runner, office: dict[str, str]) -> None:
    """Correcting a reading keeps what it replaced (revision 0019's trigger runs as its
    owner, whoever corrects); nobody writes or changes those revisions directly."""
    coordinator = pg.url_for(office["coordinator"])
    _sql(
        coordinator,
        "INSERT INTO region (code, name, level, path) VALUES ('439999', '某县', 'county', '439999')",
    )
    _sql(
        coordinator,
        "INSERT INTO measurement (indicator, subject, region_id, period_start, period_end, value,"
        " recorded_by, recorded_at) SELECT 'general.forest_coverage_rate', 'region:439999', id,"
        " '2023-01-01', '2023-12-31', 50, 'x', now() - interval '1 day' FROM region"
        " WHERE code = '439999'",
    )
    assert _sql(coordinator, "UPDATE measurement SET value = 55, recorded_at = now()") == 1
    with create_engine(pg.url).connect() as conn:
        assert conn.execute(text("SELECT value FROM measurement_revision")).scalars().all() == [50]
    for who in ("member", "coordinator"):
        url = pg.url_for(office[who])
        assert _denied(
            url,
            "INSERT INTO measurement_revision (measurement_id, value, recorded_at, replaced_at)"
            " SELECT id, 1, now(), now() FROM measurement",
        ), who
        assert _denied(url, "UPDATE measurement_revision SET value = 0"), who
        assert _denied(url, "DELETE FROM measurement_revision"), who
