"""What quality does when something happens elsewhere (core/reactions.py): a customer forgotten
in crm has their recordings and transcripts erased (recordings/erasure.py)."""

from __future__ import annotations

from hotline.core.context import Context
from hotline.core.reactions import reacts_to
from hotline.crm.events import CustomerForgotten
from hotline.quality.recordings import erasure


@reacts_to(CustomerForgotten)
async def erase_the_recordings_of_a_forgotten_customer(ctx: Context, event: CustomerForgotten) -> None:
    await erasure.erase_customer(ctx, event.customer_id, event.phones)
