"""notify: images and PDFs in the web chat, kept once by SHA-256 (issue 24)

Revision ID: 0440chatfiles
Revises: 0440wecom
Create Date: 2026-12-07 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import hotline.core.db
from alembic import op

revision: str = '0440chatfiles'
down_revision: str | None = '0440wecom'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'chat_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('media_type', sa.String(length=40), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_files')),
        sa.UniqueConstraint('sha256', name=op.f('uq_chat_files_sha256')),
    )
    op.create_table(
        'conversation_files',
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_conversation_files_conversation_id_conversations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['file_id'], ['chat_files.id'],
                                name=op.f('fk_conversation_files_file_id_chat_files'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['message_id'], ['conversation_messages.id'],
                                name=op.f('fk_conversation_files_message_id_conversation_messages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id', name=op.f('pk_conversation_files')),
    )
    op.create_index(op.f('ix_conversation_files_conversation_id'), 'conversation_files', ['conversation_id'])
    op.create_index(op.f('ix_conversation_files_file_id'), 'conversation_files', ['file_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_conversation_files_file_id'), table_name='conversation_files')
    op.drop_index(op.f('ix_conversation_files_conversation_id'), table_name='conversation_files')
    op.drop_table('conversation_files')
    op.drop_table('chat_files')
