"""keeps a reading's figures when a correction replaces them

A correction overwrote a reading's figures and moved its ``recorded_at``: a read as of a day
before the correction lost the reading altogether. ``measurement_revision`` keeps what each
correction replaced, with when that had been recorded and when it was replaced, so that such
a read sees the figures it would have seen then (``visibility.readings_then``).

The database writes it, on every update that moves ``recorded_at`` (every correction does,
whichever path makes it: a person, an import, a plugin): a trigger on SQLite, a trigger
function on PostgreSQL that runs as its owner, so that nobody writes revisions directly
(``db_roles``: read by all, written by none).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from duban.core.models import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = "value, numerator, denominator, source, note, recorded_by, recorded_at"
OLD = ", ".join(f"OLD.{c}" for c in KEPT.split(", "))
INSERT = (
    f"INSERT INTO measurement_revision (measurement_id, {KEPT}, replaced_at)"
    f" VALUES (OLD.id, {OLD}, NEW.recorded_at);"
)


def upgrade() -> None:
    op.create_table(
        "measurement_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("measurement_id", sa.Integer(), sa.ForeignKey("measurement.id"), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("numerator", sa.Float()),
        sa.Column("denominator", sa.Float()),
        sa.Column("source", sa.String()),
        sa.Column("note", sa.String()),
        sa.Column("recorded_by", sa.String()),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_measurement_revision_measurement",
        "measurement_revision",
        ["measurement_id", "replaced_at"],
    )
    op.create_index("ix_measurement_revision_replaced_at", "measurement_revision", ["replaced_at"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER measurement_keep_revision AFTER UPDATE ON measurement"
            f" WHEN OLD.recorded_at IS NOT NEW.recorded_at BEGIN {INSERT} END"
        )
        return
    op.execute(
        "CREATE FUNCTION duban_keep_revision() RETURNS trigger"
        " LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$"
        f" BEGIN {INSERT} RETURN NULL; END $$"
    )
    op.execute("REVOKE ALL ON FUNCTION duban_keep_revision() FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER measurement_keep_revision AFTER UPDATE ON measurement FOR EACH ROW"
        " WHEN (OLD.recorded_at IS DISTINCT FROM NEW.recorded_at)"
        " EXECUTE FUNCTION duban_keep_revision()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS measurement_keep_revision")
    else:
        op.execute("DROP TRIGGER IF EXISTS measurement_keep_revision ON measurement")
        op.execute("DROP FUNCTION IF EXISTS duban_keep_revision()")
    op.drop_index("ix_measurement_revision_replaced_at", table_name="measurement_revision")
    op.drop_index("ix_measurement_revision_measurement", table_name="measurement_revision")
    op.drop_table("measurement_revision")
