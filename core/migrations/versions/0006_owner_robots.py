"""owner robots

An owner may have several chat robots, each with its own preset, signing secret and people to
@mention. Each owner's ``webhook``/``webhook_preset`` becomes its first robot, and the ledger
rows sent to it get the robot in their key (``…|webhook`` -> ``…|webhook:<robot id>``), so
nothing that went out before the upgrade goes out again.

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "owner_robot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("preset", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("mentions", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["owner.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "url"),
    )
    with op.batch_alter_table("owner_robot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_owner_robot_owner_id"), ["owner_id"], unique=False)
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("robot_id", sa.Integer(), nullable=True))
    op.execute(
        "INSERT INTO owner_robot (owner_id, url, preset) "
        "SELECT id, webhook, COALESCE(webhook_preset, 'json') FROM owner "
        "WHERE webhook IS NOT NULL AND webhook <> ''"
    )
    op.execute(
        "UPDATE notification SET robot_id = (SELECT r.id FROM owner_robot r "
        "WHERE r.owner_id = notification.owner_id), "
        "key = key || ':' || CAST((SELECT r.id FROM owner_robot r "
        "WHERE r.owner_id = notification.owner_id) AS VARCHAR) "
        "WHERE channel = 'webhook' AND owner_id IN (SELECT owner_id FROM owner_robot)"
    )
    # Plain DROP COLUMN (SQLite >= 3.35): rebuilding the table would trip the keys onto it.
    op.execute("ALTER TABLE owner DROP COLUMN webhook")
    op.execute("ALTER TABLE owner DROP COLUMN webhook_preset")


def downgrade() -> None:
    with op.batch_alter_table("owner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("webhook_preset", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    op.execute(
        "UPDATE owner SET webhook = (SELECT MIN(r.url) FROM owner_robot r "
        "WHERE r.owner_id = owner.id), webhook_preset = (SELECT MIN(r.preset) "
        "FROM owner_robot r WHERE r.owner_id = owner.id)"
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("robot_id")
    with op.batch_alter_table("owner_robot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_owner_robot_owner_id"))
    op.drop_table("owner_robot")
