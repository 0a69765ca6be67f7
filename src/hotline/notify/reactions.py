"""What notify does when something happens elsewhere (core/reactions.py): a customer forgotten in
crm loses their SMS conversations — what they wrote and what we answered, by file or by number.
Their opt-out stays: it is their wish, and the number is still not to be sent marketing."""

from __future__ import annotations

from hotline.core.context import Context
from hotline.core.reactions import reacts_to
from hotline.crm.events import CustomerForgotten
from hotline.notify import conversations


@reacts_to(CustomerForgotten)
async def erase_the_conversations_of_a_forgotten_customer(ctx: Context, event: CustomerForgotten) -> None:
    await conversations.erase_customer(ctx, event.customer_id, event.phones)
