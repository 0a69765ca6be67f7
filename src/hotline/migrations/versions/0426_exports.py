"""exports: export jobs (who asked for what, progress, file, expiry)

Revision ID: 0426exports01
Revises: 0425callstats
Create Date: 2026-12-05 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.core.db

revision: str = '0426exports01'
down_revision: str | None = '0425callstats'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'export_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=60), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('filters', sa.JSON(), nullable=False),
        sa.Column('pii', sa.Boolean(), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=True),
        sa.Column('file', sa.String(length=200), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('node', sa.String(length=120), nullable=True),
        sa.Column('created_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('expires_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_export_jobs_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs')),
    )
    op.create_index('ix_export_jobs_user_created', 'export_jobs', ['user_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_export_jobs_status'), 'export_jobs', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_export_jobs_status'), table_name='export_jobs')
    op.drop_index('ix_export_jobs_user_created', table_name='export_jobs')
    op.drop_table('export_jobs')
