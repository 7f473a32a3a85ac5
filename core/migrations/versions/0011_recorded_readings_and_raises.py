"""recorded readings and raises

Reads as of a date see what was recorded by then (``core/visibility.py``):

- an index on a reading's ``recorded_at``, so that a read asks in one look-up whether any
  reading was recorded after its date (``visibility.readings_recorded_after``) and reads
  as of today pay nothing for the lens;
- ``escalation_change``: each raise of an escalation (the level and addressee it left), so
  that a read as of an earlier date sees the level it had then, as ``state_change`` does
  for an obligation's state. Raises made before this revision are in the audit log only.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from duban.core.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0009"
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


def downgrade() -> None:
    op.drop_index("ix_escalation_change_escalation", table_name="escalation_change")
    op.drop_table("escalation_change")
    op.drop_index("ix_measurement_recorded_at", table_name="measurement")
