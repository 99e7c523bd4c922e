"""leave and holidays; who entered a report for someone else

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("entered_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["entered_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["cancelled_by"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_leave_person_days", "leave", ["person_id", "last_day"], unique=False)
    op.create_table(
        "holiday",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["district_id"], ["district.id"]),
        sa.ForeignKeyConstraint(["block_id"], ["block.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_holiday_day", "holiday", ["day"], unique=False)
    with op.batch_alter_table("report_change") as batch:
        batch.add_column(sa.Column("entered_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_report_change_entered_by", "person", ["entered_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("report_change") as batch:
        batch.drop_constraint("fk_report_change_entered_by", type_="foreignkey")
        batch.drop_column("entered_by")
    op.drop_index("ix_holiday_day", table_name="holiday")
    op.drop_table("holiday")
    op.drop_index("ix_leave_person_days", table_name="leave")
    op.drop_table("leave")
