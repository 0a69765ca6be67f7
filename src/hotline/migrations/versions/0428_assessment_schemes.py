"""reports: the monthly assessment's schemes (weights and targets, per site and per team)

Revision ID: 0428assess01
Revises: 0427custom01
Create Date: 2026-12-05 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.core.db

revision: str = '0428assess01'
down_revision: str | None = '0427custom01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'assessment_schemes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('weight_volume', sa.Integer(), nullable=False),
        sa.Column('weight_handle_time', sa.Integer(), nullable=False),
        sa.Column('weight_quality', sa.Integer(), nullable=False),
        sa.Column('weight_satisfaction', sa.Integer(), nullable=False),
        sa.Column('weight_attendance', sa.Integer(), nullable=False),
        sa.Column('target_calls', sa.Integer(), nullable=False),
        sa.Column('target_aht_seconds', sa.Integer(), nullable=False),
        sa.Column('target_quality', sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column('target_satisfaction', sa.Numeric(precision=3, scale=2), nullable=False),
        sa.Column('target_hours_per_workday', sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column('updated_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_assessment_schemes_team_id_teams'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_schemes')),
        sa.UniqueConstraint('team_id', name=op.f('uq_assessment_schemes_team_id')),
    )


def downgrade() -> None:
    op.drop_table('assessment_schemes')
