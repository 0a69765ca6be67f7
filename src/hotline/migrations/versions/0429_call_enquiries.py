"""contact/stats: what callers asked about in the IVR (travel routes, hotels) on each call record

Revision ID: 0429enquiry01
Revises: 0428assess01
Create Date: 2026-12-06 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0429enquiry01'
down_revision: str | None = '0428assess01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('call_records') as batch:
        batch.add_column(sa.Column('enquiries', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('call_records') as batch:
        batch.drop_column('enquiries')
