"""whatsapp window and delivery status

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_contact",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id", "channel"),
    )
    op.create_table(
        "provider_message",
        sa.Column("sid", sa.String(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("sid"),
    )
    op.create_index(
        op.f("ix_provider_message_outbox_id"), "provider_message", ["outbox_id"], unique=False
    )
    op.create_table(
        "media_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("mime_type", sa.String(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_media_file_expires_at"), "media_file", ["expires_at"], unique=False)
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("delivery_status", sa.String(), nullable=True))
        batch.add_column(sa.Column("error_code", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("error_code")
        batch.drop_column("delivery_status")
    op.drop_index(op.f("ix_media_file_expires_at"), table_name="media_file")
    op.drop_table("media_file")
    op.drop_index(op.f("ix_provider_message_outbox_id"), table_name="provider_message")
    op.drop_table("provider_message")
    op.drop_table("channel_contact")
