"""Browser legs with a real WebRTC peer (aiortc: full ICE, DTLS client, SRTP) against the engine:
a browser calling in is bridged with a desk phone, recorded, and heard both ways; Hotline calls a
browser binding with a WebRTC offer and its prompt arrives decryptable; a certificate that is not
the SDP's ends the leg without audio; connectivity checks without our password are not answered."""

from __future__ import annotations

import asyncio
import fractions
import re
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from hotline.voice.control import Bridge, EndReason, Leg, LegState
from hotline.voice.media.g711 import tone, ulaw_encode
from hotline.voice.rtp.stun import (
    BINDING_REQUEST,
    BINDING_SUCCESS,
    ICE_CONTROLLING,
    PRIORITY,
    USE_CANDIDATE,
    USERNAME,
    XOR_MAPPED_ADDRESS,
    StunMessage,
    read_xor_address,
)
from hotline.voice.rtp.webrtc import WebRtcSession
from hotline.voice.sdp import Direction as SdpDirection
from hotline.voice.sdp import SessionDescription, offer
from hotline.voice.sip.digest import hashed
from hotline.voice.sip.message import SipRequest, SipResponse, parse, response_to
from hotline.voice.sip.registrar import Binding
from hotline.voice.sip.server import SipServer
from hotline.voice.sip.websocket import WebSocketLink
from tests.voice.audio import tone_share, wav_samples
from tests.voice.softphone import TEST_TRUNK, Softphone

pytestmark = pytest.mark.timeout(30)


