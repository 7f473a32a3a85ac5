"""What each role may do on PostgreSQL, enforced by the database itself.

Three group roles hold the table privileges: ``duban_coordinator``, ``duban_member`` and
``duban_viewer``; ``duban user add`` grants one of them to a person's login. Row-level
security then narrows every write to what the services allow, read from this database's
own ``app_user`` table (a login may be a member here and a coordinator in another database
of the same server). The tables' owner, the login that ran ``duban init``, is not bound by
any of it; nobody else may change or delete an audit event, and an event written by
anyone else must name its writer as the actor.

``RULES`` holds one rule per table; ``apply`` (idempotent) runs after every upgrade, so a
table added by a migration gets its grants and policies with it, and a test insists that
every table has a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from .errors import PermissionDenied, UserError
from .i18n import t
from .vocabulary import UserRole

GROUPS: dict[str, str] = {role.value: f"duban_{role.value}" for role in UserRole}
WRITE = ("INSERT", "UPDATE", "DELETE")

# A person's name is their login on PostgreSQL; the same rule holds on SQLite so that a
# database can move. "pg_" is the server's, "duban_" ours.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,62}")
_RESERVED = {"public", "none", "current_user", "session_user", "current_role", "all"}


@dataclass(frozen=True)
class Rule:
    """Who may write a table. Coordinators hold ``coordinator``; members hold ``member`` and
    only on rows where ``rows`` (SQL on the row) holds. ``actor`` makes every row name its
    writer (the audit log)."""

    coordinator: tuple[str, ...] = WRITE
    member: tuple[str, ...] = ()
    rows: str = "false"
    actor: str | None = None


COORDINATORS = Rule()
_ON_OBLIGATION = "duban_on_obligation({})"

RULES: dict[str, Rule] = {
    "region": COORDINATORS,
    "owner": COORDINATORS,
    "owner_alias": COORDINATORS,
    "owner_robot": COORDINATORS,
    "app_user": COORDINATORS,
    "plan": COORDINATORS,
    "plan_issuer": COORDINATORS,
    "assignment": COORDINATORS,
    "site": COORDINATORS,
    "target": COORDINATORS,
    "sweep": COORDINATORS,
    "target_status": COORDINATORS,
    "setting": COORDINATORS,
    # A member submits its owner's obligations for close-out: it moves the state, never to
    # closed or cancelled (a coordinator's verdict), and changes nothing else.
    "obligation": Rule(
        member=("UPDATE (state, state_changed_at, version, updated_at)",),
        rows=_ON_OBLIGATION.format("id") + " AND state IN ('open', 'in_progress', 'submitted')",
    ),
    # ...and that move is kept, so that a past view sees the state it had then.
    "state_change": Rule(member=("INSERT",), rows=_ON_OBLIGATION.format("obligation_id")),
    "milestone": Rule(member=("INSERT", "UPDATE"), rows=_ON_OBLIGATION.format("obligation_id")),
    # Evidence of a close-out, or of a reading (no obligation).
    "evidence": Rule(
        member=("INSERT",),
        rows="obligation_id IS NULL OR " + _ON_OBLIGATION.format("obligation_id"),
    ),
    # A member asks for close-out in its own name; only coordinators decide.
    "submission": Rule(
        member=("INSERT",),
        rows=_ON_OBLIGATION.format("obligation_id")
        + " AND submitted_by = session_user AND decision IS NULL",
    ),
    # Progress reports for its own owner on obligations that owner is assigned to; a
    # resubmission marks the owner's earlier report superseded.
    "report": Rule(
        member=("INSERT", "UPDATE (superseded_by_id)"),
        rows="owner_id = duban_owner() AND " + _ON_OBLIGATION.format("obligation_id"),
    ),
    # Readings for its owner's region and below.
    "measurement": Rule(member=("INSERT", "UPDATE"), rows="duban_in_region(region_id, site_id)"),
    # What a correction replaced: written by the database's own trigger (revision 0019).
    "measurement_revision": Rule(coordinator=()),
    # Acknowledging an escalation addressed to its owner.
    "escalation": Rule(member=("UPDATE",), rows="addressed_to_id = duban_owner()"),
    # Raises are a coordinator's (a sweep or by hand); members only read them.
    "escalation_change": COORDINATORS,
    # Marking its inbox read.
    "notification": Rule(
        member=("UPDATE",),
        rows="owner_id = duban_owner() OR recipient = 'user:' || session_user",
    ),
    "feed_token": Rule(member=("INSERT", "UPDATE"), rows="created_by = session_user"),
    # Append-only: inserted, never changed, and in the writer's own name.
    "audit_event": Rule(coordinator=("INSERT",), member=("INSERT",), rows="true", actor="actor"),
    # The chain's tip moves with every write.
    "audit_head": Rule(coordinator=("UPDATE",), member=("UPDATE",), rows="true"),
    "alembic_version": Rule(coordinator=()),
}

# Helpers the policies call. SECURITY DEFINER with a fixed search_path: they read app_user
# whatever the caller may read, and a caller's own objects cannot stand in for them.
_FUNCTIONS = """
CREATE OR REPLACE FUNCTION duban_role() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT role FROM app_user WHERE name = session_user
$$;
CREATE OR REPLACE FUNCTION duban_owner() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT owner_id FROM app_user WHERE name = session_user AND role = 'member'
$$;
CREATE OR REPLACE FUNCTION duban_on_obligation(ob integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM assignment a JOIN app_user u ON u.owner_id = a.owner_id
    WHERE u.name = session_user AND u.role = 'member' AND a.obligation_id = ob)
