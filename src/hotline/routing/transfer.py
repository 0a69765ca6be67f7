"""Connecting a caller to a person: the IVR's transfer node.

Until the queues and ACD of this issue land, a queue is a ring group: its agents' extensions
rung one after another (skipping phones that are not registered) until one answers. The caller
then hears the announcement naming the agent's work number, and the two are bridged and
recorded. The ACD replaces `RingGroups` behind the same `Transfers` interface.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.routing.flow import Flow, Speech, TransferNode
from hotline.routing.ivr import FlowRun, FlowServices, Lookup, PacedSilence, Voice, render, run_flow
from hotline.voice.control import CallControl, Leg, OriginateFailed, settle


@dataclass(frozen=True)
class Agent:
    extension: str
    work_number: str = ""
    name: str = ""


class RingGroups:
    def __init__(
        self,
        control: CallControl,
        voice: Voice,
        groups: Mapping[str, list[Agent]],
        *,
        ring_for: float = 20.0,
        record_to: Path | None = None,
    ) -> None:
        self.control, self.voice, self.groups = control, voice, groups
        self.ring_for, self.record_to = ring_for, record_to

    def _candidates(self, node: TransferNode) -> list[Agent]:
        if node.to == "queue":
            return list(self.groups.get(node.target, []))
        if node.to == "agent":  # by work number
            return [a for agents in self.groups.values() for a in agents if a.work_number == node.target][:1]
        return [Agent(node.target)]  # an extension, or an outside number through the trunk

    async def transfer(self, leg: Leg, node: TransferNode, run: FlowRun) -> bool:
        return await self.connect(
            leg, self._candidates(node), announce=node.announce, variables=run.variables
        )

    async def connect(
        self, leg: Leg, agents: list[Agent], *, announce: Speech | None, variables: dict[str, Any]
    ) -> bool:
        """Ring the agents in turn; bridge the caller to the first who answers, until either hangs up."""
        for agent in agents:
            if agent.extension == leg.caller or not self.control.reachable(agent.extension):
                continue  # never ring the caller's own phone
            try:
                far = await self.control.originate(agent.extension, caller=leg.caller, ring_for=self.ring_for)
            except OriginateFailed:
                continue
            variables["agent"] = {
                "extension": agent.extension,
                "work_number": agent.work_number,
                "name": agent.name,
            }
            try:
                if announce is not None:
                    await leg.play(await self.voice.audio(announce, variables))
                folder = self.record_to / leg.id if self.record_to is not None else None
                bridge = self.control.bridge(leg, far, record_to=folder)
                try:
                    await bridge.wait()
                finally:
                    recording = await settle(bridge.stop())
                    if recording is not None:
                        variables["recording"] = str(recording.mix)
            finally:
                with contextlib.suppress(Exception):
                    await far.hang_up()
            return True
        return False


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
    from hotline.voice.simulated import SimPhone, SimulatedVoice, run_virtual

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
