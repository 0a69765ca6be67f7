"""What every part of a live call shares: its legs and bridge, its mode, what it tells the agents'
browsers and the event log, and what it needs of the node it runs on (`CallHost`).

`LiveCall` (live.py) is built from this base, the transfers and consultations (consult.py) and a
supervisor's monitoring (monitor.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from hotline.contact.calls import state
from hotline.contact.calls.state import Mode
from hotline.contact.events import CallControlled, CallOffered, CallRecorded
from hotline.contact.journal import StoredJournal
from hotline.contact.ports import VoiceNode
from hotline.contact.queues.floor import Seat
from hotline.contact.queues.runner import QueueRunner
from hotline.contact.schemas import ConsultOut, LiveCallOut
from hotline.core.context import Context
from hotline.voice.control import Bridge, Conference, Leg


class CallHost(Protocol):
    """What a live call needs of the node it runs on (`node.CallRouter`)."""

    @property
    def ctx(self) -> Context: ...

    @property
    def voice(self) -> VoiceNode | None: ...

    @property
    def runner(self) -> QueueRunner | None: ...

    @property
    def journal(self) -> StoredJournal: ...

    @property
    def record_to(self) -> Path | None: ...

    @property
    def live(self) -> dict[str, Any]:
        """The calls with an agent on this node, by call id (the call adds and removes itself)."""
        ...

    def spawn(self, work: Coroutine[Any, Any, None]) -> None: ...

    def offer_for(self, call_id: str, agent_id: int, queue: str, reason: str) -> CallOffered:
        """What a colleague's desktop pops for the call (as for a call from a queue)."""
        ...

    async def hold_music(self, queue: str) -> bytes:
        """The queue's music on hold."""
        ...

    async def hold_caller(self, leg: Leg, queue: str, variables: dict[str, Any]) -> None:
        """Keep a caller waiting in a queue: music, position, the callback offer (queues/hold.py)."""
        ...


@dataclass
class Consult:
    """The colleague (or number) an agent talks to while the caller holds."""

    call_id: str  # the consultation's own id on the event log and in the colleague's presence
    target: str
    seat: Seat | None  # a colleague, or None for a number
    leg: Leg | None = None  # once answered
    ringing: asyncio.Task[None] | None = None
    side: Bridge | None = None  # agent ↔ colleague while the caller holds


class CallBase:
    def __init__(
        self,
        host: CallHost,
        *,
        call_id: str,
        caller: Leg,
        partner: Leg | None,
        seat: Seat | None,
        queue: str,
        outbound: bool = False,
        variables: dict[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.call_id, self.caller, self.partner, self.seat, self.queue = call_id, caller, partner, seat, queue
        self.outbound = outbound
        self.variables = variables if variables is not None else {}
        self.mode = Mode.TALKING
        self.muted = False
        self.since = time.time()
        self.lock = asyncio.Lock()
        self.bridge: Bridge | None = None
        self.consult: Consult | None = None
        self.three_way: Conference | None = None
        self._music: tuple[asyncio.Event, asyncio.Task[bool]] | None = None
        self._changed = asyncio.Event()
        self._parts = 0
        self._consults = 0
        self._released: set[int] = set()

    # ---------------------------------------------------------------- the mode

    def _move(self, action: str) -> None:
        """Take a step of the call's lifecycle (state.CALL): the one place a call's mode changes."""
        self.mode = state.after(self.mode, action)

    # ---------------------------------------------------------------- what the browser sees

    @property
    def agent_id(self) -> int | None:
        return self.seat.agent_id if self.seat is not None else None

    def out(self) -> LiveCallOut:
        consult = None
        if self.consult is not None:
            consult = ConsultOut(
                target=self.consult.target, state="talking" if self.consult.leg else "ringing"
            )
        customer = self.variables.get("customer_id")
        other = self.caller.number if self.outbound else self.caller.caller
        return LiveCallOut(
            call_id=self.call_id,
            direction="outbound" if self.outbound else "inbound",
            mode=self.mode.value,
            muted=self.muted,
            caller=other,
            customer_id=customer if isinstance(customer, int) else None,
            queue=self.queue,
            agent_id=self.agent_id,
            since=datetime.fromtimestamp(self.since, UTC),
            consult=consult,
        )

    def _tell(self, note: str = "", *, ended_for: list[int] | None = None) -> None:
        """Push the call's state to the agents on it (and `None` to those who just left it)."""
        colleague = self.consult.seat.agent_id if self.consult and self.consult.seat else None
        audience = [a for a in (self.agent_id, colleague) if a is not None]
        bus = self.host.ctx.bus
        if audience:
            call = self.out().model_dump(mode="json")
            self.host.spawn(bus.publish(CallControlled(audience=audience, call=call, note=note)))
        if ended_for:
            self.host.spawn(bus.publish(CallControlled(audience=ended_for, call=None, note=note)))

    def _log(self, kind: str, detail: str = "", agent_id: int | None = None) -> None:
        self.host.journal.call(
            self.call_id, kind, queue=self.queue, detail=detail, agent_id=agent_id or self.agent_id
        )

    # ---------------------------------------------------------------- media

    def _connect(self, partner: Leg) -> None:
        folder = self.host.record_to / self.caller.id if self.host.record_to is not None else None
        if folder is not None and self._parts:
            folder = folder / f"part{self._parts + 1}"
        self._parts += 1
        self.partner = partner
        voice = self.host.voice
        self.bridge = voice.bridge(self.caller, partner, record_to=folder) if voice else None

    async def _unbridge(self) -> None:
        """End the current bridge; its recording (one per part of the call) goes on the log."""
        bridge, self.bridge = self.bridge, None
        if bridge is None:
            return
        recording = await bridge.stop()
        if recording is not None:
            self.variables["recording"] = str(recording.mix)
            self._log("recorded", str(recording.mix))
            self.host.spawn(self.host.ctx.bus.publish(CallRecorded(call_id=self.call_id)))

    def _release(self) -> None:
        """The responsible agent's part is over: wrap-up, then ready (the queue's rules)."""
        runner = self.host.runner
        if self.seat is not None and self.seat.agent_id not in self._released and runner is not None:
            self._released.add(self.seat.agent_id)
            runner.call_ended(self.call_id, self.seat, self.queue)

    async def _start_music(self) -> None:
        music = await self.host.hold_music(self.queue)
        stop = asyncio.Event()
        self._music = (stop, asyncio.ensure_future(self.caller.play(music, loop=True, interrupt=stop)))

    async def _stop_music(self) -> None:
        if self._music is not None:
            stop, task = self._music
            self._music = None
            stop.set()
            with contextlib.suppress(Exception):
                await task

    # ---------------------------------------------------------------- consult.py's and monitor.py's

    async def _end_monitor(self, why: str) -> None:
        raise NotImplementedError

    async def _drop_consult(self) -> None:
        raise NotImplementedError

    async def _complete(self, why: str) -> None:
        raise NotImplementedError
