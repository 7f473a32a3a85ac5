"""audit events record the operating-system user

On SQLite ``actor`` is whatever ``--as`` said; the OS user who ran the command is the
trace of the person. PostgreSQL's group roles and policies are not schema objects of this
revision: ``db_roles.apply`` (re)creates them after every upgrade.

Revision ID: 0004
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("os_user", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("os_user")
