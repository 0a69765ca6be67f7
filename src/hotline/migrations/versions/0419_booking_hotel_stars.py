"""hotel stars: a branch's star rating, shown with its offers on the booking desk

Revision ID: 0419booking01
Revises: 6202d2546209
Create Date: 2026-12-05 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0419booking01"
down_revision: str | None = "0419charts01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hotels") as batch:
        batch.add_column(sa.Column("stars", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("hotels") as batch:
        batch.drop_column("stars")
