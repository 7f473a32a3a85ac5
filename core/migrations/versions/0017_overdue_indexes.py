"""indexes the overdue set reads

Overdue obligations are found from the late milestones up (``queries.overdue_ids_sql``):
those not done and due before the day, and those done on or after it.
``milestone (done_on, due, obligation_id)`` answers both from the index alone, where the
index on ``(due, done_on)`` had every milestone due before the day read (at national scale
about 30,000 late milestones out of 570,000 due before mid-2024).

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_milestone_done_due", "milestone", ["done_on", "due", "obligation_id"])


def downgrade() -> None:
    op.drop_index("ix_milestone_done_due", table_name="milestone")
