"""The built-in voice node, as the contact layer drives it (`contact.ports.VoiceNode`): the SIP
server's engine for calls, its registrar for phones coming and going.

Nothing here knows about queues or agents: the contact layer hands its application (what runs
for every inbound call) to `serve` and listens to registrations through `watch_phones`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotline.voice.control import Application, Bridge, Conference, EventSink, Leg, PhoneKind
from hotline.voice.sip.server import SipServer


class SipVoiceNode:
    def __init__(self, sip: SipServer) -> None:
        self.sip = sip

    def serve(self, application: Application) -> None:
        self.sip.application = application
        self.sip.engine.application = application

    def watch_phones(self, listener: Callable[[str], None]) -> None:
        self.sip.registrar.listeners.append(listener)

    def adopt(self, adopter: Callable[[Leg, Leg, Bridge], None]) -> None:
        """One node: no router before this one left calls behind."""

    def reachable(self, target: str) -> bool:
        return self.sip.engine.reachable(target)

    # what `voice.remote.server.VoiceNodeServer` needs besides, when a router elsewhere drives it

    def watch_legs(self, sink: EventSink) -> None:
        self.sip.engine.listeners.append(sink)

    def reachability(self) -> dict[str, Any]:
        """The extensions registered here, every extension, and whether a trunk takes calls out."""
        extensions = sorted(self.sip.extensions)
        return {
            "registered": [e for e in extensions if self.sip.registrar.contacts(e)],
            "extensions": extensions,
            "outbound": any(trunk.outbound for trunk in self.sip.trunks),
        }

    def calls(self) -> int:
        return len(self.sip.engine.legs)

    async def originate(
        self,
        target: str,
        *,
        caller: str = "",
        ring_for: float = 30.0,
        auto_answer: bool = False,
        phone: PhoneKind | None = None,
        near: Leg | None = None,
    ) -> Leg:
        return await self.sip.engine.originate(
            target, caller=caller, ring_for=ring_for, auto_answer=auto_answer, phone=phone
        )  # one node: every leg is near every other

    def bridge(self, a: Leg, b: Leg, *, record_to: Path | None = None) -> Bridge:
        return self.sip.engine.bridge(a, b, record_to=record_to)

    def conference(self, hears: dict[Leg, set[Leg]]) -> Conference:
        return self.sip.engine.conference(hears)
