"""WebRTC legs: the engine's CPU per relayed packet for calls with a browser leg (ICE-lite,
DTLS-SRTP, rtcp-mux) against plain RTP calls, in the same run (issue 23; floor ≤ 2×).

    uv run python benchmarks/webrtc.py --calls 200 --seconds 60 --runs 3
    uv run python benchmarks/webrtc.py --calls 10 --seconds 5 --runs 1        # smoke

Three processes on loopback, measured the way `voice.py bridge` is:

- **the engine**: a `SipServer` with the built-in engine and nothing else (uvloop, as `hotline
  serve` runs it), pinned to CPU 0 with `taskset`. Every call that comes in on DID 5000 is
  answered and bridged to a call the engine places on the trunk "far" (raw relay, no recording
  unless `--record`). It counts the packets it relayed, and writes its counters when signalled.
- **the load generator**, pinned to CPU 1: a light browser and phone written here, not aiortc
  (aiortc would decode and encode every frame: it would cost far more than the engine measured).
  It places `--calls` **browser calls** (a WebRTC offer: UDP/TLS/RTP/SAVPF, ICE credentials,
  a certificate fingerprint, rtcp-mux; then a STUN binding request with USE-CANDIDATE and
  MESSAGE-INTEGRITY, a DTLS client handshake with pyOpenSSL on memory BIOs, SRTP from the
  exported keys with pylibsrtp, as a browser does) and `--calls` **plain calls** (RTP/AVP), and
  answers every call the engine places to the far trunk as a plain RTP desk phone or trunk. All
  calls stay up for the whole run. Each leg sends one 20 ms PCMU packet every 20 ms (spread over
  the 20 ms in ten groups, not a burst), and counts what it receives (a browser leg unprotects
  every packet: what the engine sent must be valid SRTP).
- this **orchestrator**, which alternates phases in the one run: all plain calls stream while
  the browser calls are silent, then the other way round, `--runs` rounds of both in ABBA order
  (plain, browser, browser, plain, …) so a drift of the shared machine does not favour one kind.

In each phase the engine's CPU time is read from /proc/<pid>/stat over a window of `--seconds`
that starts `--settle` seconds after the media starts, and divided by the packets it relayed in
that window (its own counters). Every leg exists in both phases (only the media differs), so
RTCP reports and timers are the same background in both. Loss is counted per phase, from the
first packet to the drain after the last: sent by the generator, relayed by the engine,
received back by the generator; the kernel's UDP receive-buffer drops come from /proc/net/snmp.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import secrets
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from voice import cpu_times, free_port  # noqa: E402 - the bridge benchmark's, measured the same way

KINDS = ("plain", "webrtc")
GROUPS = 10
"""The generator's legs are spread over ten groups, one sent every 2 ms, each leg every 20 ms."""


# ---------------------------------------------------------------- the engine process


def serve(port: int, far_port: int, stats_path: Path, record_to: Path | None, use_uvloop: bool) -> None:
    from hotline.voice.control import Leg
    from hotline.voice.rtp.webrtc import WebRtcSession
    from hotline.voice.sip.server import SipServer
    from hotline.voice.sip.trunk import Trunk

    counts = {"answered": 0, "failed": 0, "bridged": 0}

    async def application(leg: Leg) -> None:
        await leg.answer()
        counts["answered"] += 1
        try:
            far = await server.engine.originate("7000", ring_for=10)
        except Exception:
            counts["failed"] += 1
            raise
        bridge = server.engine.bridge(
            leg, far, record_to=record_to / str(counts["answered"]) if record_to else None
        )
        counts["bridged"] += 1
        try:
            await bridge.wait()
        finally:
            await bridge.stop()
            await far.hang_up()

    trunks = [
        Trunk("load", "127.0.0.1", dids={"5000": "bridge"}, outbound=False),
        Trunk("far", "127.0.0.1", port=far_port, dids={}, outbound=True),
    ]
    server = SipServer(
        "127.0.0.1", port, "hotline", {}, trunks=trunks, application=application, max_calls=5000
    )
    sequence = [0]

    def write_stats() -> None:
        """Counters of every leg, by the kind of its RTP session (sent = relayed: nothing else
        is sent in this benchmark but RTCP, which is not counted here)."""
        stats: dict[str, Any] = {"seq": sequence[0], **counts}
        for kind in KINDS:
            stats[kind] = {"legs": 0, "secured": 0, "sent": 0, "received": 0, "rejected": 0}
        for leg in list(server.engine.legs.values()):
            rtp = leg.rtp
            webrtc = isinstance(rtp, WebRtcSession)
            row = stats["webrtc" if webrtc else "plain"]
            row["legs"] += 1
            row["sent"] += rtp.sent_packets
            row["received"] += rtp.received_packets
            if webrtc:
                row["rejected"] += rtp.rejected_packets
                row["secured"] += rtp.secured.is_set()
        stats["relayed"] = stats["plain"]["sent"] + stats["webrtc"]["sent"]
        sequence[0] += 1
        temporary = stats_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(stats))
        temporary.replace(stats_path)

    async def main() -> None:
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGUSR1, write_stats)  # a snapshot, written at once
        write_stats()
        await stop.wait()
        await server.stop()

    if use_uvloop:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


