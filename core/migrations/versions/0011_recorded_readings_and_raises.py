"""recorded readings and raises

Reads as of a date see what was recorded by then (``core/visibility.py``):

- an index on a reading's ``recorded_at``, so that a read asks in one look-up whether any
  reading was recorded after its date (``visibility.readings_recorded_after``) and reads
  as of today pay nothing for the lens;
- ``escalation_change``: each raise of an escalation (the level and addressee it left), so
  that a read as of an earlier date sees the level it had then, as ``state_change`` does
  for an obligation's state; raises made before this revision are copied from the audit
  log's ``escalation.raise`` events.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from duban.core.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_measurement_recorded_at", "measurement", ["recorded_at"])
    op.create_table(
        "escalation_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("escalation_id", sa.Integer(), sa.ForeignKey("escalation.id"), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_level", sa.String(length=16), nullable=False),
        sa.Column("to_level", sa.String(length=16), nullable=False),
        sa.Column("from_addressed_to_id", sa.Integer(), sa.ForeignKey("owner.id")),
    )
    op.create_index("ix_escalation_change_escalation", "escalation_change", ["escalation_id", "at"])
    _raises_from_the_audit_log()


def _raises_from_the_audit_log() -> None:
    """One row per earlier raise, from its audit event (the level it left and reached)."""
    audit = sa.table(
        "audit_event",
        sa.column("seq", sa.Integer),
        sa.column("at", UTCDateTime()),
        sa.column("action", sa.String),
        sa.column("entity_id", sa.String),
        sa.column("before", sa.JSON),
        sa.column("after", sa.JSON),
    )
    change = sa.table(
        "escalation_change",
        sa.column("escalation_id", sa.Integer),
        sa.column("at", UTCDateTime()),
        sa.column("from_level", sa.String),
        sa.column("to_level", sa.String),
        sa.column("from_addressed_to_id", sa.Integer),
    )
    bind = op.get_bind()
    events = bind.execute(
        sa.select(audit.c.at, audit.c.entity_id, audit.c.before, audit.c.after)
        .where(audit.c.action == "escalation.raise")
        .order_by(audit.c.seq)
    )
    rows = [
        {
            "escalation_id": int(entity),
            "at": at,
            "from_level": before["level"],
            "to_level": after["level"],
            "from_addressed_to_id": before.get("addressed_to_id"),
        }
        for at, entity, before, after in events
        if before and after and before.get("level") and after.get("level")
    ]
    if rows:
        bind.execute(sa.insert(change), rows)


def downgrade() -> None:
    op.drop_index("ix_escalation_change_escalation", table_name="escalation_change")
    op.drop_table("escalation_change")
    op.drop_index("ix_measurement_recorded_at", table_name="measurement")
