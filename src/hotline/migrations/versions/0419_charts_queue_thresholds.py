"""queue thresholds: the wallboard's amber and red marks per queue (None: the defaults)

Revision ID: 0419charts01
Revises: 6202d2546209
Create Date: 2026-12-05 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0419charts01'
down_revision: str | None = '6202d2546209'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thresholds', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.drop_column('thresholds')
