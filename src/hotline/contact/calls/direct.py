"""Connecting a caller straight to a person: a flow's transfer to an agent (by work number), an
extension or an outside number, and a call from one extension to another.

`RingGroups` rings the candidates one after another (skipping phones that are not registered, and
the caller's own) until one answers; the caller then hears the announcement naming the agent's
work number, and the two are bridged and recorded. Transfers to a queue go through the queue
runner instead (queues/transfers.py); a dry run uses ring groups for queues too (ivr/dry_run.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.contact.ivr.flow import Speech, TransferNode
from hotline.contact.ivr.interpreter import FlowRun, Voice
from hotline.contact.ports import VoiceNode
from hotline.voice.control import Leg, OriginateFailed, settle


@dataclass(frozen=True)
class Agent:
    extension: str
    work_number: str = ""
    name: str = ""


class RingGroups:
    def __init__(
        self,
        voice: VoiceNode,
        speech: Voice,
        groups: Mapping[str, list[Agent]],
        *,
        ring_for: float = 20.0,
        record_to: Path | None = None,
    ) -> None:
        self.voice, self.speech, self.groups = voice, speech, groups
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
            if agent.extension == leg.caller or not self.voice.reachable(agent.extension):
                continue  # never ring the caller's own phone
            try:
                far = await self.voice.originate(
                    agent.extension, caller=leg.caller, ring_for=self.ring_for, near=leg
                )
            except OriginateFailed:
                continue
            variables["agent"] = {
                "extension": agent.extension,
                "work_number": agent.work_number,
                "name": agent.name,
            }
            try:
                if announce is not None:
                    await leg.play(await self.speech.audio(announce, variables))
                folder = self.record_to / leg.id if self.record_to is not None else None
                bridge = self.voice.bridge(leg, far, record_to=folder)
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
