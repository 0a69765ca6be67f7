"""The simulated voice driver: the call-control interface without SIP or RTP, on virtual time.

Callers are scripted (`call_in`: which number, which keys when, how long they are willing to
wait) and so are agents' phones (`SimPhone`: answer after n seconds, busy, never). Prompts take
as long as their audio, ring timeouts expire, wrap-up timers run out, all on a virtual clock:
`VirtualTimeLoop` jumps straight to the next timer whenever nothing is ready to run, so an hour
of a busy call center is simulated in seconds. Routing code runs unchanged on it, because it
only ever uses `asyncio` time (`asyncio.sleep`, `wait_for`, `loop.time()`).

Virtual time is for in-memory work: a database call made through a thread pool would see the
clock jump while it waits, so simulations keep their state in memory and write results after.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hotline.voice.control import (
    Application,
    Bridge,
    CallControl,
    Conference,
    Direction,
    EndReason,
    Leg,
    LegEnded,
    LegEvent,
    LegRecording,
    LegState,
    OriginateFailed,
    PhoneKind,
    Recording,
    run_application,
)

T = TypeVar("T")
SAMPLE_RATE = 8000


class _VirtualSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)  # real I/O (the loop's self-pipe, sockets) is still served
        if not ready and timeout is not None and timeout > 0:
            self._loop.advance(timeout)  # nothing to do until the next timer: go there at once
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock only moves when every task is waiting on a timer."""

    def __init__(self) -> None:
        self._virtual_now = 0.0
        super().__init__(_VirtualSelector(self))

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        self._virtual_now += seconds


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on virtual time (a simulation, or a test)."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@dataclass
class SimPhone:
    """An agent's phone in a simulation: how it reacts when rung."""

    answer_after: float | None = 2.0  # seconds of ringing before answer; None never answers
    busy: bool = False
    registered: bool = True
    hangs_up_after: float | None = None  # seconds after answering; None: the other side ends the call
    rung: int = 0


