"""several WhatsApp sender numbers: the business number each person last wrote to

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Unknown for contacts noted before: their messages go by the stable choice among the numbers.
    with op.batch_alter_table("channel_contact") as batch:
        batch.add_column(sa.Column("business_number", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_contact") as batch:
        batch.drop_column("business_number")
