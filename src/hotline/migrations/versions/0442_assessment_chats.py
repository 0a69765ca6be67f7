"""reports: what one conversation handled counts for in the monthly assessment's volume, in calls
(default 1: one conversation = one call; issue 24, chats in 月度考核)

Revision ID: 0442assesschats
Revises: 0441chatwrapup
Create Date: 2026-12-07 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0442assesschats'
down_revision: str | None = '0441chatwrapup'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assessment_schemes') as batch:
        batch.add_column(
            sa.Column('conversation_weight', sa.Numeric(4, 2), server_default='1', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('assessment_schemes') as batch:
        batch.drop_column('conversation_weight')
