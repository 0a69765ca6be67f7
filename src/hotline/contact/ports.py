"""What the contact layer needs of a voice node: the `VoiceNode` port.

The contact layer (IVR, queues, live calls) never knows which voice node it drives. It is given
one at start (`CallRouter.start(voice)`, from `api/app.py`) and talks to it through this port and
the legs it hands out (`voice.control.Leg`: answer, play, collect, record, send keys, mute, hang
up). Implementations:

- the built-in SIP/RTP engine, through `voice.node.SipVoiceNode`;
- the simulated driver on virtual time (`voice.simulated.SimulatedVoice`), for tests, `hotline ivr
  dry-run` and the staffing simulator;
- every voice node of a cluster, driven over Redis from the router's node
  (`voice.remote.client.RemoteVoiceNode`), so one contact layer steers the whole site.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from hotline.voice.control import Application, Bridge, Conference, Leg, PhoneKind


class VoiceNode(Protocol):
    def serve(self, application: Application) -> None:
        """Run `application` for every inbound call from now on (the contact layer's router)."""
        ...

    def watch_phones(self, listener: Callable[[str], None]) -> None:
        """Call `listener` with the extension each time a phone registers (a ready agent whose
        phone was unreachable can take calls again)."""
        ...

    def adopt(self, adopter: Callable[[Leg, Leg, Bridge], None]) -> None:
        """Call `adopter(caller, agent, bridge)` for each conversation a previous router left going
        (a cluster's new router; a single engine never does)."""
        ...

    def reachable(self, target: str) -> bool:
        """Whether `target` can be rung now: a registered extension, or a number a trunk calls."""
        ...

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
        """Ring `target` and return the answered leg; raises `voice.control.OriginateFailed` with
        the reason. Cancelling the awaiting task stops the ringing. `auto_answer` asks the phone to
        answer by itself (an agent's headset when a predictive dialer connects a call). `phone`: ring
        only the agent's chosen kind of phone (desk or browser) when both are registered. `near`: the leg
        this one will be bridged with; with several voice nodes it is rung from that leg's node, so
        their media stays on one machine."""
        ...

    def bridge(self, a: Leg, b: Leg, *, record_to: Path | None = None) -> Bridge:
        """Connect two answered legs; with `record_to`, record both sides into that folder."""
        ...

    def conference(self, hears: dict[Leg, set[Leg]]) -> Conference:
        """Mix answered legs, each hearing the legs it is set to hear (listen, whisper, barge,
        three-way calls)."""
        ...
