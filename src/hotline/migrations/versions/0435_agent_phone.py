"""contact: each agent answers on a desk phone or in the browser (issue 23)

Revision ID: 0435agentphone
Revises: 0434phone01
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0435agentphone'
down_revision: str | None = '0434phone01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('agent_profiles') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=8), nullable=False, server_default='desk'))


def downgrade() -> None:
    with op.batch_alter_table('agent_profiles') as batch:
        batch.drop_column('phone')