class SimLeg(Leg):
    def now(self) -> float:
        return asyncio.get_running_loop().time()  # virtual seconds since the simulation began

    async def answer(self) -> None:
        if self.state is LegState.ENDED:
            raise LegEnded(self.id)
        if self.state is LegState.OFFERED:
            self.mark_answered()

    async def play(self, audio: bytes, *, loop: bool = False, interrupt: asyncio.Event | None = None) -> bool:
        if self.state is LegState.ENDED:
            return False
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self.ended.wait())]
        if interrupt is not None:
            waits.append(asyncio.ensure_future(interrupt.wait()))
        if not loop:
            waits.append(asyncio.ensure_future(asyncio.sleep(len(audio) / SAMPLE_RATE)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        return not self.ended.is_set() and not (interrupt is not None and interrupt.is_set())

    async def send_digits(self, digits: str) -> None:
        await asyncio.sleep(0.16 * len(digits))

    async def hang_up(self, reason: EndReason = EndReason.HOTLINE_HUNG_UP) -> None:
        self.mark_ended(reason)

    def record(self, path: Path) -> LegRecording:
        return SimRecording(self, path)

    def listen(self, sink: Callable[[bytes], None]) -> Callable[[], None]:
        return lambda: None  # a simulated party says nothing a detector could hear


class SimRecording(LegRecording):
    """A simulated caller says nothing: the message is as long as they stayed, and no file is
    written (simulations run thousands of calls)."""

    def __init__(self, leg: SimLeg, path: Path) -> None:
        self.path, self.started = path, leg.now()
        self.leg = leg

    async def stop(self) -> tuple[Path, float] | None:
        return self.path, self.leg.now() - self.started


class SimBridge(Bridge):
    def pause(self, paused: bool) -> None:
        self.paused = paused

    async def stop(self) -> Recording | None:
        self._unbridged()
        return None


class SimConference(Conference):
    def set_hearing(self, hears: dict[Leg, set[Leg]]) -> None:
        self.hears = hears

    async def stop(self) -> None:
        for leg in self.hears:
            leg.publish("conference-ended")


@dataclass
class SimulatedVoice(CallControl):
    application: Application
    phones: dict[str, SimPhone] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()
        self.legs: dict[str, SimLeg] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._phone_listeners: list[Callable[[str], None]] = []

    def serve(self, application: Application) -> None:
        """Run `application` for the callers who call in from now on."""
        self.application = application

    def watch_phones(self, listener: Callable[[str], None]) -> None:
        self._phone_listeners.append(listener)

    def adopt(self, adopter: Callable[[Leg, Leg, Bridge], None]) -> None:
        """No previous router in a simulation."""

    def register(self, extension: str) -> None:
        """The phone of `extension` registers (again): it can be rung, and watchers are told."""
        self.phones.setdefault(extension, SimPhone()).registered = True
        for listener in list(self._phone_listeners):
            listener(extension)

    def _leg(self, direction: Direction, caller: str, number: str) -> SimLeg:
        leg = SimLeg(direction=direction, caller=caller, number=number, emit=self.emit)
        self.legs[leg.id] = leg
        return leg

    def call_in(
        self,
        caller: str,
        number: str,
        *,
        entry: str = "",
        keys: str = "",
        key_after: float = 1.0,
        key_gap: float = 0.5,
        gives_up_after: float | None = None,
        talks_for: float | None = None,
    ) -> SimLeg:
        """A scripted caller: presses `keys` from `key_after` seconds on, hangs up unanswered by an
        agent after `gives_up_after` seconds, and hangs up `talks_for` seconds after being bridged."""
        leg = self._leg(Direction.INBOUND, caller, number)
        leg.entry = entry
        leg.publish("offered", caller=caller, number=number)
        self._spawn(run_application(self.application, leg))
        if keys:
            self._spawn(self._press(leg, keys, key_after, key_gap))
        if gives_up_after is not None:
            self._spawn(self._give_up(leg, gives_up_after))
        if talks_for is not None:
            self._spawn(self._talk(leg, talks_for))
        return leg

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def emit(self, event: LegEvent) -> None:
        if event.kind == "ended":
            self.legs.pop(event.leg_id, None)
        super().emit(event)

    @staticmethod
    async def _press(leg: SimLeg, keys: str, after: float, gap: float) -> None:
        await asyncio.sleep(after)
        for key in keys:
            if leg.state is LegState.ENDED:
                return
            leg.key(key)
            await asyncio.sleep(gap)

    @staticmethod
    async def _give_up(leg: SimLeg, after: float) -> None:
        await asyncio.sleep(after)
        if leg.cdr.bridged_at is None:
            leg.mark_ended(EndReason.CALLER_HUNG_UP)

    @staticmethod
    async def _talk(leg: SimLeg, seconds: float) -> None:
        await leg.connected.wait()
        await asyncio.sleep(seconds)
        leg.mark_ended(EndReason.CALLER_HUNG_UP)

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
        handset = self.phones.get(target)  # one simulated phone per extension: `phone` has no choice to make
        if handset is None or not handset.registered:
            raise OriginateFailed(EndReason.UNREACHABLE, f"{target} is not registered")
        handset.rung += 1
        if handset.busy:
            raise OriginateFailed(EndReason.BUSY, "486 Busy Here")
        leg = self._leg(Direction.OUTBOUND, caller, target)
        leg.mark_ringing()
        if handset.answer_after is None or handset.answer_after > ring_for:
            await asyncio.sleep(ring_for)
            leg.mark_ended(EndReason.NO_ANSWER)
            self.legs.pop(leg.id, None)
            raise OriginateFailed(EndReason.NO_ANSWER, f"{target} did not answer in {ring_for:g} s")
        try:
            await asyncio.sleep(handset.answer_after)
        except asyncio.CancelledError:
            leg.mark_ended(EndReason.CANCELLED)
            self.legs.pop(leg.id, None)
            raise
        leg.mark_answered()
        if handset.hangs_up_after is not None:
            self._spawn(self._hang_up_later(leg, handset.hangs_up_after))
        return leg

    @staticmethod
    async def _hang_up_later(leg: SimLeg, seconds: float) -> None:
        await asyncio.sleep(seconds)
        leg.mark_ended(EndReason.CALLER_HUNG_UP)  # the far end (the agent) hung up

    def bridge(self, a: Leg, b: Leg, *, record_to: Path | None = None) -> Bridge:
        return SimBridge(a, b)

    def conference(self, hears: dict[Leg, set[Leg]]) -> Conference:
        return SimConference(hears)

    def reachable(self, target: str) -> bool:
        phone = self.phones.get(target)
        return phone is not None and phone.registered and not phone.busy

    async def stop(self) -> None:
        for leg in list(self.legs.values()):
            leg.mark_ended(EndReason.SHUTDOWN)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
