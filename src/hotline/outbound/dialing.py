"""Agents joining progressive and predictive campaigns, and the call the dialer gave them
(the dialer itself: dialer.py)."""

from __future__ import annotations

from sqlalchemy import select

from hotline.contact.errors import VoiceNodeUnavailable
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidTransition
from hotline.core.permissions import Permission
from hotline.outbound import campaigns, work
from hotline.outbound.dialer import Dialer
from hotline.outbound.models import Attempt, Campaign
from hotline.outbound.schemas import CurrentCall, DialerState


async def _campaign(ctx: Context, campaign_id: int) -> Campaign:
    """The campaign, if the actor may see it (404 otherwise)."""
    async with ctx.read() as session:
        await campaigns.check_access(ctx, session, campaign_id)
        return await campaigns.campaign_for_work(session, campaign_id)


def _on_node(ctx: Context, dialer: Dialer | None) -> Dialer:
    """The dialer of this node, for an agent (503 on a node without the voice role)."""
    ctx.require(Permission.CALLS_HANDLE)
    if dialer is None:
        raise VoiceNodeUnavailable()
    return dialer


async def join(ctx: Context, dialer: Dialer | None, campaign_id: int) -> DialerState:
    """The agent takes the campaign's calls from now on (between inbound calls: inbound first)."""
    dialer = _on_node(ctx, dialer)
    campaign = await _campaign(ctx, campaign_id)
    if campaign.status != "running":
        raise InvalidTransition(
            "The campaign is not running", field="campaign_id", reason="campaign-not-running"
        )
    if campaign.mode == "preview":
        raise InvalidTransition(
            "A preview campaign is dialled by its agents", field="campaign_id", reason="campaign-is-preview"
        )
    await dialer.join(campaign, ctx.actor.user_id or 0)
    async with ctx.write() as tx:
        tx.audit("outbound.joined", "outbound_campaign", campaign_id)
    return await state(ctx, dialer, campaign_id)


async def leave(ctx: Context, dialer: Dialer | None, campaign_id: int) -> DialerState:
    """The agent takes no more of the campaign's calls (a call they are on goes on)."""
    dialer = _on_node(ctx, dialer)
    await _campaign(ctx, campaign_id)
    dialer.leave(campaign_id, ctx.actor.user_id or 0)
    async with ctx.write() as tx:
        tx.audit("outbound.left", "outbound_campaign", campaign_id)
    return await state(ctx, dialer, campaign_id)


async def state(ctx: Context, dialer: Dialer | None, campaign_id: int) -> DialerState:
    ctx.require(Permission.CAMPAIGNS_READ)
    campaign = await _campaign(ctx, campaign_id)
    joined = dialer.joined(campaign_id) if dialer is not None else set()
    return DialerState(
        campaign_id=campaign_id,
        mode=campaign.mode,
        joined=(ctx.actor.user_id or 0) in joined,
        agents=len(joined),
        ringing=dialer.ringing(campaign_id) if dialer is not None else 0,
        paused_by=dialer.paused_by if dialer is not None else "",
    )


async def current(ctx: Context) -> CurrentCall | None:
    """The dialer's call connected to the agent whose result they have not written yet (the
    latest), with the number's file as in preview; None when there is none."""
    ctx.require(Permission.CALLS_HANDLE)
    since = utcnow() - work.LOOK_BACK
    async with ctx.read() as session:
        attempt = await session.scalar(
            select(Attempt)
            .where(
                Attempt.agent_id == ctx.actor.user_id,
                Attempt.outcome == "dialing",
                Attempt.started_at > since,
            )
            .order_by(Attempt.started_at.desc(), Attempt.id.desc())
            .limit(1)
        )
        if attempt is None:
            return None
        attempt_id, call_id, target_id = attempt.id, attempt.call_id, attempt.target_id
    return CurrentCall(attempt_id=attempt_id, call_id=call_id, item=await work.preview(ctx, target_id))
