"""outbound: answering-machine detection per campaign

Revision ID: 0432amd01
Revises: 0431feed01
Create Date: 2026-12-06 07:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0432amd01'
down_revision: str | None = '0431feed01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detect_machines', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('machine_message', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outbound_campaigns', schema=None) as batch_op:
        batch_op.drop_column('machine_message')
        batch_op.drop_column('detect_machines')
