"""indexes the overdue set and the dashboard read

Overdue obligations are found from the late milestones up (``queries.overdue_ids_sql``):
those not done and due before the day, and those done on or after it; the dashboard's
upcoming count reads the same for the next 30 days. ``milestone (done_on, due,
obligation_id)`` answers both from the index alone, where the index on ``(due, done_on)``
had every milestone due before the day read (at national scale about 30,000 late
milestones out of 570,000 due before mid-2024). Each of their obligations is then probed
for its state, parent and times: ``obligation (id, state, parent_id, created_at,
state_changed_at)`` answers from the index alone, where the table's pages (200 MB at that
scale) were read one at a time.

The dashboard's target counts are every status a sweep recorded less those of suggested
targets: ``target_status (sweep_id, status)`` (replacing the index on ``sweep_id``, its
prefix) counts the first from the index alone, ``target (id)`` over suggested targets only
(``source`` set and not ``plan``) lists the few others.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SUGGESTED = "source IS NOT NULL AND source <> 'plan'"


def upgrade() -> None:
    op.create_index("ix_milestone_done_due", "milestone", ["done_on", "due", "obligation_id"])
    op.create_index(
        "ix_obligation_live",
        "obligation",
        ["id", "state", "parent_id", "created_at", "state_changed_at"],
    )
    op.drop_index("ix_target_status_sweep_id", table_name="target_status")
    op.create_index("ix_target_status_sweep_status", "target_status", ["sweep_id", "status"])
    op.create_index(
        "ix_target_suggested",
        "target",
        ["id"],
        postgresql_where=sa.text(SUGGESTED),
        sqlite_where=sa.text(SUGGESTED),
    )


def downgrade() -> None:
    op.drop_index("ix_target_suggested", table_name="target")
    op.drop_index("ix_target_status_sweep_status", table_name="target_status")
    op.create_index("ix_target_status_sweep_id", "target_status", ["sweep_id"])
    op.drop_index("ix_obligation_live", table_name="obligation")
    op.drop_index("ix_milestone_done_due", table_name="milestone")
