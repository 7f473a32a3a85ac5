"""drops the index on target_status (target_id)

``UNIQUE (target_id, sweep_id)`` has ``target_id`` as its first column, so it answers every
look-up by target that ``ix_target_status_target_id`` answered; the second index only cost
each sweep 100,000 more index entries to write at the benchmark's scale.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_target_status_target_id", table_name="target_status")


def downgrade() -> None:
    op.create_index("ix_target_status_target_id", "target_status", ["target_id"])
