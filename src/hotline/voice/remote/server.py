"""A voice node steered from elsewhere: the calls of this node's SIP server, carried out on the
commands of the site's router (`client.RemoteVoiceNode`) and reported back to it.

Calls stay where they arrived: media, recordings and bridges are this node's; only decisions
travel. The node says it is alive every `HEARTBEAT_SECONDS` (with how many calls it has and a
version of what it can reach), announces every inbound call until a router takes it, and refuses
commands from a router older than the newest it has heard from (the lease's epoch).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import structlog
from redis.exceptions import RedisError

from hotline.core import tasks
from hotline.voice.control import (
    Application,
    Bridge,
    Conference,
    Direction,
    EndReason,
    EventSink,
    Leg,
    LegEnded,
    LegEvent,
    LegRecording,
    LegState,
    OriginateFailed,
    PhoneKind,
)
from hotline.voice.remote import wire

log = structlog.get_logger(__name__)

FORWARDED = frozenset({"answered", "ringing", "held", "resumed", "dtmf", "ended"})
"""Leg events the router hears from the node; the others (bridged, muted, conference…) the
router's own objects publish when it gives the command."""
AUDIO_CACHED = 256
"""Prompts kept in memory (the rest are fetched from Redis again when played)."""
UNCLAIMED_SECONDS = 5.0
"""An inbound call no router took within this long is refused (503: the edge tries another node)."""


class LocalVoice(Protocol):
    """What this server needs of the node's engine (`voice.node.SipVoiceNode` has it)."""

    def serve(self, application: Application) -> None: ...
    def watch_phones(self, listener: Callable[[str], None]) -> None: ...
    def watch_legs(self, sink: EventSink) -> None: ...
    def reachability(self) -> dict[str, Any]: ...
    def calls(self) -> int: ...

    async def originate(
        self,
        target: str,
        *,
        caller: str = "",
        ring_for: float = 30.0,
        auto_answer: bool = False,
        phone: PhoneKind | None = None,
        near: Leg | None = None,
    ) -> Leg: ...

    def bridge(self, a: Leg, b: Leg, *, record_to: Path | None = None) -> Bridge: ...
    def conference(self, hears: dict[Leg, set[Leg]]) -> Conference: ...


def leg_info(leg: Leg) -> dict[str, Any]:
    return {
        "id": leg.id,
        "direction": leg.direction.value,
        "caller": leg.caller,
        "number": leg.number,
        "entry": leg.entry,
        "state": leg.state.value,
        "variables": leg.variables,
        "cdr": {
            "offered_at": leg.cdr.offered_at,
            "ringing_at": leg.cdr.ringing_at,
            "answered_at": leg.cdr.answered_at,
        },
    }


