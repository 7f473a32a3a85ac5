"""drops the indexes on obligation_id that longer indexes already begin with

``assignment (obligation_id)`` repeats the first column of the unique constraint's index
``assignment (obligation_id, owner_id, role)``, and ``milestone (obligation_id)`` that of
``ix_milestone_obligation_due (obligation_id, due)``: every look-up by obligation (a show,
the export, a foreign key's check on delete) uses the longer index as well, while each row
written had the shorter one to keep too. 100k obligations' import kept both while it
loaded (0.13 s of its inserts), and they took 5.8 MB of a 140 MB database.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {"ix_assignment_obligation_id": "assignment", "ix_milestone_obligation_id": "milestone"}


def upgrade() -> None:
    for name, table in INDEXES.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table in INDEXES.items():
        op.create_index(name, table, ["obligation_id"])
