"""notify: customers' SMS replies thread into conversations; a reply TD opts its number out (issue 24)

Revision ID: 0436smsreplies
Revises: 0435agentphone
Create Date: 2026-12-09 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import hotline.core.db
from alembic import op

revision: str = '0436smsreplies'
down_revision: str | None = '0435agentphone'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('message_opt_outs') as batch:
        batch.alter_column('customer_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('address', sa.String(length=254), nullable=True))
        batch.create_unique_constraint(batch.f('uq_message_opt_outs_address_channel'), ['address', 'channel'])
        batch.create_index(batch.f('ix_message_opt_outs_address'), ['address'], unique=False)

    op.create_table('conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('last_message_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by'], ['users.id'], name=op.f('fk_conversations_closed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_conversations_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_conversations_listing', ['status', 'last_message_at'], unique=False)
        batch_op.create_index('uq_conversations_open', ['channel', 'address'], unique=True,
                              sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('conversation_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('gateway_id', sa.String(length=80), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_conversation_messages_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_messages_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_conversation_messages_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_messages')),
    sa.UniqueConstraint('gateway_id', name=op.f('uq_conversation_messages_gateway_id'))
    )
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_messages_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    op.drop_table('conversation_messages')
    op.drop_table('conversations')
    op.execute("DELETE FROM message_opt_outs WHERE customer_id IS NULL")
    with op.batch_alter_table('message_opt_outs') as batch:
        batch.drop_index(batch.f('ix_message_opt_outs_address'))
        batch.drop_constraint(batch.f('uq_message_opt_outs_address_channel'), type_='unique')
        batch.drop_column('address')
        batch.alter_column('customer_id', existing_type=sa.Integer(), nullable=False)
