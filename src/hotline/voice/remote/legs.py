"""The router's side of a remote voice node's legs, bridges and conferences: each operation is a
command to the node that has the leg (`client.RemoteVoiceNode` sends it and routes the replies)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from hotline.voice.control import (
    Bridge,
    Conference,
    Direction,
    EndReason,
    Leg,
    LegEnded,
    LegEvent,
    LegRecording,
    LegState,
    Recording,
)
from hotline.voice.remote import wire


class RemoteFailed(Exception):
    """A voice node could not carry out a command (gone, refused, or failed)."""


class Commands(Protocol):
    """How a remote leg reaches its node (`client.RemoteVoiceNode`)."""

    sinks: dict[str, Callable[[bytes], None]]

    def tell(self, node: str, message: wire.Message) -> None: ...
    def ask(self, node: str, message: wire.Message) -> asyncio.Future[Any]: ...
    async def request(self, node: str, message: wire.Message, seconds: float = ...) -> Any: ...
    async def store_audio(self, audio: bytes) -> str: ...


def _dropped(event: LegEvent) -> None:
    """The router's legs publish to nobody: the voice node logs the call's events itself."""


class RemoteLeg(Leg):
    def __init__(self, owner: Commands, node: str, info: dict[str, Any]) -> None:
        super().__init__(
            direction=Direction(info["direction"]),
            caller=info["caller"],
            number=info["number"],
            emit=_dropped,
        )
        self.owner, self.node = owner, node
        self.id = self.cdr.leg_id = info["id"]
        self.entry = info.get("entry", "")
        self.variables.update(info.get("variables") or {})
        for phase in ("offered_at", "ringing_at", "answered_at"):
            setattr(self.cdr, phase, info.get("cdr", {}).get(phase))
        state = LegState(info["state"])
        if state in (LegState.ANSWERED, LegState.HELD):
            self.state = state
            self.answered.set()

    async def answer(self) -> None:
        await self.owner.request(self.node, {"t": "answer", "leg": self.id})

    async def play(self, audio: bytes, *, loop: bool = False, interrupt: asyncio.Event | None = None) -> bool:
        if self.state is LegState.ENDED:
            return False
        name = await self.owner.store_audio(audio)
        play = secrets.token_hex(6)
        done = self.owner.ask(
            self.node, {"t": "play", "leg": self.id, "play": play, "audio": name, "loop": loop}
        )
        if interrupt is not None:
            stopped = asyncio.ensure_future(interrupt.wait())
            try:
                await asyncio.wait({done, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
            if not done.done():
                self.owner.tell(self.node, {"t": "stop_play", "play": play})
        try:
            return bool(await done)
        except (LegEnded, RemoteFailed):
            return False

    async def send_digits(self, digits: str) -> None:
        await self.owner.request(self.node, {"t": "send_digits", "leg": self.id, "digits": digits})

    def mute(self, muted: bool) -> None:
        super().mute(muted)
        self.owner.tell(self.node, {"t": "mute", "leg": self.id, "muted": muted})

    async def hang_up(self, reason: EndReason = EndReason.HOTLINE_HUNG_UP) -> None:
        if self.state is LegState.ENDED:
            return
        with contextlib.suppress(LegEnded, RemoteFailed):
            await self.owner.request(self.node, {"t": "hang_up", "leg": self.id, "reason": reason.value})

    def record(self, path: Path) -> LegRecording:
        name = secrets.token_hex(6)
        self.owner.tell(self.node, {"t": "record", "leg": self.id, "rec": name, "path": str(path)})
        return _RemoteRecording(self.owner, self.node, name)

    def listen(self, sink: Callable[[bytes], None]) -> Callable[[], None]:
        name = secrets.token_hex(6)
        self.owner.sinks[name] = sink
        self.owner.tell(self.node, {"t": "listen", "leg": self.id, "listen": name})

        def stop() -> None:
            if self.owner.sinks.pop(name, None) is not None:
                self.owner.tell(self.node, {"t": "unlisten", "listen": name})

        return stop


class _RemoteRecording(LegRecording):
    def __init__(self, owner: Commands, node: str, name: str) -> None:
        self.owner, self.node, self.name = owner, node, name

    async def stop(self) -> tuple[Path, float] | None:
        try:
            done = await self.owner.request(self.node, {"t": "record_stop", "rec": self.name})
        except (LegEnded, RemoteFailed):
            return None
        return (Path(done[0]), float(done[1])) if done else None


class RemoteBridge(Bridge):
    def __init__(
        self, owner: Commands, a: RemoteLeg, b: RemoteLeg, record_to: Path | None, *, name: str = ""
    ) -> None:
        """A new bridge on the legs' node; with `name`, the node's bridge of that name (taken over
        from a previous router)."""
        super().__init__(a, b)
        self.owner, self.node, self.name = owner, a.node, name or secrets.token_hex(6)
        if not name:
            message = {"t": "bridge", "bridge": self.name, "a": a.id, "b": b.id}
            self.owner.tell(self.node, message | ({"record_to": str(record_to)} if record_to else {}))

    def pause(self, paused: bool) -> None:
        self.owner.tell(self.node, {"t": "bridge_pause", "bridge": self.name, "paused": paused})

    async def stop(self) -> Recording | None:
        try:
            done = await self.owner.request(self.node, {"t": "bridge_stop", "bridge": self.name})
        except (LegEnded, RemoteFailed):
            done = None
        self._unbridged()
        if not done:
            return None
        return Recording(Path(done["leg_a"]), Path(done["leg_b"]), Path(done["mix"]), float(done["seconds"]))


class RemoteConference(Conference):
    def __init__(self, owner: Commands, node: str, hears: dict[Leg, set[Leg]]) -> None:
        super().__init__(hears)
        self.owner, self.node, self.name = owner, node, secrets.token_hex(6)
        self.owner.tell(self.node, {"t": "conference", "conf": self.name, "hears": _hearing(hears)})

    def set_hearing(self, hears: dict[Leg, set[Leg]]) -> None:
        self.hears = hears
        self.owner.tell(self.node, {"t": "conference_set", "conf": self.name, "hears": _hearing(hears)})

    async def stop(self) -> None:
        with contextlib.suppress(LegEnded, RemoteFailed):
            await self.owner.request(self.node, {"t": "conference_stop", "conf": self.name})


def _hearing(hears: dict[Leg, set[Leg]]) -> dict[str, list[str]]:
    return {leg.id: sorted(other.id for other in heard) for leg, heard in hears.items()}


def same_node(legs: list[Leg]) -> str:
    nodes = {leg.node for leg in legs if isinstance(leg, RemoteLeg)}
    if len(nodes) != 1 or not all(isinstance(leg, RemoteLeg) for leg in legs):
        raise RemoteFailed(f"legs on different voice nodes: {sorted(nodes)}")
    return nodes.pop()
