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


def upgrade() -> None:
    with op.batch_alter_table("target") as batch:
        batch.add_column(sa.Column("source", sa.String(length=64), nullable=True))
    with op.batch_alter_table("milestone") as batch:
        batch.add_column(sa.Column("recurrence", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("implied", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("milestone") as batch:
        batch.drop_column("implied")
        batch.drop_column("recurrence")
    with op.batch_alter_table("target") as batch:
        batch.drop_column("source")
