"""notify: canned responses (常用语) agents insert into chat replies with one click (issue 24)

Revision ID: 0439canned
Revises: 0438chatrouting
Create Date: 2026-12-08 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import hotline.core.db
from alembic import op

revision: str = '0439canned'
down_revision: str | None = '0438chatrouting'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'canned_responses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=40), nullable=False),
        sa.Column('text', sa.String(length=1000), nullable=False),
        sa.Column('category', sa.String(length=12), nullable=False),
        sa.Column('sort_order', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_responses')),
    )
    op.create_index(op.f('ix_canned_responses_category'), 'canned_responses', ['category'])


def downgrade() -> None:
    op.drop_index(op.f('ix_canned_responses_category'), table_name='canned_responses')
    op.drop_table('canned_responses')
