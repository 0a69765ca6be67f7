"""The call-control interface: what the routing layer (IVR, queues, desktop) may do with a call.

A *leg* is one party's connection to Hotline: a caller who dialled in, or an agent's phone
Hotline rang. Operations on a leg are coroutines (answer, play, collect, hang up); whatever
happens to a leg is also published as a `LegEvent`, and each leg keeps the timestamps of its
phases (`Cdr`) for call records and statistics.

Two implementations share this contract: the built-in SIP/RTP engine (`voice.engine`) and a
simulated driver on virtual time (`voice.simulated`) for tests and the staffing simulator.
Code above this layer must not know which one it talks to.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar

import structlog

T = TypeVar("T")

log = structlog.get_logger(__name__)


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class LegState(StrEnum):
    OFFERED = "offered"  # an inbound call waiting for answer
    RINGING = "ringing"  # an outbound call ringing the far end
    ANSWERED = "answered"
    HELD = "held"  # the far end put Hotline on hold (re-INVITE sendonly/inactive)
    ENDED = "ended"


class EndReason(StrEnum):
    CALLER_HUNG_UP = "caller-hung-up"  # the far end sent BYE
    HOTLINE_HUNG_UP = "hotline-hung-up"
    CANCELLED = "cancelled"  # the caller gave up before answer (CANCEL)
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    REJECTED = "rejected"  # any other final refusal from the far end
    UNREACHABLE = "unreachable"  # not registered, or no response at all
    NOT_ACKNOWLEDGED = "not-acknowledged"  # our 200 OK never got its ACK
    MEDIA_FAILED = "media-failed"  # a browser leg's ICE or DTLS never completed, or its certificate was wrong
    TRANSFERRED = "transferred"
    SHUTDOWN = "shutdown"
    NODE_LOST = "node-lost"  # the voice node that had the leg stopped answering (a cluster)


class OriginateFailed(Exception):
    """An outbound leg was not answered; `reason` says why (busy, no answer, unreachable…)."""

    def __init__(self, reason: EndReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason, self.detail = reason, detail


class LegEnded(Exception):
    """The operation could not finish because the leg hung up."""


@dataclass(frozen=True)
class LegEvent:
    kind: str  # offered, ringing, answered, held, resumed, dtmf, bridged, unbridged, transfer, ended
    leg_id: str
    at: float  # wall-clock seconds (time.time()), for records
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Cdr:
    """When each phase of a leg began, in wall-clock seconds; None for phases it never reached."""

    leg_id: str
    direction: Direction
    caller: str
    number: str
    offered_at: float | None = None
    ringing_at: float | None = None
    answered_at: float | None = None
    bridged_at: float | None = None
    ended_at: float | None = None
    end_reason: EndReason | None = None
    quality: dict[str, float | int | None] | None = None
    """Media figures at the end (packets received and lost, jitter, far-end loss, round trip)."""

    @property
    def talk_seconds(self) -> float:
        if self.answered_at is None or self.ended_at is None:
            return 0.0
        return max(0.0, self.ended_at - self.answered_at)


EventSink = Callable[[LegEvent], None]
PhoneKind = Literal["desk", "browser"]
"""Where an agent answers: a SIP phone on their extension, or the desktop's browser phone."""
_ids = itertools.count(1)
_PROCESS = f"{int(time.time()):x}{secrets.token_hex(2)}"
"""Leg ids are unique across restarts and nodes (the event log keys calls by them)."""


