"""A dry run of a flow (`hotline ivr dry-run`): a caller pressing keys, on the simulated driver in
virtual time, with what they hear written down."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hotline.contact.calls.direct import Agent, RingGroups
from hotline.contact.ivr.flow import Flow, Speech, TransferNode
from hotline.contact.ivr.interpreter import FlowRun, FlowServices, Lookup, PacedSilence, render, run_flow
from hotline.voice.control import Leg
from hotline.voice.simulated import SimPhone, SimulatedVoice, run_virtual


@dataclass
class DryRun:
    path: list[str]
    said: list[str]
    outcome: str


def dry_run(
    flow: Flow, keys: str, *, agent_answers: bool = True, lookups: Mapping[str, Lookup] | None = None
) -> DryRun:
    """Walk a flow as a caller pressing `keys` (type-ahead: each input takes what it needs), on
    the simulated driver in virtual time; an agent 1001 (work number 001) answers transfers."""
    said: list[str] = []

    class Transcript(PacedSilence):
        async def audio(self, speech: Speech, variables: Mapping[str, Any]) -> bytes:
            said.append(render(speech.text or f"<{speech.prompt}>", variables))
            return await super().audio(speech, variables)

    voice = Transcript()
    control: SimulatedVoice

    async def application(leg: Leg) -> None:
        queues = {
            n.target: [Agent("1001", "001", "坐席")]
            for n in flow.nodes.values()
            if isinstance(n, TransferNode)
        }
        transfers = RingGroups(control, voice, queues)
        await run_flow(flow, leg, FlowServices(voice=voice, transfers=transfers, lookups=lookups or {}))

    phone = SimPhone(answer_after=2.0) if agent_answers else SimPhone(registered=False)
    control = SimulatedVoice(application, phones={"1001": phone})

    async def call() -> FlowRun:
        caller = control.call_in(
            "13800138000", "dry-run", entry=flow.name, keys=keys, key_after=0.5, key_gap=0.1, talks_for=30
        )
        await caller.ended.wait()
        await asyncio.sleep(0.1)
        await control.stop()
        run: FlowRun = caller.variables["flow_run"]
        return run

    run = run_virtual(call())
    agent = run.variables.get("agent")
    outcome = f"answered by agent {agent['work_number']} ({agent['extension']})" if agent else run.outcome
    return DryRun(run.path, said, outcome or "caller-hung-up")
