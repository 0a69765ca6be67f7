"""Prompt frames on a clock of their own: the media pacer, a process beside the node.

A prompt, music on hold or ringback is a stream of 20 ms frames that must leave at
start + n × 20 ms whatever else the node is doing. Paced by the event loop's timers, a frame
waits behind whatever callback runs when its timer falls due (a page of 500 rows is ~10 ms of
ORM work) and behind the loop thread's wait for a CPU. Paced by a thread of the node, it waits
for the GIL instead, and the thread holding it may itself be waiting for a CPU: on a busy
two-core machine that made one tick in a hundred 20 ms late (docs/decisions/0004-media-pacer.md
has the measurements). So the frames are sent by a process of their own (`pacer_process.py`):
single-threaded, a 20 ms tick for every stream, at a real-time priority where the node may set
one, sharing nothing with the node but the calls' RTP sockets, which it is handed as
descriptors so the frames leave from each call's own port.

This module is the node's side. `RtpSession.play` builds the frames (`audio_frames`, in the
leg's codec, once), hands them over (`MediaPacer.play`), and awaits the stream's end: played out,
or stopped by `MediaPacer.stop` (a key, a hang-up, a cancelled task), after which the pacer
process sends nothing more of it. Either way the process answers with the stream's final
sequence number and timestamp, which go back to the session, so what it sends next (a relayed
packet, the next prompt) continues the numbering. The process is started with the first stream
of each event loop and ends when its control socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pickle
import socket
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from hotline.voice.rtp.pacer_process import LATENESS_BUCKETS

if TYPE_CHECKING:
    from hotline.voice.rtp.session import RtpSession

log = structlog.get_logger(__name__)

SAMPLES_PER_FRAME = 160  # 8 kHz × 20 ms
STOP_ANSWER_SECONDS = 1.0
"""How long a stopped stream waits for the pacer process to hand its numbering back (it answers
within a millisecond; a stuck process must not hold up a call)."""
__all__ = ["LATENESS_BUCKETS", "Frame", "MediaPacer", "PacedStream", "audio_frames", "media_pacer"]

Frame = tuple[int, bytes, int]
"""What the pacer sends at one tick, ready made: the RTP header's second byte (marker bit and
payload type), the payload (already in the leg's codec), and how far the timestamp moves on after
it (160 for audio; 0 within an RFC 4733 event, whose packets share a timestamp)."""


@dataclass(eq=False)
class PacedStream:
    """One prompt (or run of digits) handed to the pacer, as the node sees it."""

    session: RtpSession
    frames: Sequence[Frame]
    repeat: bool
    done: asyncio.Future[bool]
    """True once played to the end, False once stopped (or the pacer process died)."""
    id: int | None = None
    """Its number with the pacer process; None until handed over."""
    stopping: bool = False
    counted: tuple[int, int] = (0, 0)
    """Packets and octets of it already counted in the session's figures."""
    own_numbering: bool = False
    """Sent under an SSRC of its own (a WebRTC leg's prompt: decisions/0007), whose numbering
    does not go back to the session's stream."""


@dataclass(eq=False)
class MediaPacer:
    """The node's handle on its pacer process (use `media_pacer()`)."""

    pid: int | None = None
    priority: str = "unknown"
    """What the process got: "realtime", "nice" or "normal"."""
    sent: int = 0
    dropped: int = 0
    """Frames the kernel would not take (a full send buffer, no route): lost, as on the wire."""
    lateness: list[int] = field(default_factory=lambda: [0] * (len(LATENESS_BUCKETS) + 1))
    """Frames by how late their tick began (LATENESS_BUCKETS, then beyond); reported each second."""
    lateness_sum: float = 0.0
    _process: subprocess.Popen[bytes] | None = None
    _control: socket.socket | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _starting: asyncio.Task[None] | None = None
    _playing: dict[int, PacedStream] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _outbox: deque[tuple[bytes, list[int]]] = field(default_factory=deque)
    """Messages the process has not taken yet, with descriptors to close once sent."""

    @property
    def streams(self) -> int:
        """Streams playing now."""
        return len(self._playing)

    async def play(self, stream: PacedStream) -> None:
        """Hand `stream` over: its first frame leaves at the process's next tick (at once when
        nothing else plays). `stream.done` resolves when it ends."""
        await self._ready()
        if stream.stopping:  # stopped while the process was starting
            return
        session, sock = stream.session, stream.session.raw_socket
        stream.id = next(self._ids)
        self._playing[stream.id] = stream
        with tempfile.TemporaryFile() as frames:  # (a file: a long prompt exceeds a message)
            frames.write(pickle.dumps(list(stream.frames), pickle.HIGHEST_PROTOCOL))
            frames.seek(0)
            # Descriptors of our own for the message: the session may close its socket before
            # the process has taken it, and its number must not meanwhile name another file.
            handed = [os.dup(sock.fileno())] if sock is not None else []
            handed.append(os.dup(frames.fileno()))
        ssrc, sequence, timestamp, srtp = session.pacer_terms()
        stream.own_numbering = ssrc != session.ssrc
        message = ("play", stream.id, ssrc, sequence, timestamp, session.remote, stream.repeat, srtp)
        self._send(message, handed)

    def stop(self, stream: PacedStream) -> None:
        """Stop `stream` before its next frame; `stream.done` resolves (False) once the process has
        handed the numbering back. From the event loop's thread."""
        if stream.done.done() or stream.stopping:
            return
        stream.stopping = True
        if stream.id is None:  # never handed over
            stream.done.set_result(False)
        else:
            self._send(("stop", stream.id), [])

    def move(self, stream: PacedStream, remote: tuple[str, int]) -> None:
        """The session's far end moved (RTP latched to where the phone really is)."""
        if stream.id is not None and not stream.done.done():
            self._send(("move", stream.id, remote), [])

    # ------------------------------------------------------------ the process

    async def _ready(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._move_to(loop)
        starting = self._starting
        if starting is None or (starting.done() and not self._alive()):
            self._close()  # one that died, or never started
            self._starting = loop.create_task(self._start())
        assert self._starting is not None  # noqa: S101 - (just set)
        await asyncio.shield(self._starting)  # (a caller cancelled meanwhile does not stop it)

    def _move_to(self, loop: asyncio.AbstractEventLoop) -> None:
        """Streams of another event loop (one per test, or asyncio.run after asyncio.run) are
        over; the process carries on and answers this loop now."""
        old, self._loop = self._loop, loop
        if self._control is not None and old is not None and not old.is_closed():
            old.remove_reader(self._control)
            old.remove_writer(self._control)
        self._lost()
        if self._starting is not None and not self._starting.done():
            self._close()  # a start the other loop did not finish
        elif self._alive():
            assert self._control is not None  # noqa: S101 - (alive)
            loop.add_reader(self._control, self._readable)
            self._send(("reset",), [])  # whatever the other loop left playing ends

    def _alive(self) -> bool:
        return self._control is not None and self._process is not None and self._process.poll() is None

    async def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        try:
            command = [sys.executable, "-m", "hotline.voice.rtp.pacer_process", str(theirs.fileno())]
            self._process = await asyncio.to_thread(subprocess.Popen, command, pass_fds=[theirs.fileno()])
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._control = ours
        asyncio.get_running_loop().add_reader(ours, self._readable)
        self._flush()

    def _close(self) -> None:
        if self._control is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._control)
                self._loop.remove_writer(self._control)
            self._control.close()  # the process reads the end of its socket and exits
            self._control = None
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        self._starting, self.pid = None, None
        self._lost()

    def _lost(self) -> None:
        """The process is gone: every stream ends (False), the numbering as last reported."""
        for fds in (fds for _, fds in self._outbox):
            for fd in fds:
                os.close(fd)
        self._outbox.clear()
        playing, self._playing = self._playing, {}
        for stream in playing.values():
            if not stream.done.done():
                with contextlib.suppress(RuntimeError):  # (its loop is closed: nobody waits)
                    stream.done.set_result(False)

    def _send(self, message: tuple[Any, ...], fds: list[int]) -> None:
        self._outbox.append((pickle.dumps(message), fds))
        self._flush()

    def _flush(self) -> None:
        control = self._control
        while control is not None and self._outbox:
            data, fds = self._outbox[0]
            try:
                socket.send_fds(control, [data], fds)
            except BlockingIOError:
                assert self._loop is not None  # noqa: S101 - set with the control socket
                self._loop.add_writer(control, self._writable)
                return
            except OSError as exc:
                log.warning("the media pacer process has gone", error=str(exc))
                self._close()
                return
            self._outbox.popleft()
            for fd in fds:
                os.close(fd)

    def _writable(self) -> None:
        if self._control is not None and self._loop is not None:
            self._loop.remove_writer(self._control)
        self._flush()

    def _readable(self) -> None:
        while self._control is not None:
            try:
                data = self._control.recv(1 << 20)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                if self._process is not None and self._process.poll() is None:
                    self._process.kill()
                log.warning("the media pacer process has gone; prompts playing were stopped")
                self._close()
                return
            self._received(pickle.loads(data))  # noqa: S301 - our own child, over a socketpair

    def _received(self, message: tuple[Any, ...]) -> None:
        if message[0] == "ended":
            _, stream_id, played_out, sequence, timestamp, sent, octets = message
            stream = self._playing.pop(stream_id, None)
            if stream is not None:
                self._hand_back(stream, sequence, timestamp, sent, octets)
                if not stream.done.done():
                    stream.done.set_result(played_out)
        elif message[0] == "figures":
            _, self.sent, self.dropped, self.lateness, self.lateness_sum, progress = message
            for stream_id, sequence, timestamp, sent, octets in progress:
                if (stream := self._playing.get(stream_id)) is not None:
                    self._hand_back(stream, sequence, timestamp, sent, octets)
        elif message[0] == "started":
            _, self.pid, self.priority = message
            log.info("media pacer started", pid=self.pid, priority=self.priority)

    @staticmethod
    def _hand_back(stream: PacedStream, sequence: int, timestamp: int, sent: int, octets: int) -> None:
        """The session's numbering and figures as the process has them (the RTCP sender report
        and whatever the session sends next continue from there)."""
        session = stream.session
        if not stream.own_numbering:
            session.sequence, session.timestamp = sequence, timestamp
        session.sent_packets += sent - stream.counted[0]
        session.sent_octets += octets - stream.counted[1]
        stream.counted = (sent, octets)
        session._relayed_source = None  # the next relayed packet starts a new source again


_pacer = MediaPacer()


def media_pacer() -> MediaPacer:
    """The process-wide handle (its process starts with the first stream of an event loop)."""
    return _pacer


def audio_frames(audio: bytes, payload_type: int, translate: bytes | None = None) -> list[Frame]:
    """G.711 `audio` as 20 ms frames (the last padded with silence), the first with the marker bit,
    each re-coded through `translate` (a 256-byte table) once here rather than on every send."""
    payloads = [audio[i : i + SAMPLES_PER_FRAME] for i in range(0, len(audio), SAMPLES_PER_FRAME)]
    if payloads and len(payloads[-1]) < SAMPLES_PER_FRAME:
        payloads[-1] = payloads[-1].ljust(SAMPLES_PER_FRAME, b"\xff")  # μ-law silence
    if translate is not None:
        payloads = [payload.translate(translate) for payload in payloads]
    return [
        (payload_type | 0x80 if n == 0 else payload_type, payload, SAMPLES_PER_FRAME)
        for n, payload in enumerate(payloads)
    ]


class _PacerFigures(Collector):
    def collect(self) -> Iterator[Metric]:
        pacer = _pacer
        playing = GaugeMetricFamily("hotline_media_streams", "Prompts and music the media pacer is playing")
        playing.add_metric([], pacer.streams)
        yield playing
        sent = CounterMetricFamily("hotline_media_frames_sent", "Prompt frames the media pacer sent")
        sent.add_metric([], pacer.sent)
        dropped = CounterMetricFamily(
            "hotline_media_frames_dropped", "Prompt frames not sent: the socket's send buffer was full"
        )
        dropped.add_metric([], pacer.dropped)
        counts = list(itertools.accumulate(pacer.lateness))
        lateness = HistogramMetricFamily(
            "hotline_media_frame_lateness_seconds", "How late the media pacer sent each prompt frame"
        )
        lateness.add_metric(
            [],
            [(str(bound), count) for bound, count in zip(LATENESS_BUCKETS, counts, strict=False)]
            + [("+Inf", counts[-1])],
            pacer.lateness_sum,
        )
        yield from (sent, dropped, lateness)


REGISTRY.register(_PacerFigures())