class Leg(ABC):
    """One party of a call. Digits and state are shared logic; media and signalling are the
    implementation's."""

    def __init__(self, *, direction: Direction, caller: str, number: str, emit: EventSink) -> None:
        self.id = f"{_PROCESS}-{next(_ids)}"
        self.direction, self.caller, self.number = direction, caller, number
        self.state = LegState.OFFERED if direction is Direction.INBOUND else LegState.RINGING
        self.cdr = Cdr(self.id, direction, caller, number)
        self.digits: asyncio.Queue[str] = asyncio.Queue()
        self.key_pressed = asyncio.Event()
        """Set at each key press; `play(interrupt=leg.key_pressed)` stops a prompt (barge-in)."""
        self.ended = asyncio.Event()
        self.answered = asyncio.Event()
        self.connected = asyncio.Event()
        """Set once the leg has been bridged to another (a caller reached an agent)."""
        self.variables: dict[str, Any] = {}
        self.entry = ""
        self.muted = False
        """For inbound calls: the entry point (IVR flow) of the number dialled, from its DID."""
        self._emit = emit
        now = self.now()
        if direction is Direction.INBOUND:
            self.cdr.offered_at = now
        else:
            self.cdr.ringing_at = now

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.direction} {self.caller}→{self.number} {self.state}>"

    # ---------------------------------------------------------------- state, shared

    def now(self) -> float:
        """The clock of records and events: wall-clock seconds (virtual ones in a simulation)."""
        return time.time()

    def publish(self, kind: str, **detail: Any) -> None:
        self._emit(LegEvent(kind, self.id, self.now(), detail))

    def mark_answered(self) -> None:
        if self.state in (LegState.OFFERED, LegState.RINGING):
            self.state = LegState.ANSWERED
            self.cdr.answered_at = self.now()
            self.answered.set()
            self.publish("answered")

    def mark_ringing(self) -> None:
        if self.state is LegState.RINGING and not self.cdr.ringing_at:
            self.cdr.ringing_at = self.now()
        self.publish("ringing")

    def mark_held(self, held: bool) -> None:
        if self.state is LegState.ENDED:
            return
        was = self.state
        self.state = LegState.HELD if held else LegState.ANSWERED
        if was != self.state:
            self.publish("held" if held else "resumed")

    def mark_ended(self, reason: EndReason) -> bool:
        """Record the end once; False if the leg had already ended."""
        if self.state is LegState.ENDED:
            return False
        self.state = LegState.ENDED
        self.cdr.ended_at = self.now()
        self.cdr.end_reason = reason
        self.ended.set()
        self.publish("ended", reason=reason.value)
        return True

    def key(self, digit: str) -> None:
        """A key the far end pressed (RFC 4733, SIP INFO, or the simulator)."""
        self.key_pressed.set()
        self.digits.put_nowait(digit)
        self.publish("dtmf", digit=digit)

    # ---------------------------------------------------------------- operations, shared

    async def collect(
        self, *, max_digits: int, terminator: str = "#", first_timeout: float = 5.0, next_timeout: float = 3.0
    ) -> str:
        """Digits until `max_digits`, the terminator (not included) or a timeout; keys pressed during
        a prompt count (type-ahead)."""
        digits = ""
        while len(digits) < max_digits and not self.ended.is_set():
            try:
                digit = await asyncio.wait_for(
                    self.digits.get(), first_timeout if not digits else next_timeout
                )
            except TimeoutError:
                break
            if digit == terminator:
                break
            digits += digit
        self.key_pressed.clear()
        return digits

    # ---------------------------------------------------------------- operations, per implementation

    @abstractmethod
    async def answer(self) -> None:
        """Answer an inbound leg; returns once the far end confirmed (ACK). Raises LegEnded."""

    @abstractmethod
    async def play(self, audio: bytes, *, loop: bool = False, interrupt: asyncio.Event | None = None) -> bool:
        """Play G.711 μ-law audio at 8 kHz (or until `interrupt` is set); False if interrupted or
        the leg ended. With `loop`, repeat until interrupted (music on hold)."""

    @abstractmethod
    async def send_digits(self, digits: str) -> None:
        """Send keys to the far end as RFC 4733 events, correctly paced."""

    def mute(self, muted: bool) -> None:
        """Stop (or resume) passing this party's voice to the others; they hear silence."""
        self.muted = muted
        self.publish("muted" if muted else "unmuted")

    @abstractmethod
    async def hang_up(self, reason: EndReason = EndReason.HOTLINE_HUNG_UP) -> None:
        """End the leg: BYE when answered, CANCEL when ringing, a final refusal when offered."""

    @abstractmethod
    def record(self, path: Path) -> LegRecording:
        """Start recording what this party says (a voicemail) into the WAV file `path`."""

    @abstractmethod
    def listen(self, sink: Callable[[bytes], None]) -> Callable[[], None]:
        """Hand `sink` what this party says as it arrives (μ-law, packet by packet) until the
        returned function is called (answering-machine detection)."""


class LegRecording(ABC):
    @abstractmethod
    async def stop(self) -> tuple[Path, float] | None:
        """Stop and write the file: its path and length in seconds (None: nothing was recorded)."""


