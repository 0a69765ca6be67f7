"""plan last run: what a sampling plan's latest run found and picked, for the 质检设置 screen

Revision ID: 0423qaset01
Revises: 0422figures01
Create Date: 2026-12-05 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0423qaset01'
down_revision: str | None = '0422figures01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('qa_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_run', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('qa_plans', schema=None) as batch_op:
        batch_op.drop_column('last_run')
