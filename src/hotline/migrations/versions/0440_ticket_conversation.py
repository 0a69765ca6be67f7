"""tickets: the conversation a ticket was started from (a chat, an SMS or WeChat thread), so the
ticket links back to it (issue 24)

Revision ID: 0440ticketconv
Revises: 0439canned
Create Date: 2026-12-07 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0440ticketconv"
down_revision: str | None = "0439canned"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("conversation_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_tickets_conversation_id_conversations"),
            "conversations",
            ["conversation_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_tickets_conversation_id"), ["conversation_id"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index(op.f("ix_tickets_conversation_id"))
        batch.drop_constraint(op.f("fk_tickets_conversation_id_conversations"), type_="foreignkey")
        batch.drop_column("conversation_id")
