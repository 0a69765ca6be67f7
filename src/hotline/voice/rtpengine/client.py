"""An asyncio client of rtpengine's ng control protocol (UDP).

A request is `<cookie> <bencoded dict>`; rtpengine answers `<cookie> <bencoded dict>` with a
`result` of `ok` (or `pong`), `warning` (done, with a `warning` text) or `error` (with an
`error-reason`). UDP loses datagrams, so a request is sent again with the same cookie every
`interval` seconds until an answer comes or `attempts` sends went unanswered: rtpengine keeps the
answers of recent cookies and repeats them instead of doing the command twice, so an offer is never
applied twice. An `error` raises `NgError` with rtpengine's reason; no answer raises `NgTimeout`.

The commands are those of rtpengine 10.5 (Debian 12's `rtpengine-daemon`); keys are as its
documentation spells them (`call-id`, `from-tag`, `record call`, …). Extra options of a command go
in `options` unchanged (e.g. `{"ICE": "remove", "flags": ["trust-address"]}`).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Mapping
from typing import Any

import structlog

from hotline.voice.rtpengine.bencode import BencodeError, Value, decode, encode

log = structlog.get_logger(__name__)
__all__ = ["NgClient", "NgError", "NgTimeout", "parse_address"]

Options = Mapping[str, object]


class NgError(Exception):
    """rtpengine refused a command (`result: error`), or its answer could not be read."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"rtpengine refused {command!r}: {reason}")
        self.command, self.reason = command, reason


