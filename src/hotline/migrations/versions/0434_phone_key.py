"""telephony: the key browsers' phone credentials are signed with (made once, shared by every node)

Revision ID: 0434phone01
Revises: 0433surveys01
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0434phone01'
down_revision: str | None = '0433surveys01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'phone_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_key')),
    )


def downgrade() -> None:
    op.drop_table('phone_key')