class Tone(MediaStreamTrack):
    """A microphone playing a steady tone: 20 ms frames of 8 kHz audio, paced in real time."""

    kind = "audio"

    def __init__(self, frequency: float) -> None:
        super().__init__()
        self.frequency, self.frames, self.started = frequency, 0, 0.0

    async def recv(self) -> av.AudioFrame:
        if not self.frames:
            self.started = time.monotonic()
        await asyncio.sleep(max(0.0, self.started + 0.02 * self.frames - time.monotonic()))
        n = np.arange(self.frames * 160, (self.frames + 1) * 160)
        samples = (8000 * np.sin(2 * np.pi * self.frequency * n / 8000)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 8000, self.frames * 160, fractions.Fraction(1, 8000)
        self.frames += 1
        return frame


class Browser:
    """An aiortc peer connection sending a tone and keeping what it hears (8 kHz samples)."""

    def __init__(self, frequency: float | None, configuration: RTCConfiguration | None = None) -> None:
        self.pc = RTCPeerConnection(configuration or RTCConfiguration(iceServers=[]))
        self.heard: list[np.ndarray] = []
        self._listening: list[asyncio.Task[None]] = []
        if frequency is not None:
            self.pc.addTrack(Tone(frequency))
        else:
            self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.on("track", lambda track: self._listening.append(asyncio.ensure_future(self._listen(track))))

    async def _listen(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.heard.append(frame.to_ndarray().reshape(-1))

    def samples(self) -> list[int]:
        return [int(s) for s in np.concatenate(self.heard)] if self.heard else []

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def answer(self, sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    async def close(self) -> None:
        await self.pc.close()
        for task in self._listening:
            task.cancel()
        await asyncio.gather(*self._listening, return_exceptions=True)


class SipEnd(asyncio.DatagramProtocol):
    """The browser's SIP side, over UDP or over a WebSocket link of the server's transport:
    places an INVITE with the browser's offer, or answers one with the browser's answer."""

    def __init__(self, server_port: int) -> None:
        self.server_port = server_port
        self.transport: asyncio.DatagramTransport | None = None
        self.responses: asyncio.Queue[SipResponse] = asyncio.Queue()
        self.invites: asyncio.Queue[SipRequest] = asyncio.Queue()
        self.hung_up = asyncio.Event()
        self.answer_with: Callable[[SipRequest], Awaitable[str]] | None = None
        self.sip: SipServer | None = None
        self.link: WebSocketLink | None = None
        self.reader: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def send(self, message: SipRequest | SipResponse) -> None:
        if self.link is not None:  # over the browser's WebSocket: a frame into the transport
            self.sip.transports.received(bytes(message), self.link.peer)  # type: ignore[union-attr]
            return
        assert self.transport is not None
        self.transport.sendto(bytes(message), ("127.0.0.1", self.server_port))

    def over_websocket(self, sip: SipServer, extension: str) -> WebSocketLink:
        """Speak SIP over a WebSocket connection of `sip`'s transport instead of UDP, as a browser
        does (the frames are handed to the transport as the web server does)."""
        self.sip, self.link = (
            sip,
            sip.transports.open_websocket("127.0.0.1", 0, secure=False, extension=extension),
        )

        async def read(link: WebSocketLink) -> None:
            while (frame := await link.outgoing()) is not None:
                self.datagram_received(frame, ("127.0.0.1", 0))

        self.reader = asyncio.ensure_future(read(self.link))
        return self.link

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message = parse(data)
        if isinstance(message, SipResponse):
            self.responses.put_nowait(message)
        elif message.method == "INVITE":
            self.send(response_to(message, 100, "Trying"))
            self.invites.put_nowait(message)
        elif message.method == "BYE":
            self.send(response_to(message, 200, "OK"))
            self.hung_up.set()
        elif message.method != "ACK":
            self.send(response_to(message, 200, "OK"))

    async def call(self, number: str, sdp: str) -> SipResponse:
        invite = SipRequest(method="INVITE", uri=f"sip:{number}@127.0.0.1")
        invite.headers.add("Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{secrets.token_hex(6)}")
        invite.headers.add("From", "<sip:13800138000@127.0.0.1>;tag=browser")
        invite.headers.add("To", f"<sip:{number}@127.0.0.1>")
        invite.headers.add("Call-ID", secrets.token_hex(8))
        invite.headers.add("CSeq", "1 INVITE")
        invite.headers.add("Contact", f"<sip:13800138000@127.0.0.1:{self.port}>")
        invite.headers.add("Content-Type", "application/sdp")
        invite.body = sdp.encode()
        self.send(invite)
        while (reply := await asyncio.wait_for(self.responses.get(), 5)).status < 200:
            pass
        if reply.status == 200:
            ack = SipRequest(method="ACK", uri="sip:hotline@127.0.0.1")
            ack.headers.add("Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{secrets.token_hex(6)}")
            for name in ("From", "To", "Call-ID"):
                ack.headers.add(name, reply.headers.get(name) or "")
            ack.headers.add("CSeq", "1 ACK")
            self.send(ack)
        return reply

    def in_dialog(self, method: str, reply: SipResponse, *, cseq: int) -> SipRequest:
        request = SipRequest(method=method, uri="sip:hotline@127.0.0.1")
        request.headers.add("Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{secrets.token_hex(6)}")
        for name in ("From", "To", "Call-ID"):
            request.headers.add(name, reply.headers.get(name) or "")
        request.headers.add("CSeq", f"{cseq} {method}")
        return request

    async def reinvite(self, reply: SipResponse, sdp: str, *, cseq: int) -> SipResponse:
        invite = self.in_dialog("INVITE", reply, cseq=cseq)
        invite.headers.add("Content-Type", "application/sdp")
        invite.body = sdp.encode()
        self.send(invite)
        while (answer := await asyncio.wait_for(self.responses.get(), 5)).status < 200:
            pass
        ack = self.in_dialog("ACK", reply, cseq=cseq)
        self.send(ack)
        return answer

    async def answer(self, sdp_for: Callable[[str], Awaitable[str]]) -> SipRequest:
        invite = await asyncio.wait_for(self.invites.get(), 5)
        ok = response_to(invite, 200, "OK", to_tag="browser")
        ok.headers.add("Contact", f"<sip:1003@127.0.0.1:{self.port};transport=ws>")
        ok.headers.add("Content-Type", "application/sdp")
        ok.body = (await sdp_for(invite.body.decode())).encode()
        self.send(ok)
        return invite


class Harness:
    def __init__(self) -> None:
        self.application: Callable[[Leg], Awaitable[None]] = self._idle
        self.sip = SipServer(
            "127.0.0.1", 0, "hotline", hashed({"1001": "sip1001"}), trunks=[TEST_TRUNK],
            application=lambda leg: self.application(leg),
        )  # fmt: skip
        self.closing: list[Callable[[], Awaitable[None] | None]] = []

    @staticmethod
    async def _idle(leg: Leg) -> None:
        await leg.answer()
        await leg.ended.wait()

    async def sip_end(self) -> SipEnd:
        _, end = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: SipEnd(self.sip.port), local_addr=("127.0.0.1", 0)
        )
        self.closing.append(lambda: end.transport.close() if end.transport else None)
        return end

    async def desk_phone_answers(
        self, *, prompt: bytes | None = None, record_to: Path | None = None
    ) -> tuple[Softphone, list[Leg], list[Bridge]]:
        """Desk phone 1001 registered, and calls in answered, `prompt` played, then bridged with
        it; the legs (caller, desk) and bridges as they come."""
        desk = await Softphone.open("1001", "sip1001", self.sip.port)
        self.closing.append(desk.close)
        assert await desk.register() == 200
        legs: list[Leg] = []
        bridges: list[Bridge] = []

        async def connect(caller: Leg) -> None:
            await caller.answer()
            if prompt is not None:
                assert await caller.play(prompt)
            agent = await self.sip.engine.originate("1001", caller=caller.caller, ring_for=5)
            legs.extend((caller, agent))
            bridge = self.sip.engine.bridge(caller, agent, record_to=record_to)
            bridges.append(bridge)
            try:
                await bridge.wait()
            finally:
                await bridge.stop()
                await agent.hang_up()

        self.application = connect
        return desk, legs, bridges

    def browser(self, frequency: float | None, configuration: RTCConfiguration | None = None) -> Browser:
        browser = Browser(frequency, configuration)
        self.closing.append(browser.close)
        return browser


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    harness = Harness()
    await harness.sip.start()
    yield harness
    await harness.sip.stop()
    for close in reversed(harness.closing):
        result = close()
        if result is not None:
            await result


def voiced(samples: list[int]) -> list[int]:
    """The 20 ms frames that carry sound, joined (what a receiver outputs while nothing arrives
    is silence, and how much of it depends on the machine's load)."""
    frames = [samples[i : i + 160] for i in range(0, len(samples) - 159, 160)]
    return [s for frame in frames if sum(x * x for x in frame) > 160 * 500**2 for s in frame]


async def eventually(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.02)


async def test_a_browser_calling_in_is_bridged_with_a_desk_phone_both_hear_each_other_and_are_recorded(
    harness: Harness, tmp_path: Path
) -> None:
    """Browser (1 kHz, WebRTC) → Hotline → desk phone 1001 (400 Hz, plain RTP), recorded."""
    desk, legs, bridges = await harness.desk_phone_answers(
        prompt=ulaw_encode(tone(600, 400)),  # a prompt first (another SSRC)
        record_to=tmp_path / "rec",
    )
    browser, end = harness.browser(1000), await harness.sip_end()
    reply = await end.call("4008001000", await browser.offer())
    assert reply.status == 200
    answer = SessionDescription.parse(reply.body)
    audio = answer.audio
    assert answer.ice_lite and answer.groups == ["BUNDLE 0"]
    assert audio.protocol == "UDP/TLS/RTP/SAVPF" and audio.setup == "passive" and audio.rtcp_mux
    assert audio.formats == [0] and audio.rtpmap[0] == ("PCMU", 8000)  # not the browser's opus
    assert [(c.address, c.port, c.kind) for c in audio.candidates] == [("127.0.0.1", audio.port, "host")]
    await browser.pc.setRemoteDescription(RTCSessionDescription(reply.body.decode(), "answer"))
    await asyncio.wait_for(desk.answered.wait(), 5)
    await eventually(lambda: len(legs) == 2, 5)
    session = legs[0].rtp  # type: ignore[attr-defined]
    assert isinstance(session, WebRtcSession)
    await asyncio.wait_for(session.secured.wait(), 5)
    await desk.send_tone(400, 1500)
    await asyncio.sleep(0.2)
    assert tone_share(voiced(browser.samples())[:2400], 600) > 0.8  # the prompt, decrypted by aiortc

    # hold and resume by re-INVITE keep the ICE and DTLS terms; an ICE restart changes ours
    offered = SessionDescription.parse(browser.pc.localDescription.sdp)
    offered.audio.direction = SdpDirection.SENDONLY
    held = await end.reinvite(reply, str(offered), cseq=2)
    assert held.status == 200 and legs[0].state is LegState.HELD
    held_answer = SessionDescription.parse(held.body).audio
    assert held_answer.direction is SdpDirection.RECVONLY and held_answer.ice_ufrag == audio.ice_ufrag
    assert held_answer.fingerprints == audio.fingerprints and held_answer.setup == "passive"
    offered.audio.direction = SdpDirection.SENDRECV
    assert (await end.reinvite(reply, str(offered), cseq=3)).status == 200
    assert legs[0].state is LegState.ANSWERED
    offered.audio.ice_ufrag, offered.audio.ice_pwd = "rstr", "r" * 22
    restarted = await end.reinvite(reply, str(offered), cseq=4)
    assert restarted.status == 200
    restarted_answer = SessionDescription.parse(restarted.body).audio
    assert restarted_answer.ice_ufrag != audio.ice_ufrag and restarted_answer.ice_pwd != audio.ice_pwd
    assert restarted_answer.fingerprints == audio.fingerprints  # DTLS and SRTP carry on

    end.send(_bye(reply, end, cseq=5))
    await asyncio.wait_for(desk.hung_up.wait(), 5)
    await eventually(lambda: bool(bridges) and bridges[0].recording is not None, 5)

    heard_by_desk = [packet.payload for _, packet in desk.rtp.packets]
    assert len(heard_by_desk) > 50
    from hotline.voice.media.g711 import ulaw_decode

    assert tone_share(ulaw_decode(b"".join(heard_by_desk[-50:])), 1000) > 0.8  # the browser's voice
    heard_by_browser = browser.samples()
    assert len(heard_by_browser) >= 8000
    assert tone_share(voiced(heard_by_browser)[-6000:-800], 400) > 0.8  # the desk phone's, decrypted
    recording = bridges[0].recording
    assert recording is not None
    said_by_browser, _ = wav_samples(recording.leg_a)
    said_by_desk, _ = wav_samples(recording.leg_b)
    assert tone_share(said_by_browser[-8000:], 1000) > 0.8 and tone_share(said_by_desk[-8000:], 400) > 0.5
    assert session.rejected_packets == 0 and session.received_packets > 50


def _bye(reply: SipResponse, end: SipEnd, *, cseq: int) -> SipRequest:
    return end.in_dialog("BYE", reply, cseq=cseq)


async def test_hotline_calls_a_browser_binding_with_a_webrtc_offer_and_its_prompt_arrives_decryptable(
    harness: Harness,
) -> None:
    """Extension 1003 is registered from a browser (Peer.transport "WS"): originate offers WebRTC,
    and a prompt, sent by the media pacer's process under SRTP, is heard by the browser."""
    end = await harness.sip_end()
    link = end.over_websocket(harness.sip, "1003")
    assert link.peer.transport == "WS"
    binding = Binding("sip:1003@abc.invalid;transport=ws", time.monotonic() + 600, link.peer, "x")
    harness.sip.engine.locate = lambda extension: [binding] if extension == "1003" else []
    browser = harness.browser(None)
    offers: list[SessionDescription] = []

    async def browser_answers(sdp: str) -> str:
        offers.append(SessionDescription.parse(sdp))
        return await browser.answer(sdp)

    answering = asyncio.ensure_future(end.answer(browser_answers))
    leg = await harness.sip.engine.originate("1003", ring_for=5)
    await answering
    ours = offers[0]
    assert ours.ice_lite and ours.audio.webrtc and ours.audio.setup == "actpass" and ours.audio.rtcp_mux
    assert ours.audio.fingerprints[0][0] == "sha-256" and ours.audio.candidates[0].port == ours.audio.port
    session = leg.rtp  # type: ignore[attr-defined]
    assert isinstance(session, WebRtcSession)
    played = await leg.play(ulaw_encode(tone(600, 1000)))
    assert played and session.secured.is_set()
    await asyncio.sleep(0.2)
    heard = browser.samples()
    assert len(heard) >= 6000
    assert tone_share(voiced(heard)[160:-160], 600) > 0.8
    await leg.hang_up()
    await asyncio.wait_for(end.hung_up.wait(), 3)


async def test_a_certificate_other_than_the_sdp_fingerprint_ends_the_leg_without_audio(
    harness: Harness,
) -> None:
    legs: list[Leg] = []

    async def answer(caller: Leg) -> None:
        legs.append(caller)
        await caller.answer()
        await caller.ended.wait()

    harness.application = answer
    browser, end = harness.browser(1000), await harness.sip_end()
    sdp = re.sub(
        r"(a=fingerprint:\S+ )([0-9A-F]{2})",
        lambda m: m.group(1) + ("00" if m.group(2) != "00" else "11"),
        await browser.offer(),
    )
    reply = await end.call("4008001000", sdp)
    assert reply.status == 200
    await browser.pc.setRemoteDescription(RTCSessionDescription(reply.body.decode(), "answer"))
    await asyncio.wait_for(end.hung_up.wait(), 5)  # Hotline hangs up: BYE
    leg = legs[0]
    assert leg.state is LegState.ENDED and leg.cdr.end_reason is EndReason.MEDIA_FAILED
    assert "fingerprint" in leg.variables["media_failure"]
    session = leg.rtp  # type: ignore[attr-defined]
    assert not session.secured.is_set() and session.received_packets == 0


async def test_checks_without_our_password_get_no_answer_nor_latch_and_an_ice_restart_is_followed() -> None:
    session = WebRtcSession("127.0.0.1", ("127.0.0.1", 9))
    await session.start()
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    probe.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        theirs = offer(address="127.0.0.1", port=9, session_id=1, webrtc=True).audio
        theirs.ice_ufrag, theirs.ice_pwd = "brws", "b" * 22
        theirs.fingerprints = [("sha-256", ":".join(["AB"] * 32))]
        session.negotiate(theirs)

        async def check(password: str, *, ufrag: str = "brws", nominate: bool = True) -> StunMessage | None:
            attributes = [
                (USERNAME, f"{session.ice_ufrag}:{ufrag}".encode()),
                (PRIORITY, b"\x6e\x00\x1e\xff"),
            ]
            attributes.append((ICE_CONTROLLING, secrets.token_bytes(8)))
            if nominate:
                attributes.append((USE_CANDIDATE, b""))
            request = StunMessage(BINDING_REQUEST, secrets.token_bytes(12), attributes)
            probe.sendto(request.encode(integrity_key=password.encode()), ("127.0.0.1", session.port))
            try:
                response = StunMessage.parse(await asyncio.wait_for(loop.sock_recv(probe, 1500), 0.3))
            except TimeoutError:
                return None
            assert response.transaction_id == request.transaction_id
            return response

        assert await check("not-the-password-at-all") is None
        assert await check(session.ice_pwd, ufrag="othr") is None  # not the browser of this call
        assert session.remote == ("127.0.0.1", 9)  # nothing latched
        response = await check(session.ice_pwd)
        assert response is not None and response.type == BINDING_SUCCESS
        assert response.integrity_ok(session.ice_pwd.encode()) and response.fingerprint_ok()
        mapped = response.get(XOR_MAPPED_ADDRESS)
        assert mapped is not None
        assert read_xor_address(mapped, response.transaction_id) == probe.getsockname()
        assert session.remote == probe.getsockname()

        old_password = session.ice_pwd
        restart = offer(address="127.0.0.1", port=9, session_id=1, webrtc=True).audio
        restart.ice_ufrag, restart.ice_pwd, restart.fingerprints = "brw2", "c" * 22, theirs.fingerprints
        session.negotiate(restart)  # an ICE restart: our credentials change as well
        assert session.ice_pwd != old_password
        assert await check(old_password, ufrag="brws") is None
        assert await check(session.ice_pwd, ufrag="brw2") is not None
    finally:
        probe.close()
        session.close()


async def test_before_the_keys_nothing_leaves_in_clear_and_a_handshake_that_never_ends_fails_the_leg(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("hotline.voice.rtp.webrtc.HANDSHAKE_SECONDS", 0.3)
    far_end = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    far_end.bind(("127.0.0.1", 0))
    far_end.setblocking(False)
    session = WebRtcSession("127.0.0.1", far_end.getsockname())
    failures: list[str] = []
    session.on_failure = failures.append
    await session.start()
    try:
        session.send_frame(b"\xff" * 160)  # a conference frame, a relayed packet: no keys, not sent
        session.relay(1, 160, 42, b"\xff" * 160, False)
        session.send_report()
        playing = asyncio.ensure_future(session.play(ulaw_encode(tone(600, 200))))  # waits for the keys
        session.arm()
        await asyncio.sleep(0.5)
        assert failures == ["ICE and DTLS did not complete in 0.3 s"]
        with pytest.raises(BlockingIOError):
            far_end.recv(1500)
        assert not playing.done()  # (the leg's hang-up interrupts it; here closing the session does)
    finally:
        session.close()
        far_end.close()
    assert await asyncio.wait_for(playing, 1) is False
