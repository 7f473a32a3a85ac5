"""obligation listing index

An index in the order of ``sort:code`` — plans' obligations in plan order, then those of no
plan — so the first window of a filtered list is read in order and stops at its last row
instead of sorting every match.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_obligation_listing",
        "obligation",
        [sa.text("(plan_id IS NULL)"), "plan_id", "seq", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_obligation_listing", table_name="obligation")