class NgTimeout(NgError):
    """rtpengine did not answer a command at all."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(command, reason)
        self.args = (f"rtpengine did not answer {command!r}: {reason}",)


def parse_address(text: str) -> tuple[str, int]:
    """`host:port` (`[v6]:port` too) of an ng listener."""
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"not host:port: {text!r}")
    return host.strip("[]"), int(port)


def _text(value: Value) -> Any:
    """An answer with its byte strings as text (SDP and rtpengine's keys are ASCII)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_text(item) for item in value]
    if isinstance(value, dict):
        return {key.decode("utf-8", "replace"): _text(item) for key, item in value.items()}
    return value


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: NgClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.client._received(data)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable: rtpengine not there
        log.debug("rtpengine.ng.unreachable", error=str(exc))


class NgClient:
    """One UDP socket to one rtpengine; concurrent requests are matched to answers by cookie. At
    most `in_flight` requests wait at once: hundreds sent together overflow rtpengine's control
    socket, and the lost ones would only come back as re-sends (measured: 400 `query`s at once)."""

    def __init__(
        self, address: tuple[str, int], *, interval: float = 0.5, attempts: int = 4, in_flight: int = 32
    ) -> None:
        self.address, self.interval, self.attempts = address, interval, attempts
        self._slots = asyncio.Semaphore(in_flight)
        self._transport: asyncio.DatagramTransport | None = None
        self._waiting: dict[bytes, asyncio.Future[dict[bytes, Value]]] = {}
        self._prefix = secrets.token_hex(4)
        self._counter = itertools.count(1)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), remote_addr=self.address
        )

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        for future in self._waiting.values():
            future.cancel()
        self._waiting.clear()

    async def __aenter__(self) -> NgClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ the wire

    async def request(self, command: str, options: Options | None = None) -> dict[str, Any]:
        """Sends one command and returns rtpengine's answer (text values), or raises."""
        if self._transport is None:
            raise RuntimeError("NgClient.start() first")
        cookie = f"{self._prefix}_{next(self._counter)}".encode()
        wire = cookie + b" " + encode({"command": command, **(options or {})})
        async with self._slots:
            reply = await self._exchange(command, cookie, wire)
        answer: dict[str, Any] = _text(reply)
        result = answer.get("result")
        if result == "warning":
            log.warning("rtpengine.ng.warning", command=command, warning=answer.get("warning"))
        elif result not in ("ok", "pong"):
            raise NgError(command, str(answer.get("error-reason") or f"result {result!r}"))
        return answer

    async def _exchange(self, command: str, cookie: bytes, wire: bytes) -> dict[bytes, Value]:
        transport = self._transport
        if transport is None:
            raise RuntimeError("NgClient stopped while the request waited")
        future: asyncio.Future[dict[bytes, Value]] = asyncio.get_running_loop().create_future()
        self._waiting[cookie] = future
        try:
            for _ in range(self.attempts):
                transport.sendto(wire)
                try:
                    reply = await asyncio.wait_for(asyncio.shield(future), self.interval)
                    break
                except TimeoutError:
                    continue
            else:
                raise NgTimeout(command, f"no answer from {self.address[0]}:{self.address[1]} "
                                f"after {self.attempts} sends")  # fmt: skip
        finally:
            self._waiting.pop(cookie, None)
            future.cancel()
        return reply

    def _received(self, data: bytes) -> None:
        cookie, space, body = data.partition(b" ")
        future = self._waiting.get(cookie)
        if future is None or future.done():
            return  # an answer to a retransmission already answered, or to nothing of ours
        try:
            reply = decode(body) if space else None
        except BencodeError as error:
            future.set_exception(NgError("?", f"unreadable answer: {error}"))
            return
        if not isinstance(reply, dict):
            future.set_exception(NgError("?", "the answer is not a dictionary"))
            return
        future.set_result(reply)

    # ------------------------------------------------------------ the commands

    async def ping(self) -> None:
        await self.request("ping")

    async def offer(self, call_id: str, from_tag: str, sdp: str, options: Options | None = None) -> str:
        """The SDP to send on to the other side: `sdp` rewritten to rtpengine's address and ports."""
        answer = await self.request(
            "offer", {"call-id": call_id, "from-tag": from_tag, "sdp": sdp, **(options or {})}
        )
        return str(answer["sdp"])

    async def answer(
        self, call_id: str, from_tag: str, to_tag: str, sdp: str, options: Options | None = None
    ) -> str:
        answer = await self.request(
            "answer",
            {"call-id": call_id, "from-tag": from_tag, "to-tag": to_tag, "sdp": sdp, **(options or {})},
        )
        return str(answer["sdp"])

    async def delete(
        self, call_id: str, from_tag: str | None = None, options: Options | None = None
    ) -> dict[str, Any]:
        return await self.request("delete", _call(call_id, from_tag) | dict(options or {}))

    async def query(self, call_id: str) -> dict[str, Any]:
        """The call's legs (`tags`), their streams and packet counters (`totals`)."""
        return await self.request("query", {"call-id": call_id})

    async def list_calls(self, limit: int = 32) -> list[str]:
        answer = await self.request("list", {"limit": limit})
        return [str(call) for call in answer.get("calls", [])]

    async def start_recording(self, call_id: str, options: Options | None = None) -> None:
        """Records the call into rtpengine's `--recording-dir` (a pcap per call with `pcap`)."""
        await self.request("start recording", {"call-id": call_id, **(options or {})})

    async def stop_recording(self, call_id: str) -> None:
        await self.request("stop recording", {"call-id": call_id})

    async def play_media(
        self, call_id: str, from_tag: str, *, file: str | None = None, blob: bytes | None = None,
        repeat_times: int | None = None,
    ) -> int | None:  # fmt: skip
        """Plays a file (on rtpengine's machine) or an audio blob (e.g. a WAV) to the party of
        `from_tag`'s leg instead of what the other side says; returns the length in ms if known."""
        options: dict[str, object] = _call(call_id, from_tag)
        if file is not None:
            options["file"] = file
        if blob is not None:
            options["blob"] = blob
        if repeat_times is not None:
            options["repeat-times"] = repeat_times
        answer = await self.request("play media", options)
        duration = answer.get("duration")
        return int(duration) if isinstance(duration, int) else None

    async def stop_media(self, call_id: str, from_tag: str) -> None:
        await self.request("stop media", _call(call_id, from_tag))

    async def block_media(self, call_id: str, from_tag: str | None = None) -> None:
        """Silences what `from_tag`'s party sends (the whole call without a tag)."""
        await self.request("block media", _call(call_id, from_tag))

    async def unblock_media(self, call_id: str, from_tag: str | None = None) -> None:
        await self.request("unblock media", _call(call_id, from_tag))

    async def subscribe_request(
        self, call_id: str, from_tags: list[str], options: Options | None = None
    ) -> tuple[str, str]:
        """A listener on `from_tags`' media (listen-in, a recorder): the SDP offer it gets and the
        subscription's to-tag for `subscribe_answer`."""
        answer = await self.request(
            "subscribe request", {"call-id": call_id, "from-tags": from_tags, **(options or {})}
        )
        return str(answer["sdp"]), str(answer["to-tag"])

    async def subscribe_answer(self, call_id: str, to_tag: str, sdp: str) -> None:
        await self.request("subscribe answer", {"call-id": call_id, "to-tag": to_tag, "sdp": sdp})

    async def unsubscribe(self, call_id: str, to_tag: str) -> None:
        await self.request("unsubscribe", {"call-id": call_id, "to-tag": to_tag})


def _call(call_id: str, from_tag: str | None) -> dict[str, object]:
    options: dict[str, object] = {"call-id": call_id}
    if from_tag:
        options["from-tag"] = from_tag
    return options
