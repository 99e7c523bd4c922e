"""village centres, LGD codes and Devanagari names of units, a person's several villages

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("district", "block"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("name_hi", sa.String(), nullable=True))
            batch.add_column(sa.Column("lgd_code", sa.Integer(), nullable=True))
            batch.create_unique_constraint(f"uq_{table}_lgd_code", ["lgd_code"])
    with op.batch_alter_table("sector") as batch:
        batch.add_column(sa.Column("name_hi", sa.String(), nullable=True))
    with op.batch_alter_table("village") as batch:
        batch.add_column(sa.Column("name_hi", sa.String(), nullable=True))
        batch.add_column(sa.Column("lgd_code", sa.Integer(), nullable=True))
        batch.create_index("ix_village_lgd_code", ["lgd_code"])
    op.create_table(
        "village_centre",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("name_hi", sa.String(), nullable=True),
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


def downgrade() -> None:
    op.drop_table("person_village")
    op.drop_table("village_centre")
    with op.batch_alter_table("village") as batch:
        batch.drop_index("ix_village_lgd_code")
        batch.drop_column("lgd_code")
        batch.drop_column("name_hi")
    with op.batch_alter_table("sector") as batch:
        batch.drop_column("name_hi")
    for table in ("district", "block"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_lgd_code", type_="unique")
            batch.drop_column("lgd_code")
            batch.drop_column("name_hi")
