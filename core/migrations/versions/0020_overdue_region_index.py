"""carries the region in the index the overdue set probes (PostgreSQL)

``list --region … --overdue`` built the national set of late obligations from the index
``ix_obligation_live`` alone, then fetched every one of them from the table (26,249 rows at
national scale) to keep the few in the region. With ``region_id`` included in that index,
the set keeps only the region's obligations while it is built (``queries.overdue_ids_sql``
with ``region``), and only those are fetched. SQLite does not use the set and keeps the
index as it was.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["id", "state", "parent_id", "created_at", "state_changed_at"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_obligation_live", table_name="obligation")
    op.create_index("ix_obligation_live", "obligation", COLUMNS, postgresql_include=["region_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_obligation_live", table_name="obligation")
    op.create_index("ix_obligation_live", "obligation", COLUMNS)
