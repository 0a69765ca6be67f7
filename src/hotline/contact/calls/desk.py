"""The agent's desk (D1–D3) as the server knows it: the calls on their desktop, rebuilt from the
voice node's live state and the contact event log, never from what a browser happened to hear.

A desktop that reloads, or an agent who signs in again (on this browser or another) mid-call,
asks `my_desk` and gets the pop back whole: the caller (masked), their file, the queue, the IVR
path, why this agent, the script stage reached and whether the wrap-up is still owed. What the
agent does on the desktop that the event log does not hold (the script stage, the customer they
found the caller to be, a number registered, the wrap-up written once) is kept per call and agent
in `desk_calls`.

Which calls: the one ringing the agent or that they are on (the voice node's presence, else the
log), then the calls they took in the last `WINDOW`, newest first, that still await a wrap-up,
and the last one for `AFTER_CALL` after its wrap-up (the pop stays while the agent books or opens
a ticket for it). Calls offered but missed, and calls out (never offered), are not on the desk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.contact.agents.presence import AgentState
from hotline.contact.calls import records
from hotline.contact.calls.desk_schemas import DeskCallOut, DeskCustomer, DeskOut
from hotline.contact.events import DeskChanged
from hotline.contact.ivr.flow import Flow
from hotline.contact.ivr.versions import live_flows
from hotline.contact.local import LocalNode
from hotline.contact.models import ContactEvent, DeskCall, QueueDef
from hotline.contact.schemas import CallerClass, RoutingReasonOut
from hotline.core.clock import utcnow
from hotline.core.context import Context, Tx
from hotline.core.errors import InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.crm import service as crm

State = Literal["ringing", "talking", "ended"]
WINDOW = timedelta(hours=12)
"""How far back the desk looks for calls the agent took and has not wrapped up (a shift)."""
AFTER_CALL = timedelta(minutes=30)
"""How long the last call's pop stays once wrapped up (the agent books or opens a ticket for it)."""
SHOWN = 10
CLASSES: frozenset[str] = frozenset({"known", "known_customer_new_number", "unknown"})
OFFER_OVER = frozenset({"missed", "finished", "abandoned", "timed_out", "callback", "overflowed", "refused"})
"""Lines after an offer that mean it no longer rings the agent."""


def _base(call_id: str) -> str:
    """A consultation rings a colleague under `<call>~c<n>`; their desk shows the caller's call."""
    return call_id.split("~", 1)[0]


def _on_node(node: LocalNode | None, me: int) -> tuple[str | None, str | None, State | None]:
    """What the voice node knows of the agent now: the call (as logged, and its desk id) and
    whether it rings them or they are on it."""
    runner = node.runner if node is not None else None
    if runner is None:
        return None, None, None
    agent = runner.presence.agent(me)
    if agent.call_id is None or agent.state not in (AgentState.RINGING, AgentState.ON_CALL):
        return None, None, None
    return agent.call_id, _base(agent.call_id), "ringing" if agent.state is AgentState.RINGING else "talking"


# ---------------------------------------------------------------- reading the desk


async def my_desk(ctx: Context, node: LocalNode | None) -> DeskOut:
    """The signed-in agent's desk: the call ringing them or that they are on first, then the
    calls they took that await a wrap-up (and the last one), newest first."""
    ctx.require(Permission.CALLS_HANDLE)
    me = ctx.actor.user_id or 0
    if node is not None:
        await node.flush()  # the offer that just rang is on the log
    return DeskOut(calls=await _build(ctx, node, me, None))


async def desk_call(ctx: Context, node: LocalNode | None, call_id: str) -> DeskCallOut:
    found = await _build(ctx, node, ctx.actor.user_id or 0, call_id)
    if not found:
        raise NotFound("This call was not offered to you", field="call_id", reason="call-was-not-offered-you")
    return found[0]


async def _recent(session: AsyncSession, me: int) -> list[str]:
    """The calls (as logged) offered to the agent in the last `WINDOW`, latest offer first."""
    recent = await session.execute(
        select(ContactEvent.call_id)
        .where(
            ContactEvent.agent_id == me, ContactEvent.kind == "offered", ContactEvent.at >= utcnow() - WINDOW
        )
        .group_by(ContactEvent.call_id)
        .order_by(func.max(ContactEvent.id).desc())
        .limit(SHOWN * 3)
    )
    return [str(c) for c in recent.scalars() if c]


