"""notify: WeCom (微信客服) conversations — the read cursor per 客服账号 and the 客服账号 each
customer last wrote to (issue 24)

Revision ID: 0440wecom
Revises: c1d0a7e5b9f2
Create Date: 2026-12-07 06:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import hotline.core.db
from alembic import op

revision: str = '0440wecom'
down_revision: str | None = 'c1d0a7e5b9f2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'wecom_cursors',
        sa.Column('open_kfid', sa.String(length=64), nullable=False),
        sa.Column('cursor', sa.String(length=128), nullable=False),
        sa.Column('updated_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('open_kfid', name=op.f('pk_wecom_cursors')),
    )
    op.create_table(
        'wecom_contacts',
        sa.Column('external_userid', sa.String(length=64), nullable=False),
        sa.Column('open_kfid', sa.String(length=64), nullable=False),
        sa.Column('updated_at', hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('external_userid', name=op.f('pk_wecom_contacts')),
    )


def downgrade() -> None:
    op.drop_table('wecom_contacts')
    op.drop_table('wecom_cursors')
