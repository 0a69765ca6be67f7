"""notify: web chat visitors (pre-chat form, token, typing, read receipts, rating) (issue 24)

Revision ID: 0437webchat
Revises: 0436smsreplies
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import hotline.core.db
from alembic import op

revision: str = '0437webchat'
down_revision: str | None = '0436smsreplies'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('chat_visitors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=False),
    sa.Column('site', sa.String(length=80), nullable=False),
    sa.Column('page', sa.String(length=300), nullable=False),
    sa.Column('created_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('visitor_read_id', sa.Integer(), nullable=False),
    sa.Column('agent_read_id', sa.Integer(), nullable=False),
    sa.Column('visitor_typing_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('agent_typing_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_note', sa.String(length=300), nullable=False),
    sa.Column('ended_at', hotline.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_chat_visitors_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_visitors')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_chat_visitors_conversation_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_chat_visitors_token_hash'))
    )


def downgrade() -> None:
    op.drop_table('chat_visitors')