async def _build(ctx: Context, node: LocalNode | None, me: int, one: str | None) -> list[DeskCallOut]:
    """The desk's view of the agent's recent calls (newest first), from the log, the desk rows and
    the node, in one read. For the whole desk, calls that are not the agent's (offered and missed)
    and wrapped up calls but the newest are left out; `one`: that call, whatever its state."""
    raw, current, node_state = _on_node(node, me)
    async with ctx.read() as session:
        logged = [] if one else await _recent(session, me)
        order = (
            [one] if one else list(dict.fromkeys(([current] if current else []) + [_base(c) for c in logged]))
        )
        if not order:
            return []
        ids = set(order) | set(logged) | ({raw} if raw else set())
        wanted: ColumnElement[bool] = ContactEvent.call_id.in_(ids)
        if one:  # with the consultations the agent was rung for on it
            wanted = or_(wanted, ContactEvent.call_id.startswith(f"{one}~", autoescape=True))
        rows = (await session.scalars(select(ContactEvent).where(wanted).order_by(ContactEvent.id))).all()
        desk = {
            row.call_id: row
            for row in (
                await session.scalars(
                    select(DeskCall).where(DeskCall.call_id.in_(order), DeskCall.agent_id == me)
                )
            ).all()
        }
        queues = {q for row in rows if (q := row.queue)}
        defined = (
            await session.execute(
                select(QueueDef.name, QueueDef.title, QueueDef.wrap_required).where(QueueDef.name.in_(queues))
            )
        ).all()
        required = {name for name, _, wrap in defined if wrap}
        titles = {name: title or name for name, title, _ in defined}
        owed = await _owed(session, node, me)
    by_call: dict[str, list[ContactEvent]] = defaultdict(list)
    for row in rows:
        by_call[_base(row.call_id or "")].append(row)
    chosen: list[tuple[str, State, bool]] = []
    for call_id in order:
        lines = by_call.get(call_id, [])
        if not any(r.kind == "offered" and r.agent_id == me for r in lines):
            continue
        state = _logged_state(lines, call_id, me)
        if node is not None and node.runner is not None:  # this node carries the calls: it knows
            state = node_state if raw is not None and _base(raw) == call_id else _not_live(state)
        kept = desk.get(call_id)
        wrapped_at = kept.wrapped_at if kept is not None else None
        wrapped_at = wrapped_at or next(
            (r.at for r in lines if r.kind == "wrapped" and r.agent_id == me and r.call_id == call_id), None
        )
        wrapped = wrapped_at is not None
        if one is not None:
            chosen.append((call_id, state or "ended", wrapped))
        elif state is not None and (
            state != "ended" or wrapped_at is None or (not chosen and wrapped_at >= utcnow() - AFTER_CALL)
        ):
            chosen.append((call_id, state, wrapped))
    chosen = sorted(chosen[:SHOWN], key=lambda c: c[1] == "ended")  # the live call first (stable)
    seen: dict[str, DeskCustomer | None] = {}
    flows = await live_flows(ctx) if chosen else {}
    return [
        await _call_out(
            ctx,
            node,
            call_id,
            by_call[call_id],
            desk.get(call_id),
            state,
            wrapped,
            required=required,
            titles=titles,
            owed=owed,
            seen=seen,
            flows=flows,
        )
        for call_id, state, wrapped in chosen
    ]


async def _owed(session: AsyncSession, node: LocalNode | None, me: int) -> str | None:
    """The call whose wrap-up holds the agent in 话后整理 until written (its queue requires one):
    the voice node's word, else the agent's last state on the log."""
    if node is not None and node.runner is not None:
        return node.runner.wrap_pending.get(me)
    last = await session.scalar(
        select(ContactEvent)
        .where(ContactEvent.kind == "agent", ContactEvent.agent_id == me)
        .order_by(ContactEvent.id.desc())
        .limit(1)
    )
    return last.call_id if last is not None and last.state == AgentState.WRAP_UP.value else None


def _not_live(state: State | None) -> State | None:
    """The log says the agent is on the call or rung for it, the node carrying it says not (a
    lost hang-up, a restart): the call is over for them, or was never theirs."""
    return "ended" if state == "talking" else None if state == "ringing" else state


def _logged_state(lines: list[ContactEvent], call_id: str, me: int) -> State | None:
    """The agent's part of the call as the log tells it (when no voice node here says): on it
    until their `ended` line, ringing until the offer is missed or the call answered or over;
    None when it was never theirs."""
    own = [r for r in lines if r.call_id == call_id]
    answered = [r for r in own if r.kind == "answered" and r.agent_id == me]
    if answered:
        after = [r for r in own if r.id > answered[-1].id]
        over = any((r.kind == "ended" and r.agent_id == me) or r.kind == "finished" for r in after)
        return "ended" if over else "talking"
    offers = [r for r in own if r.kind == "offered" and r.agent_id == me]
    if not offers:
        return None
    after = [r for r in own if r.id > offers[-1].id]
    if any(r.kind in OFFER_OVER or r.kind == "answered" for r in after):
        return None
    return "ringing"


