"""initial tables

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('service_state',
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('value', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('district',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('block',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('district_id', 'name')
    )
    op.create_index(op.f('ix_block_district_id'), 'block', ['district_id'], unique=False)

    op.create_table('sector',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['block.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('block_id', 'name')
    )
    op.create_index(op.f('ix_sector_block_id'), 'sector', ['block_id'], unique=False)

    op.create_table('village',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sector_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['sector_id'], ['sector.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sector_id', 'name')
    )
    op.create_index(op.f('ix_village_sector_id'), 'village', ['sector_id'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(), nullable=True),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('phone', sa.String(), nullable=False),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('language', sa.String(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('sector_id', sa.Integer(), nullable=True),
    sa.Column('block_id', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=True),
    sa.Column('telegram_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['block.id'], ),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ),
    sa.ForeignKeyConstraint(['sector_id'], ['sector.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('telegram_user_id'),
    sa.UniqueConstraint('worker_id')
    )
    op.create_index(op.f('ix_person_block_id'), 'person', ['block_id'], unique=False)
    op.create_index(op.f('ix_person_district_id'), 'person', ['district_id'], unique=False)
    op.create_index(op.f('ix_person_phone'), 'person', ['phone'], unique=False)
    op.create_index(op.f('ix_person_role'), 'person', ['role'], unique=False)
    op.create_index(op.f('ix_person_sector_id'), 'person', ['sector_id'], unique=False)

    op.create_table('daily_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('sector_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['block.id'], ),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['sector_id'], ['sector.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'day')
    )
    op.create_index('ix_daily_report_block_day', 'daily_report', ['block_id', 'day'], unique=False)
    op.create_index('ix_daily_report_day', 'daily_report', ['day'], unique=False)
    op.create_index('ix_daily_report_district_day', 'daily_report', ['district_id', 'day'], unique=False)
    op.create_index('ix_daily_report_sector_day', 'daily_report', ['sector_id', 'day'], unique=False)

    op.create_table('inbound_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(), nullable=False),
    sa.Column('dedup_key', sa.String(), nullable=False),
    sa.Column('source_key', sa.String(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replies', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_key')
    )
    op.create_index(op.f('ix_inbound_message_source_key'), 'inbound_message', ['source_key'], unique=False)

    op.create_table('person_phone',
    sa.Column('phone', sa.String(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('phone')
    )
    op.create_index(op.f('ix_person_phone_person_id'), 'person_phone', ['person_id'], unique=False)

    op.create_table('post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('block_id', sa.Integer(), nullable=True),
    sa.Column('sector_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['block_id'], ['block.id'], ),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['sector_id'], ['sector.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_post_person_id'), 'post', ['person_id'], unique=False)

    op.create_table('report_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('metric', sa.String(), nullable=False),
    sa.Column('old_value', sa.Integer(), nullable=True),
    sa.Column('new_value', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('change_group', sa.String(), nullable=False),
    sa.Column('source_key', sa.String(), nullable=True),
    sa.Column('channel', sa.String(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['daily_report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_report_change_group', 'report_change', ['change_group'], unique=False)
    op.create_index('ix_report_change_person_changed', 'report_change', ['person_id', 'id'], unique=False)
    op.create_index(op.f('ix_report_change_report_id'), 'report_change', ['report_id'], unique=False)
    op.create_index(op.f('ix_report_change_source_key'), 'report_change', ['source_key'], unique=False)

    op.create_table('report_value',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['daily_report.id'], ),
    sa.PrimaryKeyConstraint('report_id', 'metric')
    )


def downgrade() -> None:
    op.drop_table('report_value')
    op.drop_index(op.f('ix_report_change_source_key'), table_name='report_change')
    op.drop_index(op.f('ix_report_change_report_id'), table_name='report_change')
    op.drop_index('ix_report_change_person_changed', table_name='report_change')
    op.drop_index('ix_report_change_group', table_name='report_change')

    op.drop_table('report_change')
    op.drop_index(op.f('ix_post_person_id'), table_name='post')

    op.drop_table('post')
    op.drop_index(op.f('ix_person_phone_person_id'), table_name='person_phone')

    op.drop_table('person_phone')
    op.drop_index(op.f('ix_inbound_message_source_key'), table_name='inbound_message')

    op.drop_table('inbound_message')
    op.drop_index('ix_daily_report_sector_day', table_name='daily_report')
    op.drop_index('ix_daily_report_district_day', table_name='daily_report')
    op.drop_index('ix_daily_report_day', table_name='daily_report')
    op.drop_index('ix_daily_report_block_day', table_name='daily_report')

    op.drop_table('daily_report')
    op.drop_index(op.f('ix_person_sector_id'), table_name='person')
    op.drop_index(op.f('ix_person_role'), table_name='person')
    op.drop_index(op.f('ix_person_phone'), table_name='person')
    op.drop_index(op.f('ix_person_district_id'), table_name='person')
    op.drop_index(op.f('ix_person_block_id'), table_name='person')

    op.drop_table('person')
    op.drop_index(op.f('ix_village_sector_id'), table_name='village')

    op.drop_table('village')
    op.drop_index(op.f('ix_sector_block_id'), table_name='sector')

    op.drop_table('sector')
    op.drop_index(op.f('ix_block_district_id'), table_name='block')

    op.drop_table('block')
    op.drop_table('district')
    op.drop_table('service_state')
