"""The softphone's controls as services (what the API calls): the signed-in agent's call (hold,
mute, keys, hang up, transfer, consultation), click-to-dial, and a supervisor's monitoring. Each
acts on the `LiveCall` of the voice node in this process (503 elsewhere) and is audited."""

from __future__ import annotations

import secrets
from typing import Any

from hotline.contact import callbacks
from hotline.contact.calls.live import LiveCall
from hotline.contact.local import LocalNode, running
from hotline.contact.queues.floor import Seat
from hotline.contact.schemas import (
    ConsultActionIn,
    DialIn,
    DialOut,
    LiveCallOut,
    MonitorIn,
    MonitorOut,
    TransferIn,
)
from hotline.core import privacy
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.crm import service as crm
from hotline.voice.control import MonitorMode


def _my_call(ctx: Context, node: LocalNode | None) -> LiveCall:
    ctx.require(Permission.CALLS_HANDLE)
    call = running(node)[0].call_of(ctx.actor.user_id or 0)
    if call is None:
        raise NotFound("You are not on a call", field="call", reason="you-not-call")
    return call


async def _audit(ctx: Context, call: LiveCall, action: str, **after: Any) -> None:
    async with ctx.write() as tx:
        tx.audit(f"call.{action}", "call", call.call_id, after=after or None)


def current_call(ctx: Context, node: LocalNode | None) -> LiveCallOut | None:
    """The caller's call as the agent's softphone panel shows it (None: not on a call)."""
    ctx.require(Permission.CALLS_HANDLE)
    if node is None:
        return None
    call = node.call_of(ctx.actor.user_id or 0)
    return call.out() if call is not None else None


async def hold(ctx: Context, node: LocalNode | None, held: bool) -> LiveCallOut:
    call = _my_call(ctx, node)
    await call.hold(held)
    await _audit(ctx, call, "held" if held else "resumed")
    return call.out()


async def mute(ctx: Context, node: LocalNode | None, muted: bool) -> LiveCallOut:
    call = _my_call(ctx, node)
    call.mute(muted)
    await _audit(ctx, call, "muted" if muted else "unmuted")
    return call.out()


async def send_keys(ctx: Context, node: LocalNode | None, keys: str) -> LiveCallOut:
    call = _my_call(ctx, node)
    await call.keys(keys)
    await _audit(ctx, call, "keys", count=len(keys))
    return call.out()


async def hang_up(ctx: Context, node: LocalNode | None) -> None:
    call = _my_call(ctx, node)
    await call.hang_up()
    await _audit(ctx, call, "hung_up")


async def transfer(ctx: Context, node: LocalNode | None, data: TransferIn) -> LiveCallOut | None:
    call = _my_call(ctx, node)
    await call.transfer(data)
    await _audit(ctx, call, "transferred", to=data.to, target=data.target, mode=data.mode)
    return call.out() if data.mode == "consult" else None


async def finish_consult(ctx: Context, node: LocalNode | None, data: ConsultActionIn) -> LiveCallOut | None:
    call = _my_call(ctx, node)
    await call.finish_consult(data)
    await _audit(ctx, call, f"consult_{data.action}")
    return call.out() if call.agent_id == ctx.actor.user_id else None


async def dial(ctx: Context, node: LocalNode | None, data: DialIn) -> DialOut:
    """Click-to-dial (D1): the agent's phone rings first, then the number; the customer's number
    is never shown to the agent when dialled from their file."""
    ctx.require(Permission.CALLS_HANDLE)
    _seat(node, ctx.actor.user_id)
    if [data.number, data.customer_id, data.callback_id].count(None) != 2:
        raise InvalidInput(
            "Give a number, a customer (and which of their phones) or a callback",
            field="body.number",
            reason="give-number-customer-or-callback",
        )
    number, customer_id = data.number, data.customer_id
    if customer_id is not None:
        number = await crm.phone_to_dial(ctx, customer_id, data.phone_id)
    if data.callback_id is not None:
        number = await callbacks.phone_to_dial(ctx, data.callback_id)
    assert number is not None  # noqa: S101
    return await place_call(ctx, node, number, customer_id)


async def place_call(
    ctx: Context,
    node: LocalNode | None,
    number: str,
    customer_id: int | None,
    *,
    campaign: str = "",
    caller_id: str = "",
) -> DialOut:
    """Ring the signed-in agent's phone, then `number` (E.164, never shown to the agent): the one
    way a call out is placed — click-to-dial, callbacks, outbound campaigns (`campaign` tags the
    call for its reports; `caller_id` is the number the called person sees)."""
    ctx.require(Permission.CALLS_HANDLE)
    live, runner, voice = running(node)
    me = ctx.actor.user_id or 0
    seat = _seat(node, me)
    if not voice.reachable(number):
        raise InvalidInput(
            f"Nothing can ring {privacy.mask_phone(number)}: no trunk calls out",
            field="body.number",
            reason="nothing-ring-no-trunk-calls",
            params={"privacy": privacy.mask_phone(number)},
        )
    call_id = f"out-{secrets.token_hex(6)}"
    runner.dialled(me, call_id, privacy.mask_phone(number), campaign)  # refused while on a call
    async with ctx.write() as tx:
        tx.audit(
            "call.dialled",
            "call",
            call_id,
            after={"number": privacy.mask_phone(number), "customer_id": customer_id, "campaign": campaign},
        )
    live.spawn(live.call_out(call_id, seat, number, customer_id, caller_id))
    return DialOut(call_id=call_id)


def _seat(node: LocalNode | None, user_id: int | None) -> Seat:
    """The agent's seat to call from (503 without a voice node, 404 without an extension)."""
    seat = running(node)[1].seats.get(user_id or 0)
    if seat is None:
        raise NotFound(
            "You have no extension to call from", field="user", reason="you-no-extension-call-from"
        )
    return seat


async def monitor(ctx: Context, node: LocalNode | None, agent_id: int, data: MonitorIn) -> MonitorOut:
    """A supervisor listens to, whispers to or barges into an agent's call (T7): their own phone
    rings and joins; the same request changes the mode later. Audited."""
    ctx.require(Permission.CALLS_MONITOR)
    live, runner, _ = running(node)
    supervisor = runner.seats.get(ctx.actor.user_id or 0)
    if supervisor is None:
        raise NotFound("You have no extension to listen on", field="user", reason="you-no-extension-listen")
    call = live.call_of(agent_id)
    if call is None or call.agent_id != agent_id:
        raise NotFound("This agent is not on a call", field="agent_id", reason="agent-not-call")
    await call.listen_in(supervisor, MonitorMode(data.mode))
    async with ctx.write() as tx:
        tx.audit("call.monitored", "call", call.call_id, after={"agent_id": agent_id, "mode": data.mode})
    out = call.monitor_out()
    return out or MonitorOut(agent_id=agent_id, call_id=call.call_id, mode="ringing")


async def stop_monitor(ctx: Context, node: LocalNode | None, agent_id: int) -> None:
    ctx.require(Permission.CALLS_MONITOR)
    call = running(node)[0].call_of(agent_id)
    if call is None or call.monitor is None or call.monitor.supervisor_id != ctx.actor.user_id:
        raise NotFound("You are not on this agent's call", field="agent_id", reason="you-not-agent-call")
    await call.end_monitor("the supervisor left")
    async with ctx.write() as tx:
        tx.audit("call.monitor_ended", "call", call.call_id, after={"agent_id": agent_id})
