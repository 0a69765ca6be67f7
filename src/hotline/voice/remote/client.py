"""The site's voice nodes as one `contact.ports.VoiceNode`, driven over Redis from the router's
node: the contact layer runs its IVR, queues and live calls on `RemoteLeg`s exactly as on the
built-in engine's legs.

A leg lives on the node where it arrived (or that rang it); everything that is bridged with it is
rung on the same node (`originate(near=…)`), so media never crosses nodes. A node not heard from
for `NODE_LOST_SECONDS` is gone: its legs end with the reason `node-lost`, so the contact layer
closes their calls, queue entries and agents' states as for any hang-up.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from hotline.core import tasks
from hotline.voice.control import (
    Application,
    Bridge,
    Conference,
    EndReason,
    Leg,
    LegEnded,
    LegState,
    OriginateFailed,
    PhoneKind,
    run_application,
)
from hotline.voice.remote import wire
from hotline.voice.remote.legs import RemoteBridge, RemoteConference, RemoteFailed, RemoteLeg, same_node

log = structlog.get_logger(__name__)

DIGESTS_KEPT = 256


@dataclass
class NodeState:
    name: str
    heard_at: float
    calls: int = 0
    version: int = -1
    known_version: int = -2
    registered: set[str] = field(default_factory=set)
    extensions: set[str] = field(default_factory=set)
    outbound: bool = False
    asking: bool = False


@dataclass
class _Pending:
    node: str
    future: asyncio.Future[Any]
    make: Callable[[Any], Any] | None = None


class RemoteVoiceNode:
    """Every voice node of the site, for the contact layer of the router that holds `epoch`."""

    def __init__(
        self, redis: Any, epoch: int, *, site: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.redis, self.epoch, self.site, self.clock = redis, epoch, site, clock
        self.nodes: dict[str, NodeState] = {}
        self.legs: dict[str, RemoteLeg] = {}
        self.sinks: dict[str, Callable[[bytes], None]] = {}
        self._application: Application | None = None
        self._phone_listeners: list[Callable[[str], None]] = []
        self._adopters: list[Callable[[Leg, Leg, Bridge], None]] = []
        self._pending: dict[str, _Pending] = {}
        self._requests = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self._stored: set[str] = set()
        self._digests: dict[int, tuple[bytes, str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._publisher = wire.Publisher(redis)
        self._listener: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._silent = False

    async def start(self) -> None:
        self._publisher.start()
        self._listener = asyncio.create_task(
            wire.listen(self.redis, wire.router_channel(self.site), self._handle, self._subscribed.set),
            name="voice-router-wire",
        )
        await asyncio.wait_for(self._subscribed.wait(), 10)
        self._watchdog = asyncio.create_task(self._watch(), name="voice-router-watchdog")

    def silence(self) -> None:
        """Send nothing more: a router that lost its lease must not touch the calls it drove (the
        next router takes them over), whatever its contact layer does while it winds down."""
        self._silent = True

    async def stop(self) -> None:
        self.silence()
        await tasks.stop(self._listener, self._watchdog, *self._tasks)
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(RemoteFailed("the router stopped"))
        await self._publisher.stop()

    # ------------------------------------------------------------------ the port

    def serve(self, application: Application) -> None:
        self._application = application

    def watch_phones(self, listener: Callable[[str], None]) -> None:
        self._phone_listeners.append(listener)

    def adopt(self, adopter: Callable[[Leg, Leg, Bridge], None]) -> None:
        self._adopters.append(adopter)

    def reachable(self, target: str) -> bool:
        return self._reaching(target) is not None

    def _reaching(self, target: str) -> NodeState | None:
        """The least busy node that can ring `target` now."""
        able = [
            node
            for node in self.nodes.values()
            if target in node.registered or (target not in node.extensions and node.outbound)
        ]
        return min(able, key=lambda node: node.calls, default=None)

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
        if isinstance(near, RemoteLeg):
            node = near.node
        elif (reaching := self._reaching(target)) is not None:
            node = reaching.name
        else:
            raise OriginateFailed(EndReason.UNREACHABLE, "no voice node can reach it")
        message = {
            "t": "originate", "target": target, "caller": caller, "ring_for": ring_for,
            "auto_answer": auto_answer, "phone": phone, "near": near.id if near is not None else None,
        }  # fmt: skip
        req, future = self._ask(node, message, make=lambda info: self._adopt(node, info))
        try:
            leg: Leg = await future
        except asyncio.CancelledError:
            self.tell(node, {"t": "cancel", "of": req})
            raise
        return leg

    def bridge(self, a: Leg, b: Leg, *, record_to: Path | None = None) -> Bridge:
        same_node([a, b])
        assert isinstance(a, RemoteLeg) and isinstance(b, RemoteLeg)  # noqa: S101 - checked above
        return RemoteBridge(self, a, b, record_to)

    def conference(self, hears: dict[Leg, set[Leg]]) -> Conference:
        return RemoteConference(self, same_node(list(hears)), hears)

    # ------------------------------------------------------------------ commands

    def tell(self, node: str, message: wire.Message) -> None:
        """A command whose outcome nobody waits for (its failure is logged by the node)."""
        if self._silent:
            return
        self._publisher.send(wire.node_channel(self.site, node), message | {"epoch": self.epoch})

    def ask(self, node: str, message: wire.Message) -> asyncio.Future[Any]:
        return self._ask(node, message)[1]

    def _ask(
        self, node: str, message: wire.Message, make: Callable[[Any], Any] | None = None
    ) -> tuple[str, asyncio.Future[Any]]:
        req = f"{self._prefix}-{next(self._requests)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._silent:
            future.set_exception(RemoteFailed("this router stepped down"))
            return req, future
        if node not in self.nodes:
            gone = (
                OriginateFailed(EndReason.NODE_LOST, node) if make else LegEnded(f"voice node {node} is gone")
            )
            future.set_exception(gone)
            return req, future
        self._pending[req] = _Pending(node, future, make)
        self.tell(node, message | {"req": req})
        return req, future

    async def request(self, node: str, message: wire.Message, seconds: float = wire.REPLY_SECONDS) -> Any:
        req, future = self._ask(node, message)
        try:
            return await asyncio.wait_for(future, seconds)
        except TimeoutError:
            self._pending.pop(req, None)
            raise RemoteFailed(f"voice node {node} did not answer {message['t']}") from None

    async def store_audio(self, audio: bytes) -> str:
        """Prompts travel once: stored in Redis by their digest, named in commands. The digest of
        the same prompt (the same bytes, from the prompt cache) is taken once."""
        known = self._digests.get(id(audio))
        if known is not None and known[0] is audio:
            name = known[1]
        else:
            name = wire.digest(audio)
            if len(self._digests) >= DIGESTS_KEPT:
                self._digests.clear()
            self._digests[id(audio)] = (audio, name)  # the bytes kept: their id is not reused
        if name not in self._stored:
            await self.redis.set(wire.audio_key(self.site, name), audio, ex=wire.AUDIO_KEEP_SECONDS)
            self._stored.add(name)
        return name

    # ------------------------------------------------------------------ what the nodes say

    def _handle(self, message: wire.Message) -> None:
        node = message.get("node")
        if not isinstance(node, str):
            return
        kind = message["t"]
        if kind == "bye":
            self._lost(node)
            return
        state = self.nodes.get(node)
        if state is None:
            state = self.nodes[node] = NodeState(node, self.clock())
            log.info("voice node joined", node=node)
        state.heard_at = self.clock()
        if kind == "beat":
            state.calls = int(message.get("calls", 0))
            self._learn(state, int(message.get("version", 0)))
        elif kind == "phone":
            self._learn(state, int(message.get("version", 0)), str(message.get("extension", "")))
        elif kind == "offered":
            self._offered(node, message["leg"])
        elif kind == "talking":
            self._talking(node, message)
        elif kind == "event":
            self._event(message)
        elif kind == "reply":
            self._replied(message)
        elif kind == "audio" and (sink := self.sinks.get(message.get("listen", ""))) is not None:
            sink(base64.b64decode(message["data"]))

    def _learn(self, state: NodeState, version: int, extension: str = "") -> None:
        """Ask a node what it can reach when that changed; tell the phone listeners after."""
        state.version = max(state.version, version)
        if state.known_version >= state.version or (state.asking and not extension):
            return
        state.asking = True

        async def ask() -> None:
            try:
                status = await self.request(state.name, {"t": "status"})
            except (LegEnded, RemoteFailed):
                return
            finally:
                state.asking = False
            state.known_version = int(status["version"])
            newly = set(status["registered"]) - state.registered
            state.registered = set(status["registered"])
            state.extensions = set(status["extensions"])
            state.outbound = bool(status["outbound"])
            for phone in sorted(newly | ({extension} if extension else set())):
                for listener in list(self._phone_listeners):
                    listener(phone)  # a ready agent whose phone the router had not seen gets calls
            if state.known_version < state.version:
                self._learn(state, state.version)

        self._spawn(ask())

    def _offered(self, node: str, info: dict[str, Any]) -> None:
        if self._application is None:
            return  # not serving yet: the node announces it again
        self.tell(node, {"t": "claim", "leg": info["id"]})
        if info["id"] in self.legs:
            return
        leg = self._adopt(node, info)
        self._spawn(run_application(self._application, leg))

    def _talking(self, node: str, message: wire.Message) -> None:
        """A conversation the previous router left going on a node: its legs and bridge become
        this router's, and the contact layer sees it to its end."""
        if not self._adopters:
            return  # not serving yet: the node tells again
        self.tell(node, {"t": "claim", "bridge": message["bridge"]})
        if message["a"]["id"] in self.legs or message["b"]["id"] in self.legs:
            return
        a, b = self._adopt(node, message["a"]), self._adopt(node, message["b"])
        bridge = RemoteBridge(self, a, b, None, name=message["bridge"])
        for adopter in self._adopters:
            adopter(a, b, bridge)

    def _adopt(self, node: str, info: dict[str, Any]) -> RemoteLeg:
        leg = RemoteLeg(self, node, info)
        if leg.state is LegState.ENDED:
            leg.mark_ended(EndReason.CALLER_HUNG_UP)
        else:
            self.legs[leg.id] = leg
        return leg

    def _event(self, message: wire.Message) -> None:
        leg = self.legs.get(message["leg"])
        if leg is None:
            return
        kind, detail, at = message["kind"], message.get("detail") or {}, float(message["at"])
        if kind == "answered":
            leg.mark_answered()
            leg.cdr.answered_at = at
        elif kind == "ringing":
            leg.mark_ringing()
        elif kind in ("held", "resumed"):
            leg.mark_held(kind == "held")
        elif kind == "dtmf":
            leg.key(str(detail["digit"]))
        elif kind == "ended":
            self.legs.pop(leg.id, None)
            leg.cdr.quality = detail.get("quality")
            leg.mark_ended(EndReason(detail.get("reason", EndReason.CALLER_HUNG_UP.value)))
            leg.cdr.ended_at = at

    def _replied(self, message: wire.Message) -> None:
        pending = self._pending.pop(str(message.get("req")), None)
        if pending is None:
            return
        error = message.get("error")
        if error is None:
            result = pending.make(message.get("result")) if pending.make else message.get("result")
            if pending.future.done():  # nobody waits any more (a ringing cancelled as it answered)
                if isinstance(result, RemoteLeg):
                    self._spawn(result.hang_up())
                return
            pending.future.set_result(result)
            return
        if pending.future.done():
            return
        if error == "ended":
            pending.future.set_exception(LegEnded(str(message.get("detail", ""))))
        elif error == "originate-failed":
            reason = EndReason(message.get("reason", EndReason.UNREACHABLE.value))
            pending.future.set_exception(OriginateFailed(reason, str(message.get("detail", ""))))
        else:
            pending.future.set_exception(RemoteFailed(f"{error}: {message.get('detail', '')}"))

    # ------------------------------------------------------------------ nodes gone

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(wire.HEARTBEAT_SECONDS)
            now = self.clock()
            for name in [
                n for n, state in self.nodes.items() if now - state.heard_at > wire.NODE_LOST_SECONDS
            ]:
                self._lost(name)

    def _lost(self, node: str) -> None:
        """A node stopped or went silent: its legs end (node-lost), what waited on it fails."""
        if self.nodes.pop(node, None) is None:
            return
        log.warning("voice node lost", node=node)
        for req, pending in list(self._pending.items()):
            if pending.node == node:
                del self._pending[req]
                if not pending.future.done():
                    pending.future.set_exception(
                        OriginateFailed(EndReason.NODE_LOST, node) if pending.make else LegEnded(node)
                    )
        for leg in [leg for leg in self.legs.values() if leg.node == node]:
            del self.legs[leg.id]
            leg.mark_ended(EndReason.NODE_LOST)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
