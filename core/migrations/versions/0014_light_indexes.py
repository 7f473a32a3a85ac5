"""indexes the traffic lights read

A light asks, per obligation, for its last due date and whether its leads reported for a
period by a date as recorded by a day: ``milestone (obligation_id, due)`` answers the first
from the index alone, and ``report (obligation_id, role, period_end, submitted_at)`` the
second (``ix_report_latest`` gains the instant the as-of lens compares).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_milestone_obligation_due", "milestone", ["obligation_id", "due"])
    op.drop_index("ix_report_latest", table_name="report")
    op.create_index(
        "ix_report_latest", "report", ["obligation_id", "role", "period_end", "submitted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_report_latest", table_name="report")
    op.create_index("ix_report_latest", "report", ["obligation_id", "role", "period_end"])
    op.drop_index("ix_milestone_obligation_due", table_name="milestone")
