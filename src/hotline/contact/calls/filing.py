"""The caller's file from the call (seed 000 (15), (16)): a new caller's file made with the number
they call from, or that number added to a member's file, without the agent ever seeing it."""

from __future__ import annotations

from hotline.contact.calls import desk
from hotline.contact.calls.records import caller_of
from hotline.contact.local import LocalNode
from hotline.contact.schemas import CallerFileIn
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.crm import service as crm
from hotline.crm.schemas import CustomerIn, CustomerOut, PhoneIn


async def file_from_call(
    ctx: Context, node: LocalNode | None, call_id: str, data: CallerFileIn
) -> CustomerOut:
    """Create the caller's file during the call, with the number they call from (seed 000 (15))."""
    ctx.require(Permission.CALLS_HANDLE)
    number = await caller_of(ctx, node, call_id)
    made = await crm.create(
        ctx,
        CustomerIn(
            name=data.name,
            title=data.title,
            city=data.city,
            source="phone",
            phones=[PhoneIn(number=number, preferred=True)],
        ),
    )
    await desk.caller_filed(ctx, call_id, made.id)  # the pop shows the new file after a reload
    return made


async def register_phone(ctx: Context, node: LocalNode | None, call_id: str, customer_id: int) -> CustomerOut:
    """The caller agreed to register the number they call from (seed 000 (16)): next time it
    opens their file."""
    ctx.require(Permission.CALLS_HANDLE)
    number = await caller_of(ctx, node, call_id)
    added = await crm.add_phone(ctx, customer_id, PhoneIn(number=number, label="来电登记"))
    await desk.number_registered(ctx, call_id, customer_id)
    return added
