"""notify: one store of canned phrases — tickets' canned responses (ticket_canned_responses) move
into canned_responses, which says where each phrase is offered (used_in: conversations, tickets,
both) and on which ticket type (issue 24)

Every ticket phrase is kept: its title, text (body), type (type_code) and whether it is active;
it is offered on tickets (used_in = tickets), under 投诉 when it was for complaints, else 其他, in
its old order. The conversations' phrases stay as they were, offered in conversations.

Revision ID: 0442cannedmerge
Revises: 0442assesschats
Create Date: 2026-12-07 11:45:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

import hotline.core.db
from alembic import op

revision: str = '0442cannedmerge'
down_revision: str | None = '0442assesschats'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

tickets = sa.table(
    'ticket_canned_responses',
    sa.column('id', sa.Integer()), sa.column('title', sa.String()), sa.column('body', sa.String()),
    sa.column('type_code', sa.String()), sa.column('active', sa.Boolean()),
)  # fmt: skip
phrases = sa.table(
    'canned_responses',
    sa.column('id', sa.Integer()), sa.column('title', sa.String()), sa.column('text', sa.String()),
    sa.column('category', sa.String()), sa.column('used_in', sa.String()), sa.column('ticket_type', sa.String()),
    sa.column('sort_order', sa.Integer()), sa.column('active', sa.Boolean()),
    sa.column('updated_at', hotline.core.db.UTCDateTime(timezone=True)),
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table('canned_responses') as batch:
        batch.alter_column('title', existing_type=sa.String(length=40), type_=sa.String(length=60),
                           existing_nullable=False)  # fmt: skip
        batch.add_column(sa.Column('used_in', sa.String(length=13), server_default='conversations', nullable=False))
        batch.add_column(sa.Column('ticket_type', sa.String(length=32), server_default='', nullable=False))
    connection = op.get_bind()
    rows = connection.execute(sa.select(tickets).order_by(tickets.c.id)).all()
    now = datetime.now(UTC)
    if rows:
        op.bulk_insert(phrases, [
            {'title': row.title, 'text': row.body, 'category': 'complaint' if row.type_code == 'complaint' else 'other',
             'used_in': 'tickets', 'ticket_type': row.type_code, 'sort_order': n * 10, 'active': row.active,
             'updated_at': now}
            for n, row in enumerate(rows)
        ])  # fmt: skip
    op.drop_table('ticket_canned_responses')


def downgrade() -> None:
    op.create_table(
        'ticket_canned_responses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=60), nullable=False),
        sa.Column('body', sa.String(length=1000), nullable=False),
        sa.Column('type_code', sa.String(length=32), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_canned_responses')),
    )
    connection = op.get_bind()
    offered = connection.execute(
        sa.select(phrases).where(phrases.c.used_in.in_(('tickets', 'both'))).order_by(phrases.c.id)
    ).all()
    if offered:
        op.bulk_insert(tickets, [
            {'title': row.title, 'body': row.text, 'type_code': row.ticket_type, 'active': row.active}
            for row in offered
        ])  # fmt: skip
    connection.execute(sa.delete(phrases).where(phrases.c.used_in == 'tickets'))
    connection.execute(sa.update(phrases).values(title=sa.func.substr(phrases.c.title, 1, 40)))
    with op.batch_alter_table('canned_responses') as batch:
        batch.drop_column('ticket_type')
        batch.drop_column('used_in')
        batch.alter_column('title', existing_type=sa.String(length=60), type_=sa.String(length=40),
                           existing_nullable=False)  # fmt: skip
