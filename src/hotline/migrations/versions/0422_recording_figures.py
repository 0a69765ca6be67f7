"""recordings: the auto-check figures a search and a sampling rule filter by, as columns

Revision ID: 0422figures01
Revises: 0421speech01
Create Date: 2026-12-05 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0422figures01"
down_revision: str | None = "0421speech01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = ("longest_silence", "overtalk_seconds", "talk_ratio")


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        for name in FIGURES:
            batch.add_column(sa.Column(name, sa.Double(), nullable=True))
    # "a silence of 60 s or more" matches one call in thousands: found by index, not by a scan
    op.create_index("ix_recordings_longest_silence", "recordings", ["longest_silence"])
    op.create_index("ix_recordings_overtalk_seconds", "recordings", ["overtalk_seconds"])
    # recordings checked before: their figures from the stored checks
    if op.get_bind().dialect.name == "postgresql":
        figure = "CAST(checks ->> '{0}' AS DOUBLE PRECISION)"
        checked = "checks IS NOT NULL AND checks::jsonb ? 'caller_talk'"
    else:
        figure = "CAST(json_extract(checks, '$.{0}') AS REAL)"
        checked = "checks IS NOT NULL AND json_extract(checks, '$.caller_talk') IS NOT NULL"
    assignments = ", ".join(f"{name} = {figure.format(name)}" for name in FIGURES)
    op.execute(f"UPDATE recordings SET {assignments} WHERE {checked}")  # noqa: S608 (constant names)


def downgrade() -> None:
    op.drop_index("ix_recordings_overtalk_seconds", table_name="recordings")
    op.drop_index("ix_recordings_longest_silence", table_name="recordings")
    with op.batch_alter_table("recordings") as batch:
        for name in reversed(FIGURES):
            batch.drop_column(name)
