"""Prompt frames on a clock of their own: the media pacer thread.

A prompt, music on hold or ringback is a stream of 20 ms frames that must leave at
start + n × 20 ms whatever else the node is doing. Paced by the event loop's timers, a frame
waits behind whatever callback runs when its timer falls due (a page of 500 rows is ~10 ms of
ORM work), and behind the loop thread's wait for a CPU. Here one thread per process (started on
first use, a daemon named `hotline-pacer`) sends them: a tick every 20 ms on its own clock, one
frame of every playing stream per tick, sleeping in between. Waking on time needs only a CPU and
the GIL, and the work per frame is a header packed with struct and one sendto on the session's
non-blocking socket (docs/decisions/0004-media-pacer.md).

Two things decide how soon that thread runs once its deadline comes, and the process owner sets
them (`hotline.api.app.start_voice` does for the voice role):

- **The GIL.** A thread that wakes while another holds the GIL gets it when the holder next
  reaches a switch point after `sys.getswitchinterval()` (5 ms by default, the whole budget of a
  frame). `prefer_media_timing()` lowers it to `SWITCH_INTERVAL`.
- **A CPU.** On a busy machine a runnable thread waits for a core. The pacer thread asks for a
  real-time priority (SCHED_FIFO) or else a lower nice value for itself when the process may
  (root or CAP_SYS_NICE); if not, it runs at the process's priority.

The loop side (`RtpSession.play`) hands a stream over, awaits a future the pacer resolves through
`call_soon_threadsafe` when the stream has played out, and stops it (interrupt, cancel, hang-up)
with `MediaPacer.stop`, which takes the pacer's lock: once it returns, no further frame of the
stream goes out and the session's sequence number and timestamp are final.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import ctypes
import errno
import itertools
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import structlog
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from hotline.voice.rtp.session import RtpSession

log = structlog.get_logger(__name__)

FRAME_SECONDS = 0.020
SAMPLES_PER_FRAME = 160  # 8 kHz × 20 ms
THREAD_NAME = "hotline-pacer"  # also the kernel's name for the thread (15 characters at most)
SWITCH_INTERVAL = 0.0005
"""The GIL switch interval where calls are played to: a waking pacer thread waits at most about
this long for the GIL (benchmarks/README.md, "Heavy requests", has the measurements)."""
REALTIME_PRIORITY = 10
"""SCHED_FIFO priority of the pacer thread where the process may set it (1–99; low, so the
kernel's own real-time threads and a media server's, if any, keep precedence)."""
NICENESS_BOOST = 10
"""Otherwise, how much lower than the process's the pacer thread's nice value is, where allowed."""
LATENESS_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
_HEADER = struct.Struct("!BBHII")

Frame = tuple[int, bytes, int]
"""What the pacer sends at one tick, ready made: the RTP header's second byte (marker bit and
payload type), the payload (already in the leg's codec), and how far the session's timestamp
moves on after it (160 for audio; 0 within an RFC 4733 event, whose packets share a timestamp)."""


@dataclass(eq=False)
class PacedStream:
    """One prompt being played: its frames, and where it is. Owned by the pacer thread once
    handed over; the loop reads `outcome` only through `MediaPacer.stop`."""

    session: RtpSession
    frames: Sequence[Frame]
    repeat: bool
    done: asyncio.Future[bool]
    number: int = 0
    """The next frame to send: frames[number % len(frames)] with `repeat`, without its marker
    bit after the first round."""
    stopped: bool = False
    outcome: bool | None = None
    """True once played to the end, False if its socket was closed; None while playing."""
    address: tuple[tuple[str, int], bytes] | None = None
    """The session's remote address, and the same as a C sockaddr (see `_sendto`)."""


class MediaPacer:
    """The process's pacer thread and the streams it plays (use `media_pacer()`).

    One clock for every stream, as in a media server: a tick every 20 ms at absolute times
    (the first tick + n × 20 ms, so lateness never accumulates), and at each tick one frame of
    every stream. A stream joins at the next tick. Waking once per tick for all streams, rather
    than once per frame, means one wait for a CPU and for the GIL per 20 ms however many calls
    listen, and frames of a tick go out back to back in a stable order, so each stream keeps its
    own 20 ms spacing. If the thread could not run for longer than a tick, it catches up (sends
    the missed ticks' frames at once) rather than shifting every stream.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._joined = threading.Condition(self._lock)
        self._streams: list[PacedStream] = []
        self._thread: threading.Thread | None = None
        self.native_id: int | None = None
        self.ticks = 0
        self.sent = 0
        self.dropped = 0
        """Frames the kernel would not take at once (the socket's send buffer full): not sent."""
        self.lateness = [0] * (len(LATENESS_BUCKETS) + 1)
        """Frames by how late their tick began (LATENESS_BUCKETS, then beyond)."""
        self.lateness_sum = 0.0
        self.priority = "normal"
        """What the thread got: "realtime", "nice <n>" or "normal"."""

    def play(self, stream: PacedStream) -> None:
        """Start sending `stream` from the next tick. From the event loop's thread."""
        with self._joined:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
                self._thread.start()
            self._streams.append(stream)
            self._joined.notify()

    def stop(self, stream: PacedStream) -> bool:
        """Stop `stream`; True if it had already played to its end. From the event loop's thread:
        once this returns, the pacer sends nothing more of it, and play()'s future is resolved."""
        with self._lock:
            stream.stopped = True
            played_out = stream.outcome is True
        if not stream.done.done():
            stream.done.set_result(played_out)
        return played_out

    @property
    def streams(self) -> int:
        """Streams playing now."""
        with self._lock:
            return sum(1 for stream in self._streams if not stream.stopped)

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        self.native_id = threading.get_native_id()
        self._claim_priority()
        monotonic, sleep = time.monotonic, time.sleep
        tick = monotonic()
        while True:
            with self._joined:
                if not self._streams:
                    self._joined.wait()
                    tick = monotonic()  # a new clock after an idle spell
            late = monotonic() - tick
            if late < 0:
                sleep(-late)
                late = monotonic() - tick
            self._tick(late)
            tick += FRAME_SECONDS

    def _tick(self, late: float) -> None:
        """One frame of every stream. With the lock taken stream by stream, so the loop can start
        and stop streams in between; it waits at most for one send."""
        with self._lock:
            streams = self._streams = [stream for stream in self._streams if not stream.stopped]
        lock, send, sent = self._lock, self._send, self.sent
        for stream in streams:
            with lock:
                if not stream.stopped and not send(stream):
                    stream.stopped = True
        self.ticks += 1
        frames = self.sent - sent
        self.lateness[bisect.bisect_left(LATENESS_BUCKETS, late)] += frames
        self.lateness_sum += max(late, 0.0) * frames

    def _send(self, stream: PacedStream) -> bool:
        """Send the stream's next frame; False when it has ended (played out, or its socket is
        closed). Runs 50 times a second per stream: keep it short."""
        number, frames = stream.number, stream.frames
        if number >= len(frames) and not stream.repeat:
            self._end(stream, True)  # a tick after its last frame, as a phone plays it
            return False
        second, payload, advance = frames[number % len(frames)]
        if number >= len(frames):
            second &= 0x7F  # a repeat is no new talkspurt: no marker bit
        session = stream.session
        sequence, timestamp = session.sequence, session.timestamp
        sock = session.raw_socket
        if sock is not None:
            error = _send_to(
                stream, sock, _HEADER.pack(0x80, second, sequence, timestamp, session.ssrc) + payload
            )
            if error in (errno.EBADF, errno.ENOTSOCK):  # closed under us: the call is gone
                self._end(stream, False)
                return False
            if error:  # a full send buffer (EAGAIN) or an unreachable network: lost, as on the wire
                self.dropped += 1
        self.sent += 1
        session._relayed_source = None  # the next relayed packet starts a new source again
        session.sent_packets += 1
        session.sent_octets += len(payload)
        session.sequence = (sequence + 1) & 0xFFFF
        session.timestamp = (timestamp + advance) & 0xFFFFFFFF
        stream.number = number + 1
        return True

    def _end(self, stream: PacedStream, outcome: bool) -> None:
        stream.outcome = outcome
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            stream.done.get_loop().call_soon_threadsafe(_resolve, stream.done, outcome)

    def _claim_priority(self) -> None:
        """A CPU as soon as a tick is due: real-time scheduling where allowed, else a lower nice
        value; the process's own priority otherwise. Named, so `top -H` and ps show it."""
        tid = self.native_id
        with contextlib.suppress(OSError):
            Path(f"/proc/self/task/{tid}/comm").write_text(THREAD_NAME)
        if tid is None:
            return
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
            self.priority = "realtime"
            return
        niceness = os.getpriority(os.PRIO_PROCESS, tid) - NICENESS_BOOST
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
            self.priority = f"nice {niceness}"


# ---------------------------------------------------------------- sending without the GIL hand-over
#
# socket.sendto lets go of the GIL around the system call. The loop's thread, waiting for the GIL
# whenever the pacer has it, takes it at once, and the pacer gets it back only after the switch
# interval: every frame would cost a hand-over (0.5 ms at least, several with the loop busy), and
# 50 calls' frames would not fit in a tick. A non-blocking UDP send takes microseconds, so on
# Linux the pacer calls libc's sendto through ctypes.PyDLL, which keeps the GIL for the call.


def _libc_sendto() -> Callable[..., int] | None:
    if sys.platform != "linux":
        return None
    try:
        function = ctypes.PyDLL(None, use_errno=True).sendto
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint32]
    function.restype = ctypes.c_ssize_t
    return cast("Callable[..., int]", function)


_sendto = _libc_sendto()


def _sockaddr(remote: tuple[str, int]) -> bytes:
    """Linux's struct sockaddr_in or sockaddr_in6 for `remote`."""
    host, port = remote
    if ":" in host:
        return struct.pack(
            "=HHI16sI", socket.AF_INET6, socket.htons(port), 0, socket.inet_pton(socket.AF_INET6, host), 0
        )
    return struct.pack("=HH4s8x", socket.AF_INET, socket.htons(port), socket.inet_aton(host))


def _send_to(stream: PacedStream, sock: socket.socket, packet: bytes) -> int:
    """Send `packet` to the stream's session's remote address; 0 or the errno."""
    remote = stream.session.remote
    if _sendto is None:
        try:
            sock.sendto(packet, remote)
        except OSError as exc:
            return exc.errno or errno.EIO
        return 0
    if stream.address is None or stream.address[0] is not remote:  # (it moves when RTP latches)
        stream.address = (remote, _sockaddr(remote))
    address = stream.address[1]
    if _sendto(sock.fileno(), packet, len(packet), 0, address, len(address)) < 0:
        return ctypes.get_errno()
    return 0


def _resolve(future: asyncio.Future[bool], outcome: bool) -> None:
    if not future.done():  # (stopped by the loop meanwhile)
        future.set_result(outcome)


_pacer: MediaPacer | None = None
_creating = threading.Lock()


def media_pacer() -> MediaPacer:
    """The process's pacer (its thread starts with the first stream)."""
    global _pacer
    if _pacer is None:
        with _creating:
            if _pacer is None:
                _pacer = MediaPacer()
    return _pacer


def _forget_in_child() -> None:
    global _pacer
    _pacer = None  # a forked child has the object but not the thread: it makes its own


os.register_at_fork(after_in_child=_forget_in_child)


def prefer_media_timing() -> None:
    """Lower the GIL switch interval to SWITCH_INTERVAL (never raise it): the pacer thread, waking
    for a frame while the event loop's thread runs Python, waits that long for the GIL. The cost
    is some throughput where threads contend (more hand-overs), measured in benchmarks/README.md."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))


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
        if pacer is None:
            return
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