class VoiceNodeServer:
    def __init__(self, voice: LocalVoice, redis: Any, node: str, *, site: str, epoch_key: str = "") -> None:
        self.voice, self.redis, self.node, self.site = voice, redis, node, site
        self.epoch_key = epoch_key
        """Where the router's lease keeps its epoch: read at each heartbeat, so a new router's
        epoch is known before its first command and an older router's are refused from then on."""
        self.epoch = 0
        """The newest router heard from; commands from older ones are refused."""
        self.legs: dict[str, Leg] = {}
        self._claimed: dict[str, asyncio.Event] = {}
        """Inbound legs and bridges offered to the router and not taken yet, by their name."""
        self._bridges: dict[str, Bridge] = {}
        self._conferences: dict[str, Conference] = {}
        self._recordings: dict[str, LegRecording] = {}
        self._plays: dict[str, tuple[str, asyncio.Event]] = {}
        self._listens: dict[str, Callable[[], None]] = {}
        self._originating: dict[str, asyncio.Task[Any]] = {}
        self._audio: OrderedDict[str, bytes] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._version = 0
        self._publisher = wire.Publisher(redis)
        self._listener: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._publisher.start()
        self.voice.watch_legs(self._leg_event)
        self.voice.watch_phones(self._phone)
        self.voice.serve(self._arrived)
        self._listener = asyncio.create_task(
            wire.listen(
                self.redis, wire.node_channel(self.site, self.node), self._command, self._subscribed.set
            ),
            name="voice-node-commands",
        )
        await asyncio.wait_for(self._subscribed.wait(), 10)
        self._heartbeat = asyncio.create_task(self._beat(), name="voice-node-heartbeat")

    async def stop(self) -> None:
        await tasks.stop(self._heartbeat, self._listener, *self._tasks)
        self._send({"t": "bye"})  # the router need not wait for the heartbeats to stop
        await self._publisher.stop()

    def _epoch_seen(self, epoch: int) -> None:
        if epoch > self.epoch:
            first = self.epoch == 0
            self.epoch = epoch
            if not first:
                self._router_changed()

    def reconfigured(self) -> None:
        """The extensions or trunks changed: the router asks for the new reachability."""
        self._version += 1

    def _send(self, message: wire.Message) -> None:
        message["node"] = self.node
        self._publisher.send(wire.router_channel(self.site), message)

    async def _beat(self) -> None:
        while True:
            if self._publisher.backlog < 10:  # Redis away: no pile of stale heartbeats
                self._send({"t": "beat", "calls": self.voice.calls(), "version": self._version})
            if self.epoch_key:
                with contextlib.suppress(RedisError, OSError, ValueError, TypeError):
                    self._epoch_seen(int(await self.redis.get(self.epoch_key) or 0))
            await asyncio.sleep(wire.HEARTBEAT_SECONDS)

    # ------------------------------------------------------------------ what the node reports

    async def _arrived(self, leg: Leg) -> None:
        """The node's application for every inbound call: announce it until a router takes it,
        then keep it until it ends (the router hangs it up through a command)."""
        self.legs[leg.id] = leg
        if await self._announce(leg, UNCLAIMED_SECONDS):
            await leg.ended.wait()

    async def _announce(self, leg: Leg, seconds: float, *, resumed: bool = False) -> bool:
        """Offer `leg` to the router each second until one takes it; False (and the leg hung up
        when it was offered again) if none did within `seconds`."""
        claimed = self._claimed[leg.id] = asyncio.Event()
        try:
            deadline = time.monotonic() + seconds
            while not claimed.is_set():
                if time.monotonic() > deadline or leg.state is LegState.ENDED:
                    log.warning("no router took the call", leg=leg.id, resumed=resumed)
                    if resumed:
                        await leg.hang_up()
                    return False  # a new call: run_application hangs up, 503 while offered
                self._send({"t": "offered", "leg": leg_info(leg), "resumed": resumed})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(claimed.wait(), 1.0)
            return True
        finally:
            self._claimed.pop(leg.id, None)

    def _router_changed(self) -> None:
        """A new router took over, knowing nothing of the calls here. A caller who is not talking
        to anyone (in the IVR, waiting in a queue) is offered to it again, so no caller is lost at
        a takeover (the flow starts again for them); a conversation goes on where it is and is
        handed to the new router to see to its end; a phone rung for the old router's purposes,
        not yet talking, is hung up."""
        talking = {leg.id for bridge in self._bridges.values() for leg in (bridge.a, bridge.b)}
        talking |= {leg.id for conference in self._conferences.values() for leg in conference.hears}
        for leg_id, stop in list(self._plays.values()):
            if leg_id not in talking:
                stop.set()  # the old router's music and prompts stop
        for name, bridge in list(self._bridges.items()):
            if name not in self._claimed:
                self._spawn(self._hand_over(name, bridge))
        for leg in list(self.legs.values()):
            if leg.id in talking or leg.id in self._claimed or leg.state is LegState.ENDED:
                continue
            if leg.direction is Direction.INBOUND:
                self._spawn(self._announce(leg, wire.HANDOVER_SECONDS, resumed=True))
            else:
                self._spawn(leg.hang_up())

    async def _hand_over(self, name: str, bridge: Bridge) -> None:
        """Tell the new router of a conversation going on here until it takes it."""
        claimed = self._claimed[name] = asyncio.Event()
        try:
            deadline = time.monotonic() + wire.HANDOVER_SECONDS
            while not claimed.is_set() and time.monotonic() < deadline and name in self._bridges:
                message = {"t": "talking", "bridge": name, "a": leg_info(bridge.a), "b": leg_info(bridge.b)}
                self._send(message)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(claimed.wait(), 1.0)
        finally:
            self._claimed.pop(name, None)

    def _leg_event(self, event: LegEvent) -> None:
        leg = self.legs.get(event.leg_id)
        if leg is None or event.kind not in FORWARDED:
            return
        detail = dict(event.detail)
        if event.kind == "ended":
            detail["quality"] = leg.cdr.quality
            self.legs.pop(event.leg_id, None)
        self._send({"t": "event", "leg": event.leg_id, "kind": event.kind, "at": event.at, "detail": detail})

    def _phone(self, extension: str) -> None:
        self._version += 1
        self._send({"t": "phone", "extension": extension, "version": self._version})

    # ------------------------------------------------------------------ commands

    def _command(self, message: wire.Message) -> None:
        epoch = message.get("epoch")
        if not isinstance(epoch, int) or epoch < self.epoch:
            if "req" in message:
                self._reply(message, error="stale-router")
            return
        self._epoch_seen(epoch)
        handler = _HANDLERS.get(message["t"])
        if handler is None:
            self._reply(message, error="unknown-command")
            return
        for key in ("leg", "bridge"):  # a router's command about a leg or bridge: it has it
            if isinstance(name := message.get(key), str) and name in self._claimed:
                self._claimed[name].set()
        try:
            outcome = handler(self, message)
        except LegEnded:
            self._reply(message, error="ended")
            return
        except (KeyError, TypeError, ValueError) as exc:
            self._reply(message, error="bad-command", detail=repr(exc))
            return
        if isinstance(outcome, Coroutine):
            self._spawn(self._answering(message, outcome))
        elif "req" in message:
            self._reply(message, result=outcome)

    async def _answering(self, message: wire.Message, work: Coroutine[Any, Any, Any]) -> None:
        try:
            result = await work
        except LegEnded:
            self._reply(message, error="ended")
        except OriginateFailed as exc:
            self._reply(message, error="originate-failed", reason=exc.reason.value, detail=exc.detail)
        except asyncio.CancelledError:
            self._reply(message, error="cancelled")
            raise
        except Exception as exc:
            log.error("voice node command failed", command=message.get("t"), error=repr(exc))
            self._reply(message, error="failed", detail=repr(exc))
        else:
            self._reply(message, result=result)

    def _reply(self, message: wire.Message, **outcome: Any) -> None:
        if "req" in message:
            self._send({"t": "reply", "req": message["req"], **outcome})

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _leg(self, message: wire.Message, key: str = "leg") -> Leg:
        return self._named(message[key])

    def _named(self, name: str) -> Leg:
        """The live leg of that id (LegEnded: gone, the router hears "ended")."""
        leg = self.legs.get(name)
        if leg is None:
            raise LegEnded(name)
        return leg

    # each handler: a value (replied at once) or a coroutine (replied when it finishes)

    def _claim(self, message: wire.Message) -> None:
        """A router took the inbound call (`_command` stops its announcements)."""

    def _status(self, message: wire.Message) -> dict[str, Any]:
        return {"version": self._version, **self.voice.reachability()}

    async def _answer(self, message: wire.Message) -> None:
        await self._leg(message).answer()

    async def _play(self, message: wire.Message) -> bool:
        leg = self._leg(message)
        audio = await self._audio_of(message["audio"])
        stop = asyncio.Event()
        self._plays[message["play"]] = (leg.id, stop)
        try:
            return await leg.play(audio, loop=bool(message.get("loop")), interrupt=stop)
        finally:
            self._plays.pop(message["play"], None)

    def _stop_play(self, message: wire.Message) -> None:
        if (play := self._plays.get(message["play"])) is not None:
            play[1].set()

    async def _audio_of(self, name: str) -> bytes:
        audio = self._audio.get(name)
        if audio is None:
            raw = await self.redis.get(wire.audio_key(self.site, name))
            if raw is None:
                raise ValueError(f"unknown audio {name}")
            audio = self._audio[name] = bytes(raw)
            while len(self._audio) > AUDIO_CACHED:
                self._audio.popitem(last=False)
        self._audio.move_to_end(name)
        return audio

    async def _send_digits(self, message: wire.Message) -> None:
        await self._leg(message).send_digits(str(message["digits"]))

    def _mute(self, message: wire.Message) -> None:
        self._leg(message).mute(bool(message["muted"]))

    async def _hang_up(self, message: wire.Message) -> None:
        leg = self.legs.get(message["leg"])
        if leg is not None and leg.state is not LegState.ENDED:
            await leg.hang_up(EndReason(message.get("reason", EndReason.HOTLINE_HUNG_UP.value)))

    def _record(self, message: wire.Message) -> None:
        self._recordings[message["rec"]] = self._leg(message).record(Path(message["path"]))

    async def _record_stop(self, message: wire.Message) -> list[Any] | None:
        recording = self._recordings.pop(message["rec"], None)
        done = await recording.stop() if recording is not None else None
        return [str(done[0]), done[1]] if done is not None else None

    def _listen(self, message: wire.Message) -> None:
        name = message["listen"]

        def sink(audio: bytes) -> None:
            self._send({"t": "audio", "listen": name, "data": base64.b64encode(audio).decode()})

        self._listens[name] = self._leg(message).listen(sink)

    def _unlisten(self, message: wire.Message) -> None:
        if (stop := self._listens.pop(message["listen"], None)) is not None:
            stop()

    async def _originate(self, message: wire.Message) -> dict[str, Any]:
        near = self.legs.get(message.get("near") or "")
        task = asyncio.ensure_future(
            self.voice.originate(
                str(message["target"]),
                caller=str(message.get("caller", "")),
                ring_for=float(message.get("ring_for", 30.0)),
                auto_answer=bool(message.get("auto_answer")),
                phone=message.get("phone"),
                near=near,
            )
        )
        self._originating[message["req"]] = task
        try:
            leg = await task
        finally:
            self._originating.pop(message["req"], None)
        if leg.state is not LegState.ENDED:
            self.legs[leg.id] = leg
        return leg_info(leg)

    def _cancel(self, message: wire.Message) -> None:
        if (task := self._originating.get(message["of"])) is not None:
            task.cancel()

    def _bridge(self, message: wire.Message) -> None:
        record_to = Path(message["record_to"]) if message.get("record_to") else None
        a, b = self._leg(message, "a"), self._leg(message, "b")
        self._bridges[message["bridge"]] = self.voice.bridge(a, b, record_to=record_to)

    def _bridge_pause(self, message: wire.Message) -> None:
        if (bridge := self._bridges.get(message["bridge"])) is not None:
            bridge.pause(bool(message["paused"]))

    async def _bridge_stop(self, message: wire.Message) -> dict[str, Any] | None:
        bridge = self._bridges.pop(message["bridge"], None)
        recording = await bridge.stop() if bridge is not None else None
        if recording is None:
            return None
        return {
            "leg_a": str(recording.leg_a),
            "leg_b": str(recording.leg_b),
            "mix": str(recording.mix),
            "seconds": recording.seconds,
        }

    def _hearing(self, message: wire.Message) -> dict[Leg, set[Leg]]:
        return {
            self._named(name): {self._named(other) for other in heard}
            for name, heard in message["hears"].items()
        }

    def _conference(self, message: wire.Message) -> None:
        self._conferences[message["conf"]] = self.voice.conference(self._hearing(message))

    def _conference_set(self, message: wire.Message) -> None:
        if (conference := self._conferences.get(message["conf"])) is not None:
            conference.set_hearing(self._hearing(message))

    async def _conference_stop(self, message: wire.Message) -> None:
        if (conference := self._conferences.pop(message["conf"], None)) is not None:
            await conference.stop()


_HANDLERS: dict[str, Callable[[VoiceNodeServer, wire.Message], Any]] = {
    "claim": VoiceNodeServer._claim,
    "status": VoiceNodeServer._status,
    "answer": VoiceNodeServer._answer,
    "play": VoiceNodeServer._play,
    "stop_play": VoiceNodeServer._stop_play,
    "send_digits": VoiceNodeServer._send_digits,
    "mute": VoiceNodeServer._mute,
    "hang_up": VoiceNodeServer._hang_up,
    "record": VoiceNodeServer._record,
    "record_stop": VoiceNodeServer._record_stop,
    "listen": VoiceNodeServer._listen,
    "unlisten": VoiceNodeServer._unlisten,
    "originate": VoiceNodeServer._originate,
    "cancel": VoiceNodeServer._cancel,
    "bridge": VoiceNodeServer._bridge,
    "bridge_pause": VoiceNodeServer._bridge_pause,
    "bridge_stop": VoiceNodeServer._bridge_stop,
    "conference": VoiceNodeServer._conference,
    "conference_set": VoiceNodeServer._conference_set,
    "conference_stop": VoiceNodeServer._conference_stop,
}
