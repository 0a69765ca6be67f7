"""A flow's transfer node: to a queue through the queue runner (the caller holds until the agent
the router chose answers; then a live call), to anyone else straight (calls/direct.py)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from hotline.contact.calls.base import CallHost
from hotline.contact.calls.direct import RingGroups
from hotline.contact.calls.live import LiveCall
from hotline.contact.ivr.flow import Speech, TransferNode
from hotline.contact.ivr.interpreter import FlowRun, Voice
from hotline.contact.queues.runner import Answered, NoAgent, QueueRunner
from hotline.crm import service as crm
from hotline.voice.control import Leg


class QueueTransfers:
    """The flows' transfer node: queues through the runner; agents, extensions and outside
    numbers rung directly."""

    def __init__(self, host: CallHost, runner: QueueRunner, direct: RingGroups, speech: Voice) -> None:
        self.host, self.runner, self.direct, self.speech = host, runner, direct, speech

    async def transfer(self, leg: Leg, node: TransferNode, run: FlowRun) -> bool:
        if node.to != "queue":
            return await self.direct.transfer(leg, node, run)
        variables = run.variables
        waiting = asyncio.ensure_future(
            self.runner.wait_for_agent(
                leg,
                node.target,
                priority=int(variables.get("priority") or 0),
                last_agent=variables.get("last_agent"),
                customer=variables.get("customer_id"),
            )
        )
        hold = asyncio.ensure_future(self.host.hold_caller(leg, node.target, variables))
        try:
            answered = await waiting
        except NoAgent:
            return False
        finally:
            hold.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await hold
        await self._connect(leg, answered, node.announce, variables)
        return True

    async def _connect(
        self, leg: Leg, answered: Answered, announce: Speech | None, variables: dict[str, Any]
    ) -> None:
        seat = answered.seat
        variables["agent"] = {
            "user_id": seat.agent_id,
            "extension": seat.extension,
            "work_number": seat.work_number,
            "name": seat.name,
        }
        variables["routing_reason"] = str(answered.decision.reason)
        if isinstance(run := leg.variables.get("flow_run"), FlowRun):
            run.outcome = f"transferred:queue:{answered.queue}"
        if isinstance(customer_id := variables.get("customer_id"), int):  # the next call prefers this agent
            self.host.spawn(crm.served_by(self.host.ctx, customer_id, seat.agent_id))
        call = LiveCall(
            self.host,
            call_id=leg.id,
            caller=leg,
            partner=answered.agent_leg,
            seat=seat,
            queue=answered.queue,
            variables=variables,
        )
        greeting = await self.speech.audio(announce, variables) if announce is not None else None
        await call.run(announce=greeting)
