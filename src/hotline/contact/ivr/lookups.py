"""What flows reach beyond the call: the domains' lookups by name, and the audit trail.

Flows name lookups (`orders.latest_for_member`, `travel.latest_order` …) that the domains offer
in domains.py; they are bound to the router's context here, so the contact layer imports no
domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotline import domains
from hotline.contact.ivr.interpreter import Lookup
from hotline.core.context import Context


def lookup_names() -> frozenset[str]:
    """The IVR lookups flows may name: what the domains offer (domains.py)."""
    return frozenset(name for domain in domains.DOMAINS for name, _ in domain.lookups)


def domain_lookups(ctx: Context) -> dict[str, Lookup]:
    """The IVR lookups the domains offer, bound to the router's context."""

    def bind(function: Any) -> Lookup:
        async def lookup(variables: Mapping[str, Any]) -> Any:
            return await function(ctx, dict(variables))

        return lookup

    return {name: bind(function) for name, function in domains.ivr_lookups().items()}


async def audit_flow_event(
    ctx: Context, call_id: str, event: str, *, flow: str, caller: str, number: str, detail: str
) -> None:
    """A flow's `log` node with `audit`: an entry in the audit trail (three wrong member numbers
    in one call, a wrong second factor …), with the calling number, for whoever reviews misuse."""
    async with ctx.write() as tx:
        tx.audit(
            f"ivr.{event}",
            "call",
            call_id,
            after={"flow": flow, "caller": caller, "number": number, "detail": detail},
        )
