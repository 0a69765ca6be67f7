"""contact: conversations as ACD tasks — their queue, priority, entry time and agent; agents' chat
capacity; queues that take conversations, by channel (issue 24)

Revision ID: 0438chatrouting
Revises: 0437webchat
Create Date: 2026-12-07 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import hotline.core.db
from alembic import op

revision: str = '0438chatrouting'
down_revision: str | None = '0437webchat'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('conversations') as batch:
        batch.add_column(sa.Column('queue', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('priority', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('queued_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('assigned_to', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('assigned_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f('fk_conversations_assigned_to_users'), 'users', ['assigned_to'], ['id'], ondelete='SET NULL'
        )
        batch.create_index(op.f('ix_conversations_assigned_to'), ['assigned_to'])
    with op.batch_alter_table('agent_profiles') as batch:
        batch.add_column(sa.Column('chat_capacity', sa.Integer(), server_default='3', nullable=False))
        batch.add_column(sa.Column('calls_while_chatting', sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table('queues') as batch:
        batch.add_column(sa.Column('chat_channels', sa.JSON(), nullable=True))
    op.execute("UPDATE queues SET chat_channels = '[]'")


def downgrade() -> None:
    with op.batch_alter_table('queues') as batch:
        batch.drop_column('chat_channels')
    with op.batch_alter_table('agent_profiles') as batch:
        batch.drop_column('calls_while_chatting')
        batch.drop_column('chat_capacity')
    with op.batch_alter_table('conversations') as batch:
        batch.drop_index(op.f('ix_conversations_assigned_to'))
        batch.drop_constraint(op.f('fk_conversations_assigned_to_users'), type_='foreignkey')
        batch.drop_column('assigned_at')
        batch.drop_column('assigned_to')
        batch.drop_column('queued_at')
        batch.drop_column('priority')
        batch.drop_column('queue')
