"""The chat report (会话报表): notify's conversation figures (notify/chat_figures.py) with the web
chat's messages left that became tickets (tickets/figures.py `messages_left`) and the queues named
as contact names them — composed here, above all three."""

from __future__ import annotations

from hotline.contact.figures import queue_titles
from hotline.core.context import Context
from hotline.core.periods import Period
from hotline.notify.chat_figures import Folded, chat_figures
from hotline.tickets.figures import messages_left


async def chats(
    ctx: Context, period: Period, *, agent_ids: set[int] | None, queues: set[str] | None,
    channels: set[str] | None,
) -> Folded:  # fmt: skip
    """Conversations per bucket, queue, channel and agent. A message left belongs to no queue and
    no agent: it is counted when neither narrows the report and web chat is among the channels."""
    figures = await chat_figures(ctx, period, agent_ids=agent_ids, queues=queues, channels=channels)
    titles = await queue_titles(ctx)
    for row in figures.rows:
        if row["dimension"] == "queue":
            row["label"] = titles.get(row["key"], row["key"])
    counted = agent_ids is None and not queues and (not channels or "web" in channels)
    left = await messages_left(ctx, period) if counted else {}
    for point in figures.series:
        point["messages_left"] = sum(n for start, n in left.items() if start.isoformat() == point["start"])
    figures.total["messages_left"] = sum(left.values())
    return figures
