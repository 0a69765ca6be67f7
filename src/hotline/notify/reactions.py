"""What notify does when something happens elsewhere (core/reactions.py): a customer forgotten in
crm loses their SMS conversations — what they wrote and what we answered, by file or by number.
Their opt-out stays: it is their wish, and the number is still not to be sent marketing. A
conversation linked to a customer brings what they wrote before onto their timeline."""

from __future__ import annotations

from hotline.core.context import Context
from hotline.core.reactions import reacts_to
from hotline.crm.events import CustomerForgotten
from hotline.notify import conversation_timeline, conversations
from hotline.notify.events import ConversationChanged


@reacts_to(CustomerForgotten)
async def erase_the_conversations_of_a_forgotten_customer(ctx: Context, event: CustomerForgotten) -> None:
    await conversations.erase_customer(ctx, event.customer_id, event.phones)


@reacts_to(ConversationChanged)
async def put_what_was_written_before_the_link_on_the_timeline(
    ctx: Context, event: ConversationChanged
) -> None:
    if event.action == "linked":
        await conversation_timeline.catch_up(ctx, event.conversation_id)
