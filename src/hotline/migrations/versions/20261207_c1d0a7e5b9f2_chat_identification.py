"""notify: web chat identification — SMS codes (hashed), chat sites with their member-token
secret, and who a visitor proved to be (issue 24, item 1)

Revision ID: c1d0a7e5b9f2
Revises: 0440ticketconv
Create Date: 2026-12-07 06:05:14.654848
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.core.db

revision: str = 'c1d0a7e5b9f2'
down_revision: str | None = '0440ticketconv'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('chat_sites',
    sa.Column('site', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('member_secret', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_chat_sites'))
    )
    op.create_table('chat_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('sent_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('used_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_chat_codes_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_codes'))
    )
    with op.batch_alter_table('chat_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_codes_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_chat_codes_phone', ['phone', 'sent_at'], unique=False)

    with op.batch_alter_table('chat_visitors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_by', sa.String(length=8), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('verified_phone', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('member_id', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('verified_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('chat_visitors', schema=None) as batch_op:
        batch_op.drop_column('verified_at')
        batch_op.drop_column('member_id')
        batch_op.drop_column('verified_phone')
        batch_op.drop_column('verified_by')

    with op.batch_alter_table('chat_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_codes_phone')
        batch_op.drop_index(batch_op.f('ix_chat_codes_conversation_id'))

    op.drop_table('chat_codes')
    op.drop_table('chat_sites')
