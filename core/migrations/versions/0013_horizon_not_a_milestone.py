"""an undated task's horizon is no milestone

The plan's end, shown as the horizon of a task the plan dates nothing for, was stored as an
``implied`` milestone, and so counted as a deadline (overdue, escalations, calendars). It is
now worked out when shown. The stored ones not yet done go, reports pointing at them
point at none; one already marked done stays as an ordinary milestone (a record of work).

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_milestone = sa.table(
    "milestone", sa.column("id"), sa.column("implied", sa.Boolean), sa.column("done_on", sa.Date)
)
_report = sa.table("report", sa.column("milestone_id"))


def upgrade() -> None:
    invented = sa.select(_milestone.c.id).where(
        _milestone.c.implied.is_(sa.true()), _milestone.c.done_on.is_(None)
    )
    op.execute(
        _report.update().where(_report.c.milestone_id.in_(invented)).values(milestone_id=None)
    )
    op.execute(_milestone.delete().where(_milestone.c.id.in_(invented)))
    # In place, not a batch copy of the table: that would drop the search triggers (0010).
    op.drop_column("milestone", "implied")


def downgrade() -> None:
    # The horizons removed are not restored: they are worked out when shown.
    op.add_column(
        "milestone", sa.Column("implied", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