async def _call_out(
    ctx: Context,
    node: LocalNode | None,
    call_id: str,
    lines: list[ContactEvent],
    row: DeskCall | None,
    state: State,
    wrapped: bool,
    *,
    required: set[str],
    titles: dict[str, str],
    owed: str | None,
    seen: dict[str, DeskCustomer | None],
    flows: dict[str, Flow],
) -> DeskCallOut:
    me = ctx.actor.user_id
    offer = [r for r in lines if r.kind == "offered" and r.agent_id == me][-1]
    facts = node.in_progress(call_id) if node is not None else {}
    variables: dict[str, Any] = dict(facts.get("variables") or {})
    arrived = next((r for r in lines if r.kind == "arrived" and r.call_id == call_id), None)
    number = str(facts.get("caller") or "") or (arrived.detail.split(" → ", 1)[0] if arrived else "")
    identified = next((r.detail for r in lines if r.kind == "identified" and r.call_id == call_id), "")
    caller_class = (
        (row.caller_class if row is not None else "") or variables.get("caller_class") or identified
    )
    if caller_class not in CLASSES:  # "shared": several customers on the number; the agent asks
        caller_class = "unknown"
    customer = await _customer(ctx, row, variables, number, caller_class, seen)
    return DeskCallOut(
        call_id=call_id,
        state=state,
        queue=offer.queue,
        queue_title=titles.get(offer.queue, offer.queue),
        caller=number,  # masked when serialized (privacy.Phone)
        caller_class=cast(CallerClass, caller_class),
        customer=customer,
        path=records.ivr_path([r for r in lines if r.call_id == call_id], flows),
        waited=round(max(0.0, (offer.at - arrived.at).total_seconds()), 1) if arrived else 0.0,
        reason=RoutingReasonOut.of(offer.detail),
        offered_at=offer.at,
        stage=row.stage if row is not None else 0,
        registered=row is not None and row.registered,
        wrapped=wrapped,
        wrap_required=not wrapped and offer.queue in required and (state != "ended" or call_id == owed),
    )


async def _customer(
    ctx: Context,
    row: DeskCall | None,
    variables: dict[str, Any],
    number: str,
    caller_class: str,
    seen: dict[str, DeskCustomer | None],
) -> DeskCustomer | None:
    """Whom the pop shows: the customer the agent found or filed, else the one the call was
    identified as (on the node while the call lasts, else again from the number)."""
    if not ctx.actor.can(Permission.CUSTOMERS_READ):
        return None
    if row is not None and row.customer_id is not None:
        try:
            found = await crm.get(ctx, row.customer_id)
        except NotFound:  # merged or anonymised since
            return None
        return DeskCustomer(
            id=found.id,
            name=found.name,
            title=found.title,
            member_number=found.member_number,
            tier=found.tier,
        )
    about = variables.get("customer")
    if isinstance(about, dict):
        return DeskCustomer(
            id=variables.get("customer_id"),
            name=str(about.get("name", "")),
            title=str(about.get("title", "")),
            member_number=str(about.get("member_number", "")),
            tier=str(variables.get("tier", "")),
        )
    if caller_class != "known" or not number:
        return None
    if number not in seen:  # a customer who called several times is looked up once
        identity = await crm.identify_caller(ctx, number)
        hit = identity.customers[0] if identity.caller_class == "known" else None
        seen[number] = (
            DeskCustomer(
                id=hit.id, name=hit.name, title=hit.title, member_number=hit.member_number, tier=hit.tier
            )
            if hit is not None
            else None
        )
    return seen[number]


# ---------------------------------------------------------------- what the agent does on it


async def check_offered(ctx: Context, node: LocalNode | None, call_id: str) -> None:
    """The call rings, rang or was taken by this agent (a consultation counts); 404 otherwise."""
    me = ctx.actor.user_id or 0
    _, current, _ = _on_node(node, me)
    if current == call_id:
        return
    if node is not None:
        await node.flush()
    async with ctx.read() as session:
        line = await session.scalar(
            select(ContactEvent.id)
            .where(
                ContactEvent.agent_id == me,
                ContactEvent.kind.in_(("offered", "answered")),
                or_(
                    ContactEvent.call_id == call_id,
                    ContactEvent.call_id.startswith(f"{call_id}~", autoescape=True),
                ),
            )
            .limit(1)
        )
    if line is None:
        raise NotFound("This call was not offered to you", field="call_id", reason="call-was-not-offered-you")


