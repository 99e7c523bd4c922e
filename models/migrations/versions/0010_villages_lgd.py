"""village centres, LGD codes and Devanagari names of units, a person's several villages

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Only columns and indexes are added to the unit tables (no constraint): SQLite adds and drops
# such columns in place, so neither direction has to copy a table other tables point at.
def upgrade() -> None:
    for table in ("district", "block", "sector", "village"):
        op.add_column(table, sa.Column("name_hi", sa.String(), nullable=True))
    for table in ("district", "block", "village"):
        op.add_column(table, sa.Column("lgd_code", sa.Integer(), nullable=True))
        unique = table != "village"  # a village may lie in the sectors of two supervisors
        op.create_index(f"ix_{table}_lgd_code", table, ["lgd_code"], unique=unique)
    op.create_table(
        "village_centre",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("lgd_code", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["block_id"], ["block.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("block_id", "name"),
    )
    op.create_index("ix_village_centre_block_id", "village_centre", ["block_id"])
    op.create_index("ix_village_centre_lgd_code", "village_centre", ["lgd_code"])
    op.create_table(
        "person_village",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["village_id"], ["village.id"]),
        sa.PrimaryKeyConstraint("person_id", "village_id"),
    )
    op.create_index("ix_person_village_village_id", "person_village", ["village_id"])


def _drop_column(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')  # in place (SQLite 3.35+)
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    op.drop_table("person_village")
    op.drop_table("village_centre")
    for table in ("district", "block", "village"):
        op.drop_index(f"ix_{table}_lgd_code", table_name=table)
        _drop_column(table, "lgd_code")
    for table in ("district", "block", "sector", "village"):
        _drop_column(table, "name_hi")