class Bridge(ABC):
    """Two legs talking to each other, optionally recorded."""

    def __init__(self, a: Leg, b: Leg) -> None:
        self.a, self.b = a, b
        self.recording: Recording | None = None
        if LegState.ENDED in (a.state, b.state):
            return  # one hung up meanwhile: nobody was connected (`wait` returns at once)
        for leg, other in ((a, b), (b, a)):
            leg.cdr.bridged_at = leg.cdr.bridged_at or leg.now()
            leg.connected.set()
            leg.publish("bridged", to=other.id)

    def _unbridged(self) -> None:
        for leg, other in ((self.a, self.b), (self.b, self.a)):
            if leg.state is not LegState.ENDED:
                leg.publish("unbridged", to=other.id)

    async def wait(self) -> Leg:
        """Until either leg ends; returns the leg that ended."""
        a, b = asyncio.ensure_future(self.a.ended.wait()), asyncio.ensure_future(self.b.ended.wait())
        try:
            await asyncio.wait({a, b}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            a.cancel()
            b.cancel()
        return self.a if self.a.ended.is_set() else self.b

    @abstractmethod
    def pause(self, paused: bool) -> None:
        """Stop (or resume) passing audio between the legs while both stay up and the recording
        goes on: hold, and a consultation while the caller holds."""

    @abstractmethod
    async def stop(self) -> Recording | None:
        """Stop forwarding (each leg stays up); returns the finished recording, if any."""


class MonitorMode(StrEnum):
    LISTEN = "listen"  # the supervisor hears both; nobody hears the supervisor
    WHISPER = "whisper"  # the agent hears the supervisor too; the caller does not
    BARGE = "barge"  # everyone hears everyone (also a 3-way call)


def monitor_hearing(caller: Leg, agent: Leg, supervisor: Leg, mode: MonitorMode) -> dict[Leg, set[Leg]]:
    """Who hears whom when a supervisor joins a caller–agent call."""
    return {
        supervisor: {caller, agent},
        agent: {caller, supervisor} if mode in (MonitorMode.WHISPER, MonitorMode.BARGE) else {caller},
        caller: {agent, supervisor} if mode is MonitorMode.BARGE else {agent},
    }


class Conference(ABC):
    """Three or more legs mixed, each hearing only the legs it is set to hear."""

    def __init__(self, hears: dict[Leg, set[Leg]]) -> None:
        self.hears = hears
        for leg in hears:
            leg.publish("conference", hears=sorted(other.id for other in hears[leg]))

    @abstractmethod
    def set_hearing(self, hears: dict[Leg, set[Leg]]) -> None:
        """Change who hears whom (listen → whisper → barge) without interrupting anyone."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop mixing; two legs that were bridged go back to their direct bridge."""


@dataclass(frozen=True)
class Recording:
    """Files of a recorded bridge: what each leg said, and both as a stereo mix (a left, b right)."""

    leg_a: Path
    leg_b: Path
    mix: Path
    seconds: float


Application = Callable[[Leg], Awaitable[None]]
"""Runs for each inbound leg (the IVR). When it returns, Hotline hangs the leg up; when the caller
hangs up first, the application is cancelled, so it releases what it holds (agent legs, bridges)
in `finally` blocks."""


async def run_application(application: Application, leg: Leg) -> None:
    """Run the application of an inbound leg: cancel it when the caller hangs up, hang up when it
    returns, and log (never raise) what it failed with. The same for every implementation."""
    app = asyncio.ensure_future(application(leg))
    ended = asyncio.ensure_future(leg.ended.wait())
    await asyncio.wait({app, ended}, return_when=asyncio.FIRST_COMPLETED)
    if not app.done():
        app.cancel()
    ended.cancel()
    for outcome in await asyncio.gather(app, ended, return_exceptions=True):
        if isinstance(outcome, Exception) and not isinstance(outcome, LegEnded | asyncio.CancelledError):
            log.error("call application failed", leg=leg.id, error=repr(outcome))
    if leg.state is not LegState.ENDED:
        await leg.hang_up()


async def settle(work: Awaitable[T]) -> T:
    """Run `work` to its end even if the call's task is cancelled meanwhile (the caller hangs up
    just as a conversation or a message ends, while its recording is being written): the
    cancellation is raised again once the work is done."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


class CallControl(ABC):
    """A voice engine, seen from the routing layer."""

    def __init__(self) -> None:
        self.listeners: list[EventSink] = []

    def emit(self, event: LegEvent) -> None:
        for listener in list(self.listeners):
            listener(event)

    @abstractmethod
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
        """Ring `target` (an extension, or a number through the trunk) and return the answered leg;
        raises OriginateFailed. Cancelling the awaiting task cancels the ringing (CANCEL).
        `auto_answer`: ask the phone to answer by itself (RFC 5373). `phone`: of an extension
        registered both from a desk phone and from a browser, ring only that kind (the agent's
        choice of where they answer); with none of that kind registered, every contact rings. `near`:
        the leg this one will be bridged with (one engine: every leg is near every other)."""

    @abstractmethod
    def bridge(self, a: Leg, b: Leg, *, record_to: Path | None = None) -> Bridge:
        """Connect two answered legs; with `record_to`, record both sides into that folder."""

    @abstractmethod
    def conference(self, hears: dict[Leg, set[Leg]]) -> Conference:
        """Mix answered legs; `monitor_hearing()` gives the table for listen, whisper and barge."""

    @abstractmethod
    def reachable(self, target: str) -> bool:
        """Whether `target` can be rung now (a registered extension, or a number with a trunk)."""
