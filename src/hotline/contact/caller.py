"""The caller as a customer: who is calling, when the call arrives (R4), and the call on their
timeline once it is over (C3). Both through crm's services; a failure never stops a call."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import structlog

from hotline.contact.ivr.interpreter import FlowRun
from hotline.core.context import Context
from hotline.crm import service as crm
from hotline.crm import timeline
from hotline.voice.control import Leg

log = structlog.get_logger(__name__)


async def identify(ctx: Context, number: str) -> tuple[dict[str, Any], str]:
    """The flow's variables for the caller (their class, the customer, their last agent for sticky
    routing, their tier's priority) and the class to log; "unknown" when identifying failed."""
    try:
        found = await crm.identify_caller(ctx, number)
    except Exception as exc:
        log.error("caller identification failed", error=repr(exc))
        return {"caller_class": "unknown"}, ""
    variables: dict[str, Any] = {"caller_class": found.caller_class, "priority": found.priority}
    if found.caller_class == "known":
        customer = found.customers[0]
        about = {"name": customer.name, "title": customer.title, "member_number": customer.member_number}
        variables |= {
            "customer_id": customer.id,
            "last_agent": found.last_agent_id,
            "customer": about,
            "tier": customer.tier,
        }
    return variables, found.caller_class


async def on_timeline(ctx: Context, leg: Leg, customer_id: int, run: FlowRun) -> None:
    """An inbound call on the customer's timeline (C3), once: who answered and how long they
    talked, or the message left, or where the caller gave up."""
    agent = run.variables.get("agent") or {}
    talk = (leg.cdr.ended_at or time.time()) - leg.cdr.bridged_at if leg.cdr.bridged_at else 0.0
    if agent:
        who = f"{agent.get('work_number', '')}号 {agent.get('name', '')}"
        title = f"来电 {leg.number} · {run.flow.title} · {who}接听"
        detail = f"通话 {talk / 60:.0f} 分钟" + (" · 已录音" if run.variables.get("recording") else "")
    elif run.variables.get("voicemail"):
        title, detail = f"来电 {leg.number} · {run.flow.title} · 留言", ""
    else:
        title, detail = (
            f"来电 {leg.number} · {run.flow.title} · 未接通",
            " → ".join(run.flow.nodes[n].label or n for n in run.path),
        )
    started = datetime.fromtimestamp(leg.cdr.offered_at or time.time(), UTC)
    await timeline.add(ctx, customer_id, "call", title, ref=f"call:{leg.id}", detail=detail, at=started)