$$;
CREATE OR REPLACE FUNCTION duban_in_region(region integer, site integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM app_user u
    JOIN owner o ON o.id = u.owner_id
    JOIN region home ON home.id = o.region_id
    JOIN region here ON here.id = COALESCE(region, (SELECT s.region_id FROM site s WHERE s.id = site))
    WHERE u.name = session_user AND u.role = 'member'
      AND (here.path = home.path OR here.path LIKE home.path || '/%'))
$$;
"""
_FUNCTION_NAMES = (
    "duban_role()",
    "duban_owner()",
    "duban_on_obligation(integer)",
    "duban_in_region(integer, integer)",
)


def check_name(name: str) -> str:
    """A user name that can be a PostgreSQL login, or UserError."""
    if (
        not _NAME.fullmatch(name)
        or name.lower() in _RESERVED
        or name.lower().startswith(("pg_", "duban_"))
    ):
        raise UserError(
            t(
                "{name!r} is not a valid user name: up to 63 letters, digits, '_', '.' or '-', "
                "starting with a letter or '_', not pg_... or duban_...",
                name=name,
            )
        )
    return name


def _quote(conn: Connection, name: str) -> str:
    return conn.execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _ensure_role(conn: Connection, name: str, *, login: bool) -> None:
    """Create a role unless it exists; safe when several connections try at once."""
    if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
        return
    kind = "LOGIN" if login else "NOLOGIN"
    try:
        with conn.begin_nested():
            conn.execute(text(f"CREATE ROLE {_quote(conn, name)} {kind}"))
    except Exception as exc:
        if _sqlstate(exc) in ("42710", "23505"):  # created meanwhile by someone else
            return
        if _sqlstate(exc) == "42501":
            raise PermissionDenied(
                t(
                    "creating the role {name} takes a login with CREATEROLE (the one that "
                    "ran duban init, or the server's administrator)",
                    name=name,
                )
            ) from None
        raise


def _sqlstate(exc: Exception) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def apply(engine: Engine) -> None:
    """Create the group roles and (re)grant every table by its rule, in the current schema."""
    with engine.begin() as conn:
        for group in GROUPS.values():
            _ensure_role(conn, group, login=False)
        schema = _quote(conn, conn.execute(text("SELECT current_schema()")).scalar_one())
        groups = ", ".join(GROUPS.values())
        writers = f"{GROUPS['coordinator']}, {GROUPS['member']}"
        conn.execute(text(_FUNCTIONS.format(schema=schema)))
        for fn in _FUNCTION_NAMES:
            conn.execute(text(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC"))
            conn.execute(text(f"GRANT EXECUTE ON FUNCTION {fn} TO {groups}"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {groups}"))
        conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {writers}"))
        existing = set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
        )
        for table, rule in RULES.items():
            if table not in existing:
                continue
            _grant(conn, table, rule, groups)


def _grant(conn: Connection, table: str, rule: Rule, groups: str) -> None:
    coordinator, member = GROUPS["coordinator"], GROUPS["member"]
    conn.execute(text(f"REVOKE ALL ON {table} FROM {groups}"))
    conn.execute(text(f"GRANT SELECT ON {table} TO {groups}"))
    if rule.coordinator:
        conn.execute(text(f"GRANT {', '.join(rule.coordinator)} ON {table} TO {coordinator}"))
    if rule.member:
        conn.execute(text(f"GRANT {', '.join(rule.member)} ON {table} TO {member}"))
    if not (rule.coordinator or rule.member):
        return  # nobody writes it, and what it holds is no secret (alembic_version)
    conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    # (SELECT ...) is evaluated once per statement, not once per row.
    role = "(SELECT duban_role())"
    may = f"{role} = 'coordinator' OR ({role} = 'member' AND ({rule.rows}))"
    if rule.actor:
        may = f"{rule.actor} = session_user AND ({may})"
    for name, body in (
        # Only people of this database read it, whatever group their login holds.
        ("duban_read", f"FOR SELECT USING ({role} IS NOT NULL)"),
        ("duban_write", f"FOR ALL TO {coordinator}, {member} USING ({may}) WITH CHECK ({may})"),
    ):
        conn.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
        conn.execute(text(f"CREATE POLICY {name} ON {table} {body}"))


def grant_role(conn: Connection, name: str, role: str | None) -> None:
    """Make the login ``name`` hold exactly the group of ``role`` (None: none of them),
    creating the login first when it does not exist (no password: the server's
    authentication applies, or an administrator sets one)."""
    if role is not None:
        _ensure_role(conn, name, login=True)
    elif not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
        return
    login = _quote(conn, name)
    try:
        with conn.begin_nested():
            for other, group in GROUPS.items():
                if other != role:
                    conn.execute(text(f"REVOKE {group} FROM {login}"))
            if role is not None:
                conn.execute(text(f"GRANT {GROUPS[role]} TO {login}"))
    except Exception as exc:
        if _sqlstate(exc) == "42501":
            raise PermissionDenied(
                t(
                    "granting a duban role to {name} takes a login with CREATEROLE (the one "
                    "that ran duban init, or the server's administrator)",
                    name=name,
                )
            ) from None
        raise
