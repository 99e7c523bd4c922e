"""delivery at state scale: outbox lanes and priorities, the bots each person started, WhatsApp opt-in

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lane", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("opened_conversation", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Rows already queued keep going by their channel: the lane of the one bot is its name.
    op.execute("UPDATE outbox SET lane = channel")
    op.create_index(
        "ix_outbox_lane_due", "outbox", ["status", "lane", "priority", "next_attempt_at"]
    )
    op.create_table(
        "telegram_bot_chat",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("bot", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id", "bot"),
    )
    op.create_table(
        "whatsapp_opt_in",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )
    # Everyone who has written to the business number before has opted in.
    op.execute(
        "INSERT INTO whatsapp_opt_in (person_id, opted_in, source, updated_at) "
        "SELECT DISTINCT person_id, true, 'wrote', CURRENT_TIMESTAMP FROM channel_contact "
        "WHERE channel = 'whatsapp' AND person_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("whatsapp_opt_in")
    op.drop_table("telegram_bot_chat")
    op.drop_index("ix_outbox_lane_due", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("opened_conversation")
        batch.drop_column("priority")
        batch.drop_column("lane")
