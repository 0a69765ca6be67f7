"""outbound: survey responses (phone, IVR, SMS link) and SMS survey links

Revision ID: 0433surveys01
Revises: 0432amd01
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import hotline.core.db
from alembic import op

revision: str = '0433surveys01'
down_revision: str | None = '0432amd01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'survey_responses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=80), nullable=False),
        sa.Column('at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('call_id', sa.String(length=64), nullable=False),
        sa.Column('queue', sa.String(length=64), nullable=False),
        sa.Column('hotel', sa.String(length=80), nullable=False),
        sa.Column('route', sa.String(length=80), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['campaign_id'], ['outbound_campaigns.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('source'),
    )
    op.create_index('ix_survey_responses_at', 'survey_responses', ['at'], unique=False)
    op.create_index(op.f('ix_survey_responses_customer_id'), 'survey_responses', ['customer_id'], unique=False)
    op.create_table(
        'survey_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('hotel', sa.String(length=80), nullable=False),
        sa.Column('route', sa.String(length=80), nullable=False),
        sa.Column('created_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('expires_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('answered_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['agent_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['campaign_id'], ['outbound_campaigns.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['target_id'], ['outbound_targets.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index(op.f('ix_survey_links_campaign_id'), 'survey_links', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_survey_links_target_id'), 'survey_links', ['target_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_survey_links_target_id'), table_name='survey_links')
    op.drop_index(op.f('ix_survey_links_campaign_id'), table_name='survey_links')
    op.drop_table('survey_links')
    op.drop_index(op.f('ix_survey_responses_customer_id'), table_name='survey_responses')
    op.drop_index('ix_survey_responses_at', table_name='survey_responses')
    op.drop_table('survey_responses')
