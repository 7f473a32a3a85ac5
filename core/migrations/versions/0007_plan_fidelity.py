"""plan fidelity: who states a target, recurring and implied milestones

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Columns added and dropped in place: a batch copy would reflect the tables first, and the
# reflection skips (with a warning on the terminal) the expression index of 0002.
def upgrade() -> None:
    op.add_column("target", sa.Column("source", sa.String(length=64), nullable=True))
    op.add_column("milestone", sa.Column("recurrence", sa.String(length=16), nullable=True))
    op.add_column(
        "milestone", sa.Column("implied", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("milestone", "implied")
    op.drop_column("milestone", "recurrence")
    op.drop_column("target", "source")
