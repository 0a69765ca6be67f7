"""A browser's leg: the RTP session behind ICE-lite and DTLS-SRTP (docs/decisions/0007).

One UDP port carries everything, told apart by the first byte (RFC 7983): 0–3 STUN (the browser's
connectivity checks, answered here: Hotline is ICE-lite), 20–63 DTLS (the handshake, Hotline the
server), 128–191 SRTP and SRTCP (rtcp-mux). Once SRTP is unprotected, the packet goes to
`RtpSession.received` like any phone's: relays, the recorder, the DTMF detector and RTCP figures
see plain RTP and nothing else changes. Going out, every packet is protected just before the
socket; before the keys exist nothing is sent at all.

Where media goes is ICE's choice, not the first packet's: the pair the browser nominates
(USE-CANDIDATE) in a check that carried our password, or, until one is, the address the DTLS
handshake completed with (which had passed a check). An ICE restart (new credentials in a
re-INVITE) is followed the same way, and DTLS and SRTP carry on across it.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import socket
import string
from typing import Any

import pylibsrtp
import structlog

from hotline.voice.rtp.dtls import DtlsError, DtlsServer, SrtpKeys, identity
from hotline.voice.rtp.pacer import Frame
from hotline.voice.rtp.session import RtpSession, allocate_port
from hotline.voice.rtp.stun import BINDING_REQUEST, USE_CANDIDATE, StunMessage, binding_success
from hotline.voice.sdp import Candidate, Media, SdpError, check_webrtc

log = structlog.get_logger(__name__)

HANDSHAKE_SECONDS = 10.0
"""From the answer (ours or the browser's) to SRTP keys: beyond it the leg ends (media-failed)."""
HOST_PRIORITY = (126 << 24) | (65535 << 8) | 255  # RFC 8445 §5.1.2.1: a host candidate, component 1
_ICE_ALPHABET = string.ascii_letters + string.digits + "+/"


def ice_credentials() -> tuple[str, str]:
    """A fresh ufrag (8 ice-chars, 48 bits) and password (24 ice-chars, 144 bits ≥ RFC's 128)."""
    return (
        "".join(secrets.choice(_ICE_ALPHABET) for _ in range(8)),
        "".join(secrets.choice(_ICE_ALPHABET) for _ in range(24)),
    )


class WebRtcSession(RtpSession):
    """Hotline's end of a browser leg: ICE-lite, DTLS-SRTP server, rtcp-mux, G.711 inside."""

    def __init__(
        self, host: str, remote: tuple[str, int], *, advertised: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(host, remote, **kwargs)
        self.advertised = advertised if advertised != host else None
        """The address browsers outside reach `host` at (a NAT's), offered as a second candidate."""
        self._latched = True  # ICE picks the far end's address, not the first packet (see above)
        me = identity()
        self.fingerprint = me.fingerprint
        self.ice_ufrag, self.ice_pwd = ice_credentials()
        self.remote_ufrag: str | None = None
        self.remote_pwd: str | None = None
        self.remote_fingerprints: list[tuple[str, str]] = []
        self.secured = asyncio.Event()
        """Set once the SRTP keys exist: nothing is sent before."""
        self.failure: str | None = None
        self.rejected_packets = 0
        """SRTP/SRTCP that failed authentication or replay checks: dropped."""
        self._dtls = DtlsServer(me.context)
        self._keys: SrtpKeys | None = None
        self._inbound: pylibsrtp.Session | None = None
        self._outbound: pylibsrtp.Session | None = None
        self._checked: set[tuple[str, int]] = set()
        """Addresses that passed a connectivity check with our password: DTLS is taken from them."""
        self._nominated = False
        self._dtls_peer: tuple[str, int] | None = None
        self._dtls_timer: asyncio.TimerHandle | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._closed = asyncio.Event()
        self._socket: socket.socket | None = None
        self._pacer_ssrcs = {self.ssrc}

    # ------------------------------------------------------------ set-up and signalling

    async def start(self) -> None:
        rtp, rtcp = allocate_port(self.host, *self.port_range)
        rtcp.close()  # rtcp-mux: RTCP shares the RTP port
        try:
            self._transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: self, sock=rtp
            )
        except BaseException:
            rtp.close()
            raise
        self._socket = rtp  # handed to the media pacer (`raw_socket`) only once the keys exist
        self._report_later()

    def close(self) -> None:
        super().close()
        self._socket = None
        self._closed.set()
        for timer in (self._dtls_timer, self._deadline):
            if timer is not None:
                timer.cancel()

    def negotiate(self, media: Media) -> None:
        """Take the browser's offer or answer: its ICE credentials and certificate fingerprints.
        New credentials mean an ICE restart (RFC 8839 §4.4.1.1.1): ours change too, media stays
        where it goes until the browser nominates a pair again, and DTLS-SRTP carries on."""
        check_webrtc(media)
        if media.setup == "passive":
            raise SdpError("the browser wants to be the DTLS server; Hotline always is (decisions/0007)")
        credentials = (media.ice_ufrag, media.ice_pwd)
        if self.remote_ufrag is not None and credentials != (self.remote_ufrag, self.remote_pwd):
            self.ice_ufrag, self.ice_pwd = ice_credentials()
            self._checked.clear()
            self._nominated = False
            log.info("ICE restart", remote=self.remote)
        self.remote_ufrag, self.remote_pwd = credentials
        if (
            self._dtls.complete
            and self.remote_fingerprints
            and media.fingerprints != self.remote_fingerprints
        ):
            raise SdpError("a new certificate needs a new DTLS association, which Hotline does not start")
        self.remote_fingerprints = list(media.fingerprints)
        if self._dtls.complete and self._keys is None:
            self._secure()  # the handshake finished before the browser's answer reached us

    def describe(self, media: Media) -> None:
        media.port = self.port
        media.ice_ufrag, media.ice_pwd = self.ice_ufrag, self.ice_pwd
        media.fingerprints = [self.fingerprint]
        media.rtcp_mux = True
        media.candidates = [Candidate("1", 1, "udp", HOST_PRIORITY, self.host, self.port, "host")]
        if self.advertised:  # the same port through the NAT in front (its 1:1 or forwarded mapping)
            media.candidates.append(
                Candidate("2", 1, "udp", HOST_PRIORITY - 1, self.advertised, self.port, "host")
            )
        media.end_of_candidates = True

    def arm(self) -> None:
        if self._deadline is None and self._keys is None and self.failure is None:
            self._deadline = asyncio.get_running_loop().call_later(
                HANDSHAKE_SECONDS, self._fail, f"ICE and DTLS did not complete in {HANDSHAKE_SECONDS:g} s"
            )

    def _fail(self, reason: str) -> None:
        if self.failure is not None:
            return
        self.failure = reason
        log.warning("browser media failed", reason=reason, remote=self.remote)
        self.on_failure(reason)

    # ------------------------------------------------------------ what arrives

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if not data:
            return
        first = data[0]
        if 127 < first < 192:
            inbound = self._inbound
            if inbound is None or len(data) < 12:
                return
            try:
                if 191 < data[1] < 224:  # RTCP packet types 192–223 (RFC 5761 §4)
                    self.rtcp_received(inbound.unprotect_rtcp(data), addr)
                    return
                plain = inbound.unprotect(data)
            except pylibsrtp.Error:
                self.rejected_packets += 1
                return
            self.received(plain, addr)
        elif first < 4:
            self._stun(data, (str(addr[0]), int(addr[1])))
        elif 19 < first < 64:
            self._dtls_record(data, (str(addr[0]), int(addr[1])))

    def _stun(self, data: bytes, source: tuple[str, int]) -> None:
        """A connectivity check: answered only with the right USERNAME (our ufrag, then theirs)
        and a MESSAGE-INTEGRITY made with our password; anything else gets no answer at all."""
        try:
            check = StunMessage.parse(data)
        except ValueError:
            return
        if check.type != BINDING_REQUEST or not check.fingerprint_ok():
            return
        ours, _, theirs = (check.username or "").partition(":")
        if ours != self.ice_ufrag or (self.remote_ufrag is not None and theirs != self.remote_ufrag):
            return
        if not check.integrity_ok(self.ice_pwd.encode()):
            return
        if self._transport is not None:
            self._transport.sendto(binding_success(check, source, self.ice_pwd), source)
        self._checked.add(source)
        if check.has(USE_CANDIDATE) and (not self._nominated or self.remote != source):
            self._nominated = True
            self.remote = source  # (prompts playing follow: RtpSession.remote)

    def _dtls_record(self, data: bytes, source: tuple[str, int]) -> None:
        if source not in self._checked or self.failure is not None:
            return  # only from an address the browser proved with our ICE password
        self._dtls_peer = source
        try:
            finished = self._dtls.receive(data)
        except DtlsError as exc:
            self._send_dtls()
            self._fail(str(exc))
            return
        self._send_dtls()
        if finished:
            self._secure()
        else:
            self._retransmit_later()

    def _send_dtls(self) -> None:
        if self._transport is not None and self._dtls_peer is not None:
            for record in self._dtls.outgoing():
                self._transport.sendto(record, self._dtls_peer)

    def _retransmit_later(self) -> None:
        if self._dtls_timer is not None:
            self._dtls_timer.cancel()
        self._dtls_timer = None
        delay = self._dtls.timeout()
        if delay is not None and not self._closed.is_set():
            self._dtls_timer = asyncio.get_running_loop().call_later(delay, self._retransmit)

    def _retransmit(self) -> None:
        self._dtls_timer = None
        self._dtls.handle_timeout()
        self._send_dtls()
        self._retransmit_later()

    def _secure(self) -> None:
        """The handshake is done: check the browser's certificate against its SDP, derive keys."""
        if not self.remote_fingerprints:
            return  # its answer has not reached us yet: `negotiate` comes back here
        try:
            self._dtls.verify(self.remote_fingerprints)
            keys = self._dtls.srtp_keys()
        except DtlsError as exc:
            self._fail(str(exc))
            return
        inbound = pylibsrtp.Policy(
            key=keys.inbound, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND, srtp_profile=keys.profile
        )
        inbound.window_size = 1024  # a late packet within a second still plays
        outbound = pylibsrtp.Policy(
            key=keys.outbound, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND, srtp_profile=keys.profile
        )
        self._keys, self._inbound, self._outbound = (
            keys,
            pylibsrtp.Session(inbound),
            pylibsrtp.Session(outbound),
        )
        if self._deadline is not None:
            self._deadline.cancel()
        if not self._nominated and self._dtls_peer is not None:
            self.remote = self._dtls_peer
        self.raw_socket = self._socket
        self.secured.set()

    # ------------------------------------------------------------ what leaves

    def send_packet(self, packet: bytes) -> None:
        outbound, transport = self._outbound, self._transport
        if outbound is None or transport is None:
            return  # no keys yet: nothing leaves in clear
        try:
            transport.sendto(outbound.protect(packet), self._remote)
        except pylibsrtp.Error:  # a repeated index (a duplicate relayed): never encrypted twice
            return

    def send_rtcp(self, packet: bytes) -> None:
        outbound, transport = self._outbound, self._transport
        if outbound is not None and transport is not None:
            transport.sendto(outbound.protect_rtcp(packet), self._remote)

    def pacer_terms(self) -> tuple[int, int, int, tuple[int, bytes] | None]:
        """A prompt leaves from the media pacer's process, protected there with the same key under
        an SSRC of its own, one never used before on this leg: two processes never encrypt with
        the same (key, SSRC, index), whatever happens to the numbering (decisions/0007)."""
        if self._keys is None:
            raise RuntimeError("no SRTP keys yet: a browser leg's prompt waits for them")
        ssrc = self.ssrc
        while ssrc in self._pacer_ssrcs:
            ssrc = random.getrandbits(32)
        self._pacer_ssrcs.add(ssrc)
        return ssrc, random.getrandbits(16), self.timestamp, (self._keys.profile, self._keys.outbound)

    async def _paced(
        self, frames: list[Frame], *, interrupt: tuple[asyncio.Event, ...] = (), repeat: bool = False
    ) -> bool:
        if not self.secured.is_set():  # a prompt at answer time waits for the handshake
            waits = [asyncio.ensure_future(e.wait()) for e in (self.secured, self._closed, *interrupt)]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
            if not self.secured.is_set() or self._closed.is_set():
                return False
        return await super()._paced(frames, interrupt=interrupt, repeat=repeat)
