"""A conversation's earlier messages on the customer's timeline (issue 24). A customer's message
goes on their timeline when it arrives — if the conversation is linked to their file by then. A
web chat is linked only once the visitor proves their phone (an SMS code or a member token:
chat_identity.py), and any conversation may be linked by an agent (`link_customer`); what the
customer wrote before that would be missing from the file. So when a conversation becomes linked
(`ConversationChanged` "linked", after commit: notify/reactions.py) its earlier incoming messages
are added under the references their arrival uses (`web-in:<message id>`, `sms-in:…`), each once
and at the time it was written: what is there already is not added twice.
"""

from __future__ import annotations

from sqlalchemy import select

from hotline.core.context import Actor, Context
from hotline.crm import timeline
from hotline.notify import chat_files, timeline_titles
from hotline.notify.models import Conversation, ConversationMessage

MOST = 500
"""The newest incoming messages caught up (a conversation longer than this is not a chat)."""


async def catch_up(ctx: Context, conversation_id: int) -> int:
    """Puts the conversation's incoming messages on its customer's timeline; how many were new."""
    async with ctx.read() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.customer_id is None:
            return 0
        customer_id, channel = conversation.customer_id, conversation.channel
        rows = list(
            await session.scalars(
                select(ConversationMessage)
                .where(
                    ConversationMessage.conversation_id == conversation_id,
                    ConversationMessage.direction == "in",
                )
                .order_by(ConversationMessage.id.desc())
                .limit(MOST)
            )
        )
        files = await chat_files.files_of(session, [m.id for m in rows])
    system, added = ctx.as_actor(Actor.system(f"notify:{channel}")), 0
    for message in reversed(rows):
        found = files.get(message.id)
        kind, title = timeline_titles.incoming(channel, found.kind if found else None)
        added += await timeline.add(
            system, customer_id, kind, title, ref=f"{channel}-in:{message.id}", detail=message.body[:200],
            at=message.at,
        )  # fmt: skip
    return added
