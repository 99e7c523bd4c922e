"""the official portal's counts per district or block and day

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "official_count",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("cumulative", sa.BigInteger(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "level", "unit_id", "metric"),
    )
    op.create_index(
        "ix_official_count_district_day", "official_count", ["district_id", "day"], unique=False
    )
    op.create_index(
        "ix_official_count_unit",
        "official_count",
        ["level", "unit_id", "metric", "day"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_official_count_unit", table_name="official_count")
    op.drop_index("ix_official_count_district_day", table_name="official_count")
    op.drop_table("official_count")