# ---------------------------------------------------------------- the load generator process

_RTP = struct.Struct("!BBHII")
PAYLOAD = b"\x7f\xff" * 80  # 160 bytes of μ-law: never decoded by the relay


class GenLeg(asyncio.DatagramProtocol):
    """One leg of the generator: a browser (SRTP after ICE and DTLS) or a phone (plain RTP)."""

    def __init__(self, kind: str, browser: bool) -> None:
        self.kind, self.browser = kind, browser
        self.sock: socket.socket | None = None
        self.rtcp_sock: socket.socket | None = None
        self.remote: tuple[str, int] = ("127.0.0.1", 9)
        self.ssrc, self.seq, self.ts = secrets.randbits(32), secrets.randbits(16), secrets.randbits(32)
        self.protect: Any = None
        self.unprotect: Any = None
        self.unprotect_rtcp: Any = None
        self.sent = self.received = self.bad = self.rtcp = self.send_errors = 0
        self.handshake: asyncio.Queue[bytes] | None = asyncio.Queue() if browser else None
        self.stun_answered = asyncio.Event()

    async def open(self, low: int, high: int) -> None:
        from hotline.voice.rtp.session import allocate_port

        rtp, rtcp = allocate_port("127.0.0.1", low, high)
        if self.browser:
            rtcp.close()  # rtcp-mux
        self.sock = rtp
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, sock=rtp)
        if not self.browser:  # the engine's RTCP reports: read and counted, never left to pile up
            self.rtcp_sock = rtcp
            await loop.create_datagram_endpoint(lambda: _Callback(self.rtcp_received), sock=rtcp)

    def rtcp_received(self, data: bytes, addr: Any) -> None:
        self.rtcp += 1

    @property
    def port(self) -> int:
        assert self.sock is not None
        return int(self.sock.getsockname()[1])

    def datagram_received(self, data: bytes, addr: Any) -> None:
        first = data[0] if data else 0
        if 127 < first < 192:
            unprotect = self.unprotect
            if unprotect is None:
                if self.browser:
                    return  # SRTP before our keys: cannot happen (the engine waits for its own)
                self.received += 1
                return
            try:
                if 191 < data[1] < 224:
                    self.unprotect_rtcp(data)
                    self.rtcp += 1
                    return
                unprotect(data)
            except Exception:  # pylibsrtp.Error: authentication or replay check failed
                self.bad += 1
                return
            self.received += 1
        elif first < 4:
            self.stun_answered.set()
        elif 19 < first < 64 and self.handshake is not None:
            self.handshake.put_nowait(bytes(data))

    def send(self) -> None:
        packet = _RTP.pack(0x80, 0, self.seq, self.ts, self.ssrc) + PAYLOAD
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = (self.ts + 160) & 0xFFFFFFFF
        if self.protect is not None:
            packet = self.protect(packet)
        try:
            self.sock.sendto(packet, self.remote)  # type: ignore[union-attr]
        except OSError:
            self.send_errors += 1
            return
        self.sent += 1

    def close(self) -> None:
        for sock in (self.sock, self.rtcp_sock):
            if sock is not None:
                sock.close()