async def move_script(ctx: Context, node: LocalNode | None, call_id: str, stage: int) -> DeskCallOut:
    """The agent moved to another stage of the caller's script: every desktop of theirs follows."""
    ctx.require(Permission.CALLS_HANDLE)
    await check_offered(ctx, node, call_id)
    await _change(ctx, call_id, lambda row: setattr(row, "stage", stage))
    return await desk_call(ctx, node, call_id)


async def name_caller(ctx: Context, node: LocalNode | None, call_id: str, customer_id: int) -> DeskCallOut:
    """The agent found who is calling (member number, name, ID): the pop shows their file."""
    ctx.require(Permission.CALLS_HANDLE)
    await check_offered(ctx, node, call_id)
    try:
        await crm.get(ctx, customer_id)
    except NotFound as exc:
        raise NotFound(
            f"No customer {customer_id}",
            field="body.customer_id",
            reason="no-customer",
            params={"customer_id": customer_id},
        ) from exc
    await _change(ctx, call_id, lambda row: setattr(row, "customer_id", customer_id))
    return await desk_call(ctx, node, call_id)


async def caller_filed(ctx: Context, call_id: str, customer_id: int) -> None:
    """A file was made for the caller from the call: they are a known customer now."""

    def filed(row: DeskCall) -> None:
        row.customer_id, row.caller_class = customer_id, "known"
        row.stage = 0  # a known caller's script, from its start

    await _change(ctx, call_id, filed)


async def number_registered(ctx: Context, call_id: str, customer_id: int) -> None:
    """The caller's number went onto their file during the call."""

    def registered(row: DeskCall) -> None:
        row.customer_id, row.registered = customer_id, True

    await _change(ctx, call_id, registered)


async def _change(ctx: Context, call_id: str, change: Callable[[DeskCall], None]) -> None:
    me = ctx.actor.user_id or 0
    await ensure(ctx, call_id, me)
    async with ctx.write() as tx:
        row = await tx.session.scalar(
            select(DeskCall).where(DeskCall.call_id == call_id, DeskCall.agent_id == me)
        )
        if row is None:  # cannot happen: ensure() made it and nothing deletes it
            raise NotFound(
                "This call was not offered to you", field="call_id", reason="call-was-not-offered-you"
            )
        change(row)
        tx.publish(DeskChanged(audience=[me], call_id=call_id))


async def ensure(ctx: Context, call_id: str, agent_id: int) -> None:
    """The desk row of this call and agent exists (made once, whichever tab comes first)."""
    async with ctx.read() as session:
        found = await session.scalar(
            select(DeskCall.id).where(DeskCall.call_id == call_id, DeskCall.agent_id == agent_id)
        )
    if found is not None:
        return
    try:
        async with ctx.write() as tx:
            tx.session.add(
                DeskCall(call_id=call_id, agent_id=agent_id, stage=0, caller_class="", registered=False)
            )
    except IntegrityError:  # another tab made it meanwhile
        pass


async def claim_wrap_up(tx: Tx, call_id: str, agent_id: int) -> None:
    """Mark the call wrapped up by this agent, once: a conditional update, so two tabs (or two
    nodes) sending the wrap-up at the same moment cannot both write it. `ensure()` first."""
    claimed = await tx.session.execute(
        update(DeskCall)
        .where(DeskCall.call_id == call_id, DeskCall.agent_id == agent_id, DeskCall.wrapped_at.is_(None))
        .values(wrapped_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if cast(Any, claimed).rowcount != 1:
        raise InvalidTransition("This call was wrapped up already", reason="call-was-wrapped-up-already")


async def wrap_ups_owed(ctx: Context, calls: dict[int, str]) -> dict[int, str]:
    """Of these agents in wrap-up (agent → call), those whose call's queue requires a wrap-up they
    have not written: after a restart they still owe it."""
    if not calls:
        return {}
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(ContactEvent.call_id, ContactEvent.agent_id)
                .join(QueueDef, QueueDef.name == ContactEvent.queue)
                .where(
                    ContactEvent.kind == "answered",
                    ContactEvent.call_id.in_(set(calls.values())),
                    QueueDef.wrap_required.is_(True),
                )
            )
        ).all()
        written = await session.execute(
            select(DeskCall.call_id, DeskCall.agent_id).where(
                DeskCall.call_id.in_(set(calls.values())), DeskCall.wrapped_at.is_not(None)
            )
        )
        done = {(call_id, agent_id) for call_id, agent_id in written}
    answered = {(call_id, agent_id) for call_id, agent_id in rows}
    return {
        agent: call
        for agent, call in calls.items()
        if (call, agent) in answered and (call, agent) not in done
    }
