"""The media pacer's own process: sends every playing stream's frames on a 20 ms tick.

    python -m hotline.voice.rtp.pacer_process FD      # started by hotline.voice.rtp.pacer

One process per node, single-threaded, with nothing else to do: it sleeps in select() until the
next tick or a message from the node, and at each tick sends one frame of every stream, back to
back in a stable order. It shares no GIL with the node, so a busy event loop, or a node thread
that holds the GIL while it waits for a CPU, cannot make a frame late; where it may, it runs at a
real-time priority (SCHED_FIFO), so a busy machine cannot either (docs/decisions/0004).

The node talks to it over a Unix SOCK_SEQPACKET socket (FD), one pickled tuple per message (both
ends are Hotline's own, over a private socket pair):

- ("play", id, ssrc, sequence, timestamp, remote, repeat, srtp), with two descriptors: the
  session's RTP socket (the frames leave from the call's own port, as symmetric RTP needs) and a
  memfd holding the pickled frames (`pacer.Frame`: header byte, payload, timestamp step). `srtp`
  is None, or (libsrtp profile, master key + salt) for a WebRTC leg: the frames are SRTP-protected
  here, under the stream's own SSRC, which no other sender of that key ever uses
  (docs/decisions/0007).
- ("stop", id), ("move", id, remote) when RTP latches to where the phone really is, and
  ("reset",): every stream ends (the node's event loop was replaced, in tests).

and it answers:

- ("ended", id, played_out, sequence, timestamp, sent, octets) when a stream played out or was
  stopped: the numbering goes back to the session;
- ("figures", sent, dropped, lateness, lateness_sum, progress) about once a second, progress being
  (id, sequence, timestamp, sent, octets) of each playing stream.

It exits when the node closes its end (the node stopped or died).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import pickle
import select
import signal
import socket
import struct
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FRAME_SECONDS = 0.020
PROCESS_NAME = "hotline-pacer"  # what ps and top show
REALTIME_PRIORITY = 10
"""SCHED_FIFO priority where the process may set it (1–99; low, so the kernel's own real-time
threads and a media server's, if any, keep precedence). Elsewhere: NICENESS_BOOST."""
NICENESS_BOOST = 10
LATENESS_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
FIGURES_EVERY = 1.0
_HEADER = struct.Struct("!BBHII")


@dataclass(eq=False)
class _Stream:
    id: int
    sock: socket.socket | None
    """None for a session without a socket yet: paced all the same, nothing sent."""
    frames: list[tuple[int, bytes, int]]
    ssrc: int
    sequence: int
    timestamp: int
    remote: tuple[str, int]
    repeat: bool
    srtp: Any = None
    """A pylibsrtp.Session protecting this stream's packets (a WebRTC leg), or None."""
    number: int = 0
    sent: int = 0
    octets: int = 0


@dataclass
class Pacer:
    control: socket.socket
    streams: dict[int, _Stream] = field(default_factory=dict)  # in arrival order: a stable send order
    sent: int = 0
    dropped: int = 0
    lateness: list[int] = field(default_factory=lambda: [0] * (len(LATENESS_BUCKETS) + 1))
    lateness_sum: float = 0.0
    priority: str = "normal"
    outbox: deque[bytes] = field(default_factory=deque)
    """Messages the node's end could not take yet (it is busy): sent in order, none lost."""

    def serve(self) -> None:
        tick = time.monotonic()
        figures_due = tick + FIGURES_EVERY
        while True:
            wait = None if not self.streams else max(0.0, tick - time.monotonic())
            writing = [self.control] if self.outbox else []
            readable, writable, _ = select.select([self.control], writing, [], wait)
            if writable:
                self.flush()
            if readable:
                idle = not self.streams
                if not self.read():
                    return
                if idle and self.streams:
                    tick = time.monotonic()  # a new clock after an idle spell: the first frame now
                continue
            now = time.monotonic()
            if self.streams and now >= tick:
                self.tick(now - tick)
                tick += FRAME_SECONDS
            if now >= figures_due and not self.outbox:
                figures_due = now + FIGURES_EVERY
                self.tell(
                    ("figures", self.sent, self.dropped, self.lateness, self.lateness_sum, self.progress())
                )

    def read(self) -> bool:
        """Every message waiting; False once the node has gone."""
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.control, 65536, 2)
            except BlockingIOError:
                return True
            if not data:
                return False
            message = pickle.loads(data)  # noqa: S301 - from the node that started us, over a socketpair
            if message[0] == "play":
                self.play(message, fds)
            elif message[0] == "stop":
                stream = self.streams.pop(message[1], None)
                if stream is not None:
                    self.end(stream, False)
            elif message[0] == "reset":  # the node's event loop changed: its streams are over
                for stream in list(self.streams.values()):
                    self.end(stream, False)
                self.streams.clear()
            elif message[0] == "move" and message[1] in self.streams:
                self.streams[message[1]].remote = message[2]

    def play(self, message: tuple[Any, ...], fds: list[int]) -> None:
        _, stream_id, ssrc, sequence, timestamp, remote, repeat, srtp = message
        *rtp, frames_fd = fds
        with os.fdopen(frames_fd, "rb") as frames_file:
            frames = pickle.load(frames_file)  # noqa: S301 - written by the node for us
        sock = socket.socket(fileno=rtp[0]) if rtp else None
        if sock is not None:
            sock.setblocking(False)
        protection = None
        if srtp is not None:  # imported only by nodes with browser legs
            import pylibsrtp

            profile, key = srtp
            policy = pylibsrtp.Policy(
                key=key, ssrc_type=pylibsrtp.Policy.SSRC_SPECIFIC, ssrc_value=ssrc, srtp_profile=profile
            )
            protection = pylibsrtp.Session(policy)
        self.streams[stream_id] = _Stream(
            stream_id, sock, frames, ssrc, sequence, timestamp, remote, repeat, protection
        )

    def tick(self, late: float) -> None:
        """One frame of every stream."""
        sent, ended = self.sent, []
        for stream in self.streams.values():
            if not self.send(stream):
                ended.append(stream)
        for stream in ended:
            del self.streams[stream.id]
            self.end(stream, stream.number >= len(stream.frames))
        frames = self.sent - sent
        self.lateness[bisect.bisect_left(LATENESS_BUCKETS, late)] += frames
        self.lateness_sum += max(late, 0.0) * frames

    def send(self, stream: _Stream) -> bool:
        number, frames = stream.number, stream.frames
        if number >= len(frames) and not stream.repeat:
            return False  # played out, a tick after its last frame
        second, payload, advance = frames[number % len(frames)]
        if number >= len(frames):
            second &= 0x7F  # a repeat is no new talkspurt: no marker bit
        packet = _HEADER.pack(0x80, second, stream.sequence, stream.timestamp, stream.ssrc) + payload
        if stream.srtp is not None:
            packet = stream.srtp.protect(packet)
        try:
            if stream.sock is not None:
                stream.sock.sendto(packet, stream.remote)
        except OSError:  # the send buffer is full, or no route for now: lost, as on the wire
            self.dropped += 1
        self.sent += 1
        stream.sent += 1
        stream.octets += len(payload)
        stream.sequence = (stream.sequence + 1) & 0xFFFF
        stream.timestamp = (stream.timestamp + advance) & 0xFFFFFFFF
        stream.number = number + 1
        return True

    def end(self, stream: _Stream, played_out: bool) -> None:
        if stream.sock is not None:
            stream.sock.close()  # our copy; the session keeps its own
        state = (stream.sequence, stream.timestamp, stream.sent, stream.octets)
        self.tell(("ended", stream.id, played_out, *state))

    def progress(self) -> list[tuple[int, int, int, int, int]]:
        return [(s.id, s.sequence, s.timestamp, s.sent, s.octets) for s in self.streams.values()]

    def tell(self, message: tuple[Any, ...]) -> None:
        self.outbox.append(pickle.dumps(message))
        self.flush()

    def flush(self) -> None:
        while self.outbox:
            try:
                self.control.send(self.outbox[0])
            except BlockingIOError:
                return
            except OSError:  # the node has gone; serve() sees it on the next read
                self.outbox.clear()
                return
            self.outbox.popleft()

    def claim_priority(self) -> None:
        with contextlib.suppress(OSError):
            Path("/proc/self/comm").write_text(PROCESS_NAME)
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
            self.priority = "realtime"
            return
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) - NICENESS_BOOST)
            self.priority = "nice"


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the node, whose end then closes
    control = socket.socket(fileno=int(sys.argv[1]))
    control.setblocking(False)
    pacer = Pacer(control)
    pacer.claim_priority()
    pacer.tell(("started", os.getpid(), pacer.priority))
    pacer.serve()


if __name__ == "__main__":
    main()
