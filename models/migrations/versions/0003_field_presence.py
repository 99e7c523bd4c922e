"""field presence proofs and live tracks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('live_track',
    sa.Column('track_key', sa.String(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(), nullable=False),
    sa.Column('chat_id', sa.String(), nullable=False),
    sa.Column('is_group', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('live_until', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('track_key')
    )
    op.create_index(op.f('ix_live_track_person_id'), 'live_track', ['person_id'], unique=False)
    op.create_table('proof',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('sector_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(), nullable=False),
    sa.Column('chat_id', sa.String(), nullable=False),
    sa.Column('photo_sha256', sa.String(), nullable=False),
    sa.Column('photo_phash', sa.String(), nullable=False),
    sa.Column('photo_path', sa.String(), nullable=True),
    sa.Column('photo_file', sa.Boolean(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.Column('located_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('radius_m', sa.Float(), nullable=False),
    sa.Column('exif_lat', sa.Float(), nullable=True),
    sa.Column('exif_lon', sa.Float(), nullable=True),
    sa.Column('exif_taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exif_distance_m', sa.Float(), nullable=True),
    sa.Column('exif_minutes', sa.Float(), nullable=True),
    sa.Column('reused_proof_id', sa.Integer(), nullable=True),
    sa.Column('reuse_bits', sa.Integer(), nullable=True),
    sa.Column('verdict', sa.String(), nullable=False),
    sa.Column('reasons', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['block.id'], ),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['reused_proof_id'], ['proof.id'], ),
    sa.ForeignKeyConstraint(['sector_id'], ['sector.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_proof_block_day', 'proof', ['block_id', 'day'], unique=False)
    op.create_index('ix_proof_district_day', 'proof', ['district_id', 'day'], unique=False)
    op.create_index('ix_proof_person_day', 'proof', ['person_id', 'day'], unique=False)
    op.create_index(op.f('ix_proof_photo_sha256'), 'proof', ['photo_sha256'], unique=False)
    op.create_index('ix_proof_sector_day', 'proof', ['sector_id', 'day'], unique=False)
    op.create_table('presence_part',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('channel', sa.String(), nullable=False),
    sa.Column('chat_id', sa.String(), nullable=False),
    sa.Column('is_group', sa.Boolean(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('proof_id', sa.Integer(), nullable=True),
    sa.Column('photo_sha256', sa.String(), nullable=True),
    sa.Column('photo_phash', sa.String(), nullable=True),
    sa.Column('photo_path', sa.String(), nullable=True),
    sa.Column('photo_file', sa.Boolean(), nullable=False),
    sa.Column('exif_lat', sa.Float(), nullable=True),
    sa.Column('exif_lon', sa.Float(), nullable=True),
    sa.Column('exif_taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['proof_id'], ['proof.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_presence_part_open', 'presence_part', ['status', 'person_id', 'sent_at'], unique=False)
    op.create_table('track_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('track_key', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('kept', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['track_key'], ['live_track.track_key'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('track_key', 'at')
    )


def downgrade() -> None:
    op.drop_table('track_point')
    op.drop_index('ix_presence_part_open', table_name='presence_part')
    op.drop_table('presence_part')
    op.drop_index('ix_proof_sector_day', table_name='proof')
    op.drop_index(op.f('ix_proof_photo_sha256'), table_name='proof')
    op.drop_index('ix_proof_person_day', table_name='proof')
    op.drop_index('ix_proof_district_day', table_name='proof')
    op.drop_index('ix_proof_block_day', table_name='proof')
    op.drop_table('proof')
    op.drop_index(op.f('ix_live_track_person_id'), table_name='live_track')
    op.drop_table('live_track')
