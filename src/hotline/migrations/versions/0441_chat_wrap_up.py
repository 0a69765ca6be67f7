"""notify: a conversation's wrap-up (the call's disposition codes and a note) and when it was first
given to an agent, for the chat report (issue 24)

Revision ID: 0441chatwrapup
Revises: 0440chatfiles
Create Date: 2026-12-07 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import hotline.core.db
from alembic import op

revision: str = '0441chatwrapup'
down_revision: str | None = '0440chatfiles'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('conversations') as batch:
        batch.add_column(sa.Column('disposition', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('wrap_note', sa.String(length=300), server_default='', nullable=False))
        batch.add_column(
            sa.Column('first_assigned_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index(op.f('ix_conversations_created_at'), ['created_at'])
    op.execute("UPDATE conversations SET first_assigned_at = assigned_at WHERE assigned_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('conversations') as batch:
        batch.drop_index(op.f('ix_conversations_created_at'))
        batch.drop_column('first_assigned_at')
        batch.drop_column('wrap_note')
        batch.drop_column('disposition')