def client_context(profiles: bytes) -> tuple[Any, str]:
    """A browser's DTLS context: a fresh self-signed ECDSA P-256 certificate (as browsers make)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from OpenSSL import SSL

    from hotline.voice.rtp.dtls import fingerprint_of

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "bench-browser")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256())
    )  # fmt: skip
    context = SSL.Context(SSL.DTLS_METHOD)
    context.use_certificate(certificate)
    context.use_privatekey(key)
    context.set_verify(SSL.VERIFY_PEER, lambda *_: True)  # checked against the SDP's fingerprint
    context.set_tlsext_use_srtp(profiles)
    return context, fingerprint_of(certificate, "sha-256")


class Generator:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.engine = ("127.0.0.1", args.port)
        self.legs: dict[str, list[GenLeg]] = {kind: [] for kind in KINDS}
        self.active: list[list[GenLeg]] = [[] for _ in range(GROUPS)]
        self.phase: str | None = None
        self.batch = "plain"  # the kind of calls being placed: far legs take it
        self.pending: dict[str, asyncio.Future[Any]] = {}
        self.acks: dict[str, bytes] = {}
        self.far_answers: dict[str, bytes] = {}
        self.failures: list[str] = []
        self.late_max = 0.0
        self.behind = self.skipped = 0  # (pump)
        self.uac: asyncio.DatagramTransport | None = None
        self.uas: asyncio.DatagramTransport | None = None
        profiles = {"gcm": b"SRTP_AEAD_AES_128_GCM", "cm": b"SRTP_AES128_CM_SHA1_80"}
        self.dtls, self.fingerprint = client_context(
            b":".join(profiles[name] for name in args.profiles.split(","))
        )
        self.profiles_seen: dict[str, int] = {}
        self.pending_provisional: set[str] = set()
        self.tasks: set[asyncio.Future[None]] = set()

    # ------------------------------------------------------------ SIP (a UAC and a UAS)

    def uac_received(self, data: bytes, addr: Any) -> None:
        from hotline.voice.sip.message import SipResponse, parse

        message = parse(data)
        if not isinstance(message, SipResponse):
            return
        if message.status == 200 and message.call_id in self.acks:
            self.uac.sendto(self.acks[message.call_id], addr)  # type: ignore[union-attr]
            return
        future = self.pending.get(message.call_id)
        if future is not None and not future.done() and message.status >= 200:
            future.set_result(message)
        elif future is not None and message.status < 200 and not future.done():
            self.pending_provisional.add(message.call_id)

    def uas_received(self, data: bytes, addr: Any) -> None:
        from hotline.voice.sip.message import SipRequest, parse, response_to

        message = parse(data)
        if not isinstance(message, SipRequest):
            return
        if message.method == "INVITE":
            if message.call_id in self.far_answers:
                self.uas.sendto(self.far_answers[message.call_id], addr)  # type: ignore[union-attr]
                return
            self.far_answers[message.call_id] = b""
            task = asyncio.ensure_future(self._answer_far(message, addr))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif message.method in ("BYE", "CANCEL", "OPTIONS"):
            self.uas.sendto(bytes(response_to(message, 200, "OK", to_tag="far")), addr)  # type: ignore[union-attr]

    async def _answer_far(self, invite: Any, addr: Any) -> None:
        from hotline.voice.sdp import SessionDescription
        from hotline.voice.sip.message import response_to

        leg = GenLeg(self.batch, browser=False)
        await leg.open(40000, 50000)
        offer = SessionDescription.parse(invite.body)
        leg.remote = (offer.audio.address or offer.address, offer.audio.port)
        response = response_to(invite, 200, "OK", to_tag=secrets.token_hex(4))
        response.headers.add("Contact", f"<sip:7000@127.0.0.1:{self.args.far_port}>")
        response.headers.add("Content-Type", "application/sdp")
        response.body = plain_sdp(leg.port).encode()
        self.far_answers[invite.call_id] = bytes(response)
        self.legs[leg.kind].append(leg)
        self.uas.sendto(self.far_answers[invite.call_id], addr)  # type: ignore[union-attr]

    async def place(self, browser: bool) -> None:
        from hotline.voice.sdp import SessionDescription
        from hotline.voice.sip.message import SipRequest

        kind = "webrtc" if browser else "plain"
        leg = GenLeg(kind, browser)
        await leg.open(40000, 50000)
        ufrag, pwd = secrets.token_hex(4), secrets.token_hex(12)
        body = webrtc_sdp(leg.port, ufrag, pwd, self.fingerprint) if browser else plain_sdp(leg.port)
        call_id, tag = secrets.token_hex(10), secrets.token_hex(4)
        uac_port = self.uac.get_extra_info("sockname")[1]  # type: ignore[union-attr]
        target = f"sip:5000@127.0.0.1:{self.args.port}"

        def request(method: str, cseq: int, to: str) -> SipRequest:
            message = SipRequest(method=method, uri=target)
            message.headers.add(
                "Via", f"SIP/2.0/UDP 127.0.0.1:{uac_port};branch=z9hG4bK{secrets.token_hex(6)};rport"
            )
            message.headers.add("Max-Forwards", "70")
            message.headers.add("From", f"<sip:bench@127.0.0.1>;tag={tag}")
            message.headers.add("To", to)
            message.headers.add("Call-ID", call_id)
            message.headers.add("CSeq", f"{cseq} {method}")
            message.headers.add("Contact", f"<sip:bench@127.0.0.1:{uac_port}>")
            return message

        invite = request("INVITE", 1, "<sip:5000@127.0.0.1>")
        invite.headers.add("Content-Type", "application/sdp")
        invite.body = body.encode()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[call_id] = future
        data, delay, waited = bytes(invite), 0.5, 0.0
        self.uac.sendto(data, self.engine)  # type: ignore[union-attr]
        while not future.done() and waited < 32:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(future), delay)
            waited += delay
            if not future.done() and call_id not in self.pending_provisional:
                self.uac.sendto(data, self.engine)  # type: ignore[union-attr]
            delay = min(delay * 2, 4)
        del self.pending[call_id]
        if not future.done() or future.result().status != 200:
            self.failures.append(f"{kind}: {future.result().status if future.done() else 'timeout'}")
            leg.close()
            return
        ok = future.result()
        ack = request("ACK", 1, ok.headers.get("To"))
        self.acks[call_id] = bytes(ack)
        self.uac.sendto(self.acks[call_id], self.engine)  # type: ignore[union-attr]
        answer = SessionDescription.parse(ok.body)
        media = answer.audio
        leg.remote = (media.address or answer.address, media.port)
        if browser:
            try:
                await asyncio.wait_for(self.secure(leg, media, ufrag), 15)
            except Exception as exc:  # counted and reported
                self.failures.append(f"webrtc: {type(exc).__name__}: {exc}")
                return
        self.legs[kind].append(leg)

    # ------------------------------------------------------------ ICE and DTLS, as a browser

    async def secure(self, leg: GenLeg, media: Any, ufrag: str) -> None:
        import pylibsrtp
        from OpenSSL import SSL

        from hotline.voice.rtp.dtls import PROFILES, fingerprint_of
        from hotline.voice.rtp.stun import (
            BINDING_REQUEST,
            ICE_CONTROLLING,
            PRIORITY,
            USE_CANDIDATE,
            USERNAME,
            StunMessage,
        )  # fmt: skip

        assert leg.sock is not None and leg.handshake is not None
        candidate = media.candidates[0]
        leg.remote = (candidate.address, candidate.port)
        check = StunMessage(
            BINDING_REQUEST,
            secrets.token_bytes(12),
            [
                (USERNAME, f"{media.ice_ufrag}:{ufrag}".encode()),
                (PRIORITY, struct.pack("!I", 1853824767)),
                (ICE_CONTROLLING, secrets.token_bytes(8)),
                (USE_CANDIDATE, b""),
            ],
        ).encode(integrity_key=media.ice_pwd.encode())
        for _ in range(50):  # (RFC 8445 paces checks; on loopback the first one is answered)
            leg.sock.sendto(check, leg.remote)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(leg.stun_answered.wait(), 0.2)
                break
        if not leg.stun_answered.is_set():
            raise RuntimeError("no answer to the connectivity check")
        connection = SSL.Connection(self.dtls, None)
        connection.set_connect_state()

        def flush() -> None:
            while True:
                try:
                    record = connection.bio_read(1500)
                except SSL.WantReadError:
                    return
                if not record:
                    return
                leg.sock.sendto(record, leg.remote)  # type: ignore[union-attr]

        def advance() -> bool:
            try:
                connection.do_handshake()
            except SSL.WantReadError:
                return False
            return True

        done = advance()
        flush()
        while not done:
            timeout = connection.DTLSv1_get_timeout() or 1.0
            try:
                record = await asyncio.wait_for(leg.handshake.get(), timeout)
            except TimeoutError:
                connection.DTLSv1_handle_timeout()
                flush()
                continue
            connection.bio_write(record)
            done = advance()
            flush()
        server_certificate = connection.get_peer_certificate(as_cryptography=True)
        algorithm, value = media.fingerprints[0]
        if server_certificate is None or fingerprint_of(server_certificate, algorithm) != value.upper():
            raise RuntimeError("the engine's certificate does not match its SDP's fingerprint")
        chosen = connection.get_selected_srtp_profile()
        profile = next(p for p in PROFILES if p.openssl_name == chosen)
        self.profiles_seen[chosen.decode()] = self.profiles_seen.get(chosen.decode(), 0) + 1
        k, s = profile.key_length, profile.salt_length
        material = connection.export_keying_material(b"EXTRACTOR-dtls_srtp", 2 * (k + s))
        client_key, server_key = material[:k], material[k : 2 * k]
        client_salt, server_salt = material[2 * k : 2 * k + s], material[2 * k + s :]
        # the browser is the DTLS client: it sends with the client's key, receives with the server's
        outbound = pylibsrtp.Session(
            pylibsrtp.Policy(key=client_key + client_salt, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
                             srtp_profile=profile.libsrtp)
        )  # fmt: skip
        inbound_policy = pylibsrtp.Policy(
            key=server_key + server_salt, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND,
            srtp_profile=profile.libsrtp,
        )  # fmt: skip
        inbound_policy.window_size = 1024
        inbound = pylibsrtp.Session(inbound_policy)
        leg.protect = outbound.protect
        leg.unprotect, leg.unprotect_rtcp = inbound.unprotect, inbound.unprotect_rtcp
        leg.handshake = None

    # ------------------------------------------------------------ media and control

    async def pump(self) -> None:
        """Send every active leg's packet every 20 ms: group g of ten at 2 ms × g into the frame.
        When the generator was kept off its CPU for more than a group's turn, the groups it missed
        are skipped, not sent at once: a burst of catch-up packets would let the engine relay them
        in batches, cheaper per packet than the steady traffic of independent phones and browsers
        (`skipped` counts them, `behind` how often, `late_max` the longest delay)."""
        loop = asyncio.get_running_loop()
        step = 0.020 / GROUPS
        start, tick = loop.time(), 0
        while True:
            tick += 1
            delay = start + tick * step - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif -delay > step:
                missed = int(-delay / step)
                self.behind += 1
                self.late_max = max(self.late_max, -delay)
                self.skipped += sum(len(self.active[(tick + i) % GROUPS]) for i in range(missed))
                tick += missed
            for leg in self.active[tick % GROUPS]:
                leg.send()

    def totals(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for kind in KINDS:
            legs = self.legs[kind]
            result[kind] = {
                "legs": len(legs),
                "browser_legs": sum(leg.browser for leg in legs),
                "sent": sum(leg.sent for leg in legs),
                "received": sum(leg.received for leg in legs),
                "bad": sum(leg.bad for leg in legs),
                "rtcp": sum(leg.rtcp for leg in legs),
                "send_errors": sum(leg.send_errors for leg in legs),
            }
        result |= {"late_max_ms": self.late_max * 1000, "behind": self.behind, "skipped": self.skipped,
                   "phase": self.phase}  # fmt: skip
        return result

    def command(self, line: str) -> dict[str, Any]:
        words = line.split()
        if words[:1] == ["start"]:
            self.phase = words[1]
            self.active = [[] for _ in range(GROUPS)]
            for index, leg in enumerate(self.legs[self.phase]):
                self.active[index % GROUPS].append(leg)
            self.late_max, self.behind, self.skipped = 0.0, 0, 0
        elif words[:1] == ["stop"]:
            self.phase = None
            self.active = [[] for _ in range(GROUPS)]
        return self.totals()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.uac, _ = await loop.create_datagram_endpoint(
            lambda: _Callback(self.uac_received), local_addr=("127.0.0.1", 0)
        )
        self.uas, _ = await loop.create_datagram_endpoint(
            lambda: _Callback(self.uas_received), local_addr=("127.0.0.1", self.args.far_port)
        )
        started = time.monotonic()
        limit = asyncio.Semaphore(self.args.setup_concurrency)

        async def one(browser: bool) -> None:
            async with limit:
                await self.place(browser)

        for kind in KINDS:  # one kind at a time: the far legs answered meanwhile are of that kind
            self.batch = kind
            await asyncio.gather(*(one(kind == "webrtc") for _ in range(self.args.calls)))
            for _ in range(100):  # the engine places the far call after answering ours
                if len(self.legs[kind]) >= 2 * self.args.calls - sum(
                    f.startswith(kind) for f in self.failures
                ):
                    break
                await asyncio.sleep(0.1)
        ready = self.totals() | {
            "setup_seconds": time.monotonic() - started,
            "failures": self.failures[:10],
            "failed": len(self.failures),
            "srtp_profiles": self.profiles_seen,
        }
        print(json.dumps(ready), flush=True)
        pump = asyncio.ensure_future(self.pump())
        lines: asyncio.Queue[str] = asyncio.Queue()

        def reader() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, "quit")

        threading.Thread(target=reader, daemon=True).start()
        while True:
            line = (await lines.get()).strip()
            if line == "quit":
                break
            print(json.dumps(self.command(line)), flush=True)
        pump.cancel()


class _Callback(asyncio.DatagramProtocol):
    def __init__(self, callback: Any) -> None:
        self.callback = callback

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.callback(data, addr)


def plain_sdp(port: int) -> str:
    return (
        f"v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
    )


def webrtc_sdp(port: int, ufrag: str, pwd: str, fingerprint: str) -> str:
    """A browser's offer, trimmed to what matters here (Chrome's shape: opus first, G.711 too)."""
    return (
        f"v=0\r\no=- {secrets.randbits(62)} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        f"m=audio {port} UDP/TLS/RTP/SAVPF 111 0 8 126\r\nc=IN IP4 127.0.0.1\r\n"
        f"a=candidate:1 1 udp 2122260223 127.0.0.1 {port} typ host generation 0\r\n"
        f"a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\na=fingerprint:sha-256 {fingerprint}\r\n"
        "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
        "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:126 telephone-event/8000\r\n"
    )


def generate(args: argparse.Namespace) -> None:
    import uvloop

    uvloop.run(Generator(args).run())


# ---------------------------------------------------------------- the orchestrator


def schedstat(pid: int) -> tuple[float, float]:
    """Seconds the process's main thread (the event loop) ran on a CPU, and waited for one."""
    ran, waited, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
    return int(ran) / 1e9, int(waited) / 1e9


