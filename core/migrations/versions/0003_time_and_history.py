"""time and history

What as-of reads need to see the record as it stood: when an obligation's state changed and
what it was before (``state_change``), when a milestone's completion was recorded and by
whom, and who convenes an escalation apart from whom it addresses. On SQLite, triggers make
audit events append-only.

Revision ID: 0003
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from duban.core.models import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Whether anything was recorded after a date is one look-up on each of these.
INDEXED = (
    ("obligation", "created_at"),
    ("obligation", "state_changed_at"),
    ("milestone", "done_at"),
)
# Append-only audit on SQLite (PostgreSQL protects the rows by privileges).
TRIGGERS = {
    "audit_event_no_update": "UPDATE",
    "audit_event_no_delete": "DELETE",
}


def upgrade() -> None:
    op.create_table(
        "state_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("obligation_id", sa.Integer(), sa.ForeignKey("obligation.id"), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
    )
    op.create_index("ix_state_change_obligation", "state_change", ["obligation_id", "at"])
    # Plain ADD COLUMN on every backend: nullable columns need no table rebuild.
    op.add_column("obligation", sa.Column("state_changed_at", UTCDateTime(timezone=True)))
    op.add_column("milestone", sa.Column("done_at", UTCDateTime(timezone=True)))
    op.add_column("milestone", sa.Column("done_by", sa.String()))
    for table, column in INDEXED:
        op.create_index(f"ix_{table}_{column}", table, [column])
    with op.batch_alter_table("escalation") as batch:  # SQLite adds a foreign key by a rebuild
        batch.add_column(sa.Column("convened_by_id", sa.Integer()))
        batch.create_foreign_key(
            "fk_escalation_convened_by_id_owner", "owner", ["convened_by_id"], ["id"]
        )
    if op.get_bind().dialect.name == "sqlite":
        for name, verb in TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("escalation") as batch:
        batch.drop_constraint("fk_escalation_convened_by_id_owner", type_="foreignkey")
        batch.drop_column("convened_by_id")
    for table, column in INDEXED:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    op.drop_column("milestone", "done_by")
    op.drop_column("milestone", "done_at")
    op.drop_column("obligation", "state_changed_at")
    op.drop_index("ix_state_change_obligation", table_name="state_change")
    op.drop_table("state_change")
