"""call stats: call records, 15-minute and daily call figures, agents' state time, the rollup's cursor

Revision ID: 0425callstats
Revises: 0423qaset01
Create Date: 2026-12-05 15:56:53.142134
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.core.db

revision: str = "0425callstats"
down_revision: str | None = "0424teams01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_state_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_days")),
    )
    with op.batch_alter_table("agent_state_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_state_days_day"), ["day"], unique=False)
        batch_op.create_index("ux_agent_state_days", ["agent_id", "day", "state", "reason"], unique=True)

    op.create_table(
        "agent_state_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start", hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_intervals")),
    )
    with op.batch_alter_table("agent_state_intervals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_state_intervals_start"), ["start"], unique=False)
        batch_op.create_index(
            "ux_agent_state_intervals", ["agent_id", "start", "state", "reason"], unique=True
        )

    op.create_table(
        "call_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=140), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("offered", sa.BigInteger(), nullable=False),
        sa.Column("answered", sa.BigInteger(), nullable=False),
        sa.Column("answered_in_time", sa.BigInteger(), nullable=False),
        sa.Column("abandoned", sa.BigInteger(), nullable=False),
        sa.Column("short_abandoned", sa.BigInteger(), nullable=False),
        sa.Column("callbacks", sa.BigInteger(), nullable=False),
        sa.Column("timed_out", sa.BigInteger(), nullable=False),
        sa.Column("refused", sa.BigInteger(), nullable=False),
        sa.Column("voicemail", sa.BigInteger(), nullable=False),
        sa.Column("ivr_only", sa.BigInteger(), nullable=False),
        sa.Column("self_service", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("wait_ms", sa.BigInteger(), nullable=False),
        sa.Column("ring_ms", sa.BigInteger(), nullable=False),
        sa.Column("in_answered", sa.BigInteger(), nullable=False),
        sa.Column("in_talk_ms", sa.BigInteger(), nullable=False),
        sa.Column("out_calls", sa.BigInteger(), nullable=False),
        sa.Column("out_connected", sa.BigInteger(), nullable=False),
        sa.Column("out_talk_ms", sa.BigInteger(), nullable=False),
        sa.Column("hold_ms", sa.BigInteger(), nullable=False),
        sa.Column("wrap_ms", sa.BigInteger(), nullable=False),
        sa.Column("handled", sa.BigInteger(), nullable=False),
        sa.Column("transfers", sa.BigInteger(), nullable=False),
        sa.Column("surveys", sa.BigInteger(), nullable=False),
        sa.Column("survey_sum", sa.BigInteger(), nullable=False),
        sa.Column("recorded", sa.BigInteger(), nullable=False),
        sa.Column("ivr_visits", sa.BigInteger(), nullable=False),
        sa.Column("ivr_calls", sa.BigInteger(), nullable=False),
        sa.Column("wait_max_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_days")),
    )
    with op.batch_alter_table("call_days", schema=None) as batch_op:
        batch_op.create_index("ux_call_days", ["dimension", "key", "day"], unique=True)

    op.create_table(
        "call_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start", hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dimension", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=140), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("offered", sa.BigInteger(), nullable=False),
        sa.Column("answered", sa.BigInteger(), nullable=False),
        sa.Column("answered_in_time", sa.BigInteger(), nullable=False),
        sa.Column("abandoned", sa.BigInteger(), nullable=False),
        sa.Column("short_abandoned", sa.BigInteger(), nullable=False),
        sa.Column("callbacks", sa.BigInteger(), nullable=False),
        sa.Column("timed_out", sa.BigInteger(), nullable=False),
        sa.Column("refused", sa.BigInteger(), nullable=False),
        sa.Column("voicemail", sa.BigInteger(), nullable=False),
        sa.Column("ivr_only", sa.BigInteger(), nullable=False),
        sa.Column("self_service", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("wait_ms", sa.BigInteger(), nullable=False),
        sa.Column("ring_ms", sa.BigInteger(), nullable=False),
        sa.Column("in_answered", sa.BigInteger(), nullable=False),
        sa.Column("in_talk_ms", sa.BigInteger(), nullable=False),
        sa.Column("out_calls", sa.BigInteger(), nullable=False),
        sa.Column("out_connected", sa.BigInteger(), nullable=False),
        sa.Column("out_talk_ms", sa.BigInteger(), nullable=False),
        sa.Column("hold_ms", sa.BigInteger(), nullable=False),
        sa.Column("wrap_ms", sa.BigInteger(), nullable=False),
        sa.Column("handled", sa.BigInteger(), nullable=False),
        sa.Column("transfers", sa.BigInteger(), nullable=False),
        sa.Column("surveys", sa.BigInteger(), nullable=False),
        sa.Column("survey_sum", sa.BigInteger(), nullable=False),
        sa.Column("recorded", sa.BigInteger(), nullable=False),
        sa.Column("ivr_visits", sa.BigInteger(), nullable=False),
        sa.Column("ivr_calls", sa.BigInteger(), nullable=False),
        sa.Column("wait_max_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_intervals")),
    )
    with op.batch_alter_table("call_intervals", schema=None) as batch_op:
        batch_op.create_index("ux_call_intervals", ["dimension", "key", "start"], unique=True)

    op.create_table(
        "call_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("arrived_at", hotline.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", hotline.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column("dnis", sa.String(length=32), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("caller_rev", sa.String(length=32), nullable=False),
        sa.Column("first_queue", sa.String(length=64), nullable=False),
        sa.Column("last_queue", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("wait_ms", sa.BigInteger(), nullable=True),
        sa.Column("ring_ms", sa.BigInteger(), nullable=True),
        sa.Column("talk_ms", sa.BigInteger(), nullable=True),
        sa.Column("hold_ms", sa.BigInteger(), nullable=False),
        sa.Column("wrap_ms", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("in_time", sa.Boolean(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("disposition", sa.String(length=16), nullable=False),
        sa.Column("has_recording", sa.Boolean(), nullable=False),
        sa.Column("survey_score", sa.Integer(), nullable=True),
        sa.Column("ivr_path", sa.JSON(), nullable=False),
        sa.Column("flow_outcome", sa.String(length=64), nullable=False),
        sa.Column("last_line", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_records")),
        sa.UniqueConstraint("call_id", name=op.f("uq_call_records_call_id")),
    )
    with op.batch_alter_table("call_records", schema=None) as batch_op:
        batch_op.create_index("ix_call_records_agent_arrived", ["agent_id", "arrived_at"], unique=False)
        batch_op.create_index("ix_call_records_arrived", ["arrived_at", "id"], unique=False)
        batch_op.create_index("ix_call_records_caller_rev", ["caller_rev"], unique=False)
        batch_op.create_index("ix_call_records_queue_arrived", ["first_queue", "arrived_at"], unique=False)

    op.create_table(
        "stats_cursors",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stats_cursors")),
    )


def downgrade() -> None:
    op.drop_table("stats_cursors")
    with op.batch_alter_table("call_records", schema=None) as batch_op:
        batch_op.drop_index("ix_call_records_queue_arrived")
        batch_op.drop_index("ix_call_records_caller_rev")
        batch_op.drop_index("ix_call_records_arrived")
        batch_op.drop_index("ix_call_records_agent_arrived")

    op.drop_table("call_records")
    with op.batch_alter_table("call_intervals", schema=None) as batch_op:
        batch_op.drop_index("ux_call_intervals")

    op.drop_table("call_intervals")
    with op.batch_alter_table("call_days", schema=None) as batch_op:
        batch_op.drop_index("ux_call_days")

    op.drop_table("call_days")
    with op.batch_alter_table("agent_state_intervals", schema=None) as batch_op:
        batch_op.drop_index("ux_agent_state_intervals")
        batch_op.drop_index(batch_op.f("ix_agent_state_intervals_start"))

    op.drop_table("agent_state_intervals")
    with op.batch_alter_table("agent_state_days", schema=None) as batch_op:
        batch_op.drop_index("ux_agent_state_days")
        batch_op.drop_index(batch_op.f("ix_agent_state_days_day"))

    op.drop_table("agent_state_days")
