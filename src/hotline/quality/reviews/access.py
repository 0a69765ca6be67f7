"""What an agent's evaluations let them do outside reviews: hear the recordings of the calls they
were evaluated on (to acknowledge or appeal a score, they must be able to hear what was judged).
Reads reviews' own table only, so the recordings library can ask without importing the flow."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.quality.reviews.models import Evaluation

AGENT_SEES = frozenset({"scored", "appealed", "final"})
"""An agent sees their evaluation once it is scored, never before."""


async def evaluated_recordings(session: AsyncSession, agent_id: int, call_id: str) -> set[int] | None:
    """The recordings an agent's evaluations of this call name (empty: the call's parts they took),
    or None when the agent has no evaluation of the call they may see."""
    found = (
        await session.scalars(
            select(Evaluation.recording_ids).where(
                Evaluation.agent_id == agent_id,
                Evaluation.call_id == call_id,
                Evaluation.status.in_(AGENT_SEES),
            )
        )
    ).all()
    if not found:
        return None
    return {int(r) for ids in found for r in ids or ()}