def udp_errors() -> dict[str, int]:
    text = Path("/proc/net/snmp").read_text()
    lines = [line.split() for line in text.splitlines() if line.startswith("Udp:")]
    return {name: int(value) for name, value in zip(lines[0][1:], lines[1][1:], strict=True)}


def socket_drops(pid: int) -> int:
    """Datagrams the kernel dropped on the sockets of one process (a full receive buffer): the
    last column of /proc/net/udp, for the socket inodes among the process's open files."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    total = 0
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[9] in inodes:
            total += int(fields[-1])
    return total


class Orchestra:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="hotline-bench-webrtc-"))
        self.stats_path = self.work / "stats.json"
        self.port, self.far_port = free_port(), free_port()
        env = {**os.environ, "HOTLINE_LOG_LEVEL": "WARNING"}
        command = [sys.executable, __file__, "serve", "--port", str(self.port), "--far-port",
                   str(self.far_port), "--stats", str(self.stats_path)]  # fmt: skip
        if args.record:
            command += ["--record-to", str(self.work / "rec")]
        if args.no_uvloop:
            command.append("--no-uvloop")
        self.engine = subprocess.Popen(["taskset", "-c", "0", *command], env=env)
        self.generator: subprocess.Popen[str] | None = None

    def engine_stats(self) -> dict[str, Any]:
        """Ask the engine for a snapshot (SIGUSR1) and wait until the new one is written."""
        previous = self._read().get("seq", -1)
        self.engine.send_signal(signal.SIGUSR1)
        for _ in range(2000):
            stats = self._read()
            if stats.get("seq", -1) != previous:
                return stats
            time.sleep(0.002)
        raise RuntimeError("the engine did not write its counters")

    def _read(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.stats_path.read_text()))
        except (OSError, json.JSONDecodeError):
            return {}

    def tell(self, line: str) -> dict[str, Any]:
        assert self.generator is not None and self.generator.stdin and self.generator.stdout
        self.generator.stdin.write(line + "\n")
        self.generator.stdin.flush()
        return dict(json.loads(self.generator.stdout.readline()))

    def settled(self, kind: str) -> dict[str, Any]:
        """Counters once nothing is left in flight: on a loaded machine the engine and the
        generator may still be reading packets queued in their sockets seconds after the last
        was sent, which would look like loss. Read until two readings 0.5 s apart agree."""
        previous: tuple[int, int] | None = None
        for _ in range(40):
            end = self.tell("stats") | {"engine": self.engine_stats()}
            now = (end["engine"]["relayed"], end[kind]["received"])
            if now == previous:
                break
            previous = now
            time.sleep(0.5)
        return end | {"udp": udp_errors(), "drops": self.drops()}

    def drops(self) -> tuple[int, int]:
        assert self.generator is not None
        return socket_drops(self.engine.pid), socket_drops(self.generator.pid)

    def snapshot(self) -> dict[str, Any]:
        assert self.generator is not None
        engine = self.engine_stats()
        return {
            "t": time.monotonic(), "engine": engine, "engine_cpu": cpu_times(self.engine.pid),
            "generator": self.tell("stats"), "generator_cpu": cpu_times(self.generator.pid),
            "engine_sched": schedstat(self.engine.pid), "generator_sched": schedstat(self.generator.pid),
            "udp": udp_errors(), "load": os.getloadavg()[0],
        }  # fmt: skip

    def start(self) -> dict[str, Any]:
        for _ in range(100):
            if self._read():
                break
            time.sleep(0.1)
        command = [sys.executable, __file__, "generate", "--port", str(self.port), "--far-port",
                   str(self.far_port), "--calls", str(self.args.calls), "--profiles", self.args.profiles,
                   "--setup-concurrency", str(self.args.setup_concurrency)]  # fmt: skip
        self.generator = subprocess.Popen(
            ["taskset", "-c", "1", *command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.generator.stdout is not None
        ready = dict(json.loads(self.generator.stdout.readline()))
        return ready | {"engine": self.engine_stats()}

    def phase(self, kind: str) -> dict[str, Any]:
        args = self.args
        assert self.generator is not None
        begin = {"engine": self.engine_stats(), "udp": udp_errors(), "drops": self.drops()}
        begin |= self.tell(f"start {kind}")  # (the engine's counters first: nothing flows yet)
        time.sleep(args.settle)
        a = self.snapshot()
        time.sleep(args.seconds)
        b = self.snapshot()
        end_send = self.tell("stop")
        time.sleep(args.drain)
        end = self.settled(kind)
        window = b["t"] - a["t"]
        relayed = b["engine"]["relayed"] - a["engine"]["relayed"]
        engine_user = b["engine_cpu"][0] - a["engine_cpu"][0]
        engine_cpu = sum(b["engine_cpu"]) - sum(a["engine_cpu"])
        generator_cpu = sum(b["generator_cpu"]) - sum(a["generator_cpu"])
        sent_window = b["generator"][kind]["sent"] - a["generator"][kind]["sent"]
        # the whole phase, from the first packet to the drain: what was lost where
        sent = end_send[kind]["sent"] - begin[kind]["sent"]
        relayed_phase = end["engine"]["relayed"] - begin["engine"]["relayed"]
        received = end[kind]["received"] - begin[kind]["received"]
        rejected = end["engine"]["webrtc"]["rejected"] - begin["engine"]["webrtc"]["rejected"]
        nominal = end[kind]["legs"] * 50  # each leg 50 packets a second
        return {
            "kind": kind,
            "window_s": round(window, 2),
            "us_per_packet": round(engine_cpu / relayed * 1e6, 2) if relayed else None,
            "user_us_per_packet": round(engine_user / relayed * 1e6, 2) if relayed else None,
            "engine_cpu_share": round(engine_cpu / window, 3),
            "relayed_per_s": round(relayed / window),
            "generator_sent_per_s": round(sent_window / window),
            "nominal_per_s": nominal,
            "generator_cpu_share": round(generator_cpu / window, 3),
            "generator_us_per_packet_sent": round(generator_cpu / max(sent_window, 1) * 1e6, 2),
            "sent": sent,
            "relayed": relayed_phase,
            "received": received,
            "lost_to_engine": sent - relayed_phase,
            "lost_back": relayed_phase - received,
            "srtp_rejected_by_engine": rejected,
            "srtp_bad_at_generator": end[kind]["bad"] - begin[kind]["bad"],
            "udp_rcvbuf_errors": end["udp"].get("RcvbufErrors", 0) - begin["udp"].get("RcvbufErrors", 0),
            "engine_socket_drops": end["drops"][0] - begin["drops"][0],
            "generator_socket_drops": end["drops"][1] - begin["drops"][1],
            "engine_waited_share": round((b["engine_sched"][1] - a["engine_sched"][1]) / window, 3),
            "generator_waited_share": round((b["generator_sched"][1] - a["generator_sched"][1]) / window, 3),
            "generator_skipped": b["generator"]["skipped"],
            "generator_behind": b["generator"]["behind"],
            "generator_late_max_ms": round(b["generator"]["late_max_ms"], 1),
            "load": [round(a["load"], 2), round(b["load"], 2)],
        }

    def stop(self) -> None:
        if self.generator is not None and self.generator.poll() is None:
            with contextlib.suppress(Exception):
                assert self.generator.stdin is not None
                self.generator.stdin.write("quit\n")
                self.generator.stdin.flush()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.generator.wait(timeout=10)
        if self.engine.poll() is None:
            self.engine.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.engine.wait(timeout=60)
        for process in (self.generator, self.engine):
            if process is not None and process.poll() is None:
                process.kill()


def orchestrate(args: argparse.Namespace) -> None:
    orchestra = Orchestra(args)
    try:
        ready = orchestra.start()
        print("ready:", json.dumps(ready), flush=True)
        up = {kind: ready[kind]["legs"] for kind in KINDS}
        if any(count < 2 * args.calls for count in up.values()):
            print(f"warning: not every call is up ({up}; {2 * args.calls} legs of each kind)", flush=True)
        time.sleep(2)
        phases: list[dict[str, Any]] = []
        for index in range(args.runs):
            order = KINDS if index % 2 == 0 else KINDS[::-1]  # ABBA
            for kind in order:
                result = orchestra.phase(kind) | {"round": index + 1}
                print(json.dumps(result), flush=True)
                phases.append(result)
    finally:
        orchestra.stop()
    summary: dict[str, Any] = {"calls": args.calls, "seconds": args.seconds, "runs": args.runs}
    for kind in KINDS:
        rows = [p for p in phases if p["kind"] == kind and p["us_per_packet"]]
        summary[kind] = {
            "us_per_packet": [p["us_per_packet"] for p in rows],
            "median_us_per_packet": statistics.median(p["us_per_packet"] for p in rows),
            "median_user_us_per_packet": statistics.median(p["user_us_per_packet"] for p in rows),
            "median_engine_cpu_share": statistics.median(p["engine_cpu_share"] for p in rows),
            "median_generator_cpu_share": statistics.median(p["generator_cpu_share"] for p in rows),
            "lost_to_engine": sum(p["lost_to_engine"] for p in rows),
            "lost_back": sum(p["lost_back"] for p in rows),
            "sent": sum(p["sent"] for p in rows),
        }
    browser = [p for p in phases if p["kind"] == "webrtc"]
    plain = [p for p in phases if p["kind"] == "plain"]
    ratios = [w["us_per_packet"] / p["us_per_packet"] for w, p in zip(browser, plain, strict=True)]
    summary["ratio_per_round"] = [round(r, 3) for r in ratios]
    summary["ratio_of_medians"] = round(
        summary["webrtc"]["median_us_per_packet"] / summary["plain"]["median_us_per_packet"], 3
    )
    summary["floor"] = 2.0
    summary["loads"] = [p["load"] for p in phases]
    print("summary:", json.dumps(summary), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", nargs="?", default="run", choices=["run", "serve", "generate"])
    parser.add_argument("--calls", type=int, default=200, help="calls of each kind, all up at once")
    parser.add_argument("--seconds", type=float, default=60, help="measured window of each phase")
    parser.add_argument("--runs", type=int, default=3, help="rounds of (plain, browser) phases")
    parser.add_argument("--settle", type=float, default=3, help="seconds of media before a window")
    parser.add_argument("--drain", type=float, default=1.5, help="seconds after a phase's last packet")
    parser.add_argument("--profiles", default="gcm,cm", help="SRTP profiles the browsers offer")
    parser.add_argument("--setup-concurrency", type=int, default=20)
    parser.add_argument("--record", action="store_true", help="record every bridged call")
    parser.add_argument("--no-uvloop", action="store_true", help="the engine on stock asyncio")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--far-port", type=int, default=0)
    parser.add_argument("--stats", type=Path)
    parser.add_argument("--record-to", type=Path)
    args = parser.parse_args()
    if args.kind == "serve":
        serve(args.port, args.far_port, args.stats, args.record_to, not args.no_uvloop)
    elif args.kind == "generate":
        generate(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
