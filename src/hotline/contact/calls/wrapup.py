"""The wrap-up (话后小结) of a call: the agent who took it says what it was, once; it goes into the
call's log, onto the customer's timeline, and frees the agent held in wrap-up."""

from __future__ import annotations

from sqlalchemy import select

from hotline.contact import callbacks
from hotline.contact.agents.presence import AgentState
from hotline.contact.calls import desk
from hotline.contact.calls.records import caller_of
from hotline.contact.events import CallWrapped
from hotline.contact.local import LocalNode
from hotline.contact.models import ContactEvent
from hotline.contact.schemas import WrapUpIn, WrapUpOut
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context
from hotline.core.errors import InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.crm import service as crm
from hotline.crm import timeline
from hotline.notify import inbox

DISPOSITIONS = {
    "booked": "预订成功",
    "enquiry": "咨询",
    "complaint": "投诉",
    "callback": "需回电",
    "other": "其他",
}


async def wrap_up(ctx: Context, node: LocalNode | None, call_id: str, data: WrapUpIn) -> WrapUpOut:
    """An agent wraps up a call they answered: the disposition and note go into the call's log
    and onto the customer's timeline, and the agent is ready again if they were wrapping up."""
    ctx.require(Permission.CALLS_HANDLE)
    me = ctx.actor.user_id
    if node is not None:
        await node.flush()  # the answer a moment ago is on the log
    async with ctx.read() as session:
        answered = await session.scalar(
            select(ContactEvent).where(
                ContactEvent.call_id == call_id, ContactEvent.kind == "answered", ContactEvent.agent_id == me
            )
        )
        if answered is None:
            raise NotFound("You did not take this call", field="call_id", reason="you-did-not-take-call")
        done = await session.scalar(
            select(ContactEvent.id).where(
                ContactEvent.call_id == call_id, ContactEvent.kind == "wrapped", ContactEvent.agent_id == me
            )
        )
    if done is not None:  # each agent who took the call wraps up their part of it, once
        raise InvalidTransition("This call was wrapped up already", reason="call-was-wrapped-up-already")
    if data.customer_id is not None:
        try:
            await crm.get(ctx, data.customer_id)
        except NotFound as exc:
            raise NotFound(
                f"No customer {data.customer_id}",
                field="body.customer_id",
                reason="no-customer",
                params={"customer_id": data.customer_id},
            ) from exc
    label = DISPOSITIONS[data.disposition]
    await desk.ensure(ctx, call_id, me or 0)
    async with ctx.write() as tx:
        await desk.claim_wrap_up(tx, call_id, me or 0)  # once, even when two tabs send it together
        tx.audit("call.wrapped_up", "call", call_id, after={"disposition": data.disposition})
        tx.publish(CallWrapped(audience=[me] if me else [], call_id=call_id, disposition=data.disposition))
        tx.session.add(
            ContactEvent(
                at=utcnow(),
                kind="wrapped",
                call_id=call_id,
                agent_id=me,
                queue=answered.queue,
                detail=f"{label}: {data.note}"[:400],
            )
        )
        where = f"/customers/{data.customer_id}" if data.customer_id is not None else "/calls"
        await inbox.mention(
            tx,
            data.note,
            author=me,
            link=where,
            readers=Permission.CUSTOMERS_READ,
            title=f"{ctx.actor.display_name} 在通话小结（{label}）中提到您",
        )
    if data.disposition == "callback":  # the caller is to be rung back: a task with their number
        number = await caller_of(ctx, node, call_id)
        await callbacks.open_call_task(ctx, number, f"call:{call_id}", "agent_callback", queue=answered.queue)
    if data.customer_id is not None:
        detail = f"{label} · {data.note}" if data.note else label
        await timeline.add(
            ctx.as_actor(Actor.system("routing")),
            data.customer_id,
            "call",
            f"话后小结：{label}",
            ref=f"call:{call_id}:wrap",
            detail=detail,
            by=me,
        )
    ready = False
    runner = node.runner if node is not None else None
    if runner is not None and me is not None and me in runner.seats:
        ready = runner.presence.agent(me).state is AgentState.WRAP_UP
        runner.wrapped(me)
    return WrapUpOut(call_id=call_id, disposition=data.disposition, ready=ready)
