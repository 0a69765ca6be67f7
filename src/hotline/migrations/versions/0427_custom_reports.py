"""custom reports: saved definitions, sharing, e-mail schedule

Revision ID: 0427custom01
Revises: 0426exports01
Create Date: 2026-12-05 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.core.db

revision: str = '0427custom01'
down_revision: str | None = '0426exports01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'custom_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('definition', sa.JSON(), nullable=False),
        sa.Column('shared_roles', sa.JSON(), nullable=False),
        sa.Column('schedule', sa.String(length=8), nullable=False),
        sa.Column('hour', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=True),
        sa.Column('monthday', sa.Integer(), nullable=True),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('next_send_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_sent_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=False),
        sa.Column('created_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_custom_reports_owner_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_reports')),
    )
    op.create_index('ix_custom_reports_next_send', 'custom_reports', ['next_send_at'], unique=False)
    op.create_index(op.f('ix_custom_reports_owner_id'), 'custom_reports', ['owner_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_custom_reports_owner_id'), table_name='custom_reports')
    op.drop_index('ix_custom_reports_next_send', table_name='custom_reports')
    op.drop_table('custom_reports')
