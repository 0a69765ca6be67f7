"""A small scripted SIP phone over UDP for engine tests: registers with digest auth, rings, answers
(or is busy, or never answers), takes CANCEL and BYE, and sends and keeps RTP."""

from __future__ import annotations

import asyncio
import secrets
import time

from hotline.voice.media.g711 import tone, ulaw_encode
from hotline.voice.rtp.packet import RtpPacket
from hotline.voice.sip.digest import answer_challenges
from hotline.voice.sip.message import SipRequest, SipResponse, parse, response_to
from hotline.voice.sip.trunk import Trunk

TEST_TRUNK = Trunk("test", "127.0.0.1", dids={"4008001000": "hotel"}, outbound=False)
"""Calls from loopback to 4008001000 come in like calls from a carrier."""

SDP = (
    "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP {codec} 101\r\na=rtpmap:101 telephone-event/8000\r\n"
)


class _Rtp(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets: list[tuple[float, RtpPacket]] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.source: tuple[str, int] | None = None
        self.sources: list[tuple[str, int]] = []  # where each packet came from

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.source = (str(addr[0]), int(addr[1]))
        self.sources.append(self.source)
        self.packets.append((time.monotonic(), RtpPacket.parse(data)))


class Softphone(asyncio.DatagramProtocol):
    def __init__(self, extension: str, password: str, server_port: int, *, mode: str = "answer") -> None:
        self.extension, self.password, self.server_port = extension, password, server_port
        self.mode = mode  # answer | busy | ring
        self.codec = 0
        self.transport: asyncio.DatagramTransport | None = None
        self.responses: asyncio.Queue[SipResponse] = asyncio.Queue()
        self.requests: list[SipRequest] = []
        self.rtp = _Rtp()
        self.remote_media: tuple[str, int] | None = None
        self.invite: SipRequest | None = None
        self.answered = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.hung_up = asyncio.Event()
        self.ack_count = 0
        self.keys_pressed = 0
        self.reinvite_answers: list[int] = []
        """Statuses for the next re-INVITEs (then 200 with our SDP): 491, 488…"""
        self.reinvites: list[tuple[SipRequest, int]] = []  # each re-INVITE and the status it got
        self._reinvite_reply: SipResponse | None = None

    @classmethod
    async def open(cls, extension: str, password: str, server_port: int, **kwargs: str) -> Softphone:
        loop = asyncio.get_running_loop()
        _, phone = await loop.create_datagram_endpoint(
            lambda: cls(extension, password, server_port, **kwargs), local_addr=("127.0.0.1", 0)
        )
        await loop.create_datagram_endpoint(lambda: phone.rtp, local_addr=("127.0.0.1", 0))
        return phone

    def close(self) -> None:
        for transport in (self.transport, self.rtp.transport):
            if transport is not None:
                transport.close()

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    @property
    def rtp_port(self) -> int:
        assert self.rtp.transport is not None
        return int(self.rtp.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, message: SipRequest | SipResponse) -> None:
        assert self.transport is not None
        self.transport.sendto(bytes(message), ("127.0.0.1", self.server_port))

    async def register(
        self, *, password: str | None = None, expires: int = 600, username: str | None = None
    ) -> int:
        """REGISTER, answering the digest challenge (as `username`, the extension by default);
        returns the final status."""
        call_id, uri = secrets.token_hex(8), "sip:127.0.0.1"
        reply = SipResponse(status=0)
        for cseq in (1, 2):
            request = SipRequest(method="REGISTER", uri=uri)
            request.headers.add(
                "Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{secrets.token_hex(6)}"
            )
            request.headers.add("From", f"<sip:{self.extension}@127.0.0.1>;tag=reg")
            request.headers.add("To", f"<sip:{self.extension}@127.0.0.1>")
            request.headers.add("Call-ID", call_id)
            request.headers.add("CSeq", f"{cseq} REGISTER")
            request.headers.add("Contact", f"<sip:{self.extension}@127.0.0.1:{self.port}>")
            request.headers.add("Expires", str(expires))
            if cseq == 2:
                authorization = answer_challenges(
                    reply.headers.get_all("WWW-Authenticate"), username=username or self.extension,
                    password=password or self.password, method="REGISTER", uri=uri,
                )  # fmt: skip
                assert authorization is not None
                request.headers.add("Authorization", authorization)
            self.send(request)
            reply = await asyncio.wait_for(self.responses.get(), 3)
            if reply.status != 401:
                return reply.status
        return reply.status

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message = parse(data)
        if isinstance(message, SipResponse):
            self.responses.put_nowait(message)
            return
        self.requests.append(message)
        method = message.method
        if method == "INVITE" and self.invite is not None and message.call_id == self.invite.call_id:
            self._reinvite(message)  # or a retransmission of the first INVITE: ignored
            return
        if method == "INVITE":
            self.invite = message
            self.send(response_to(message, 100, "Trying"))
            self.send(response_to(message, 180, "Ringing", to_tag="phone"))
            if self.mode == "busy":
                self.send(response_to(message, 486, "Busy Here", to_tag="phone"))
            elif self.mode == "answer":
                self._answer(message)
        elif method == "CANCEL":
            self.send(response_to(message, 200, "OK", to_tag="phone"))
            if self.invite is not None:
                self.send(response_to(self.invite, 487, "Request Terminated", to_tag="phone"))
            self.cancelled.set()
        elif method == "ACK":
            self.ack_count += 1
        elif method == "BYE":
            self.send(response_to(message, 200, "OK"))
            self.hung_up.set()
        else:
            self.send(response_to(message, 200, "OK"))

    def _reinvite(self, invite: SipRequest) -> None:
        """Hotline moves our media (to rtpengine and back): answer with our SDP, or as told."""
        from hotline.voice.sdp import SessionDescription

        if ";tag=" not in (invite.headers.get("To") or ""):
            return  # the first INVITE again
        if self.reinvites and self.reinvites[-1][0].cseq == invite.cseq:
            if self._reinvite_reply is not None:  # a retransmission: the same answer again
                self.send(self._reinvite_reply)
            return
        status = self.reinvite_answers.pop(0) if self.reinvite_answers else 200
        self.reinvites.append((invite, status))
        reply = response_to(invite, status, "OK" if status == 200 else "Refused")
        if status == 200:
            offer = SessionDescription.parse(invite.body)
            self.remote_media = (offer.audio.address or offer.address, offer.audio.port)
            reply.headers.add("Contact", f"<sip:{self.extension}@127.0.0.1:{self.port}>")
            reply.headers.add("Content-Type", "application/sdp")
            reply.body = SDP.format(port=self.rtp_port, codec=self.codec).encode()
        self._reinvite_reply = reply
        self.send(reply)

    def _answer(self, invite: SipRequest) -> None:
        from hotline.voice.sdp import SessionDescription

        offer = SessionDescription.parse(invite.body)
        self.remote_media = (offer.audio.address or offer.address, offer.audio.port)
        ok = response_to(invite, 200, "OK", to_tag="phone")
        for route in invite.headers.get_all("Record-Route"):  # a proxy in between stays in the dialog
            ok.headers.add("Record-Route", route)
        ok.headers.add("Contact", f"<sip:{self.extension}@127.0.0.1:{self.port}>")
        ok.headers.add("Content-Type", "application/sdp")
        ok.body = SDP.format(port=self.rtp_port, codec=self.codec).encode()
        self.send(ok)
        self.answered.set()

    async def send_tone(self, frequency: float, milliseconds: int, *, drop_every: int = 0) -> None:
        """Send a tone as paced 20 ms PCMU frames to the engine; `drop_every` n-th frame is lost."""
        await self.send_audio(tone(frequency, milliseconds), drop_every=drop_every)

    async def send_audio(self, samples: list[int], *, drop_every: int = 0) -> None:
        """Send 8 kHz 16-bit samples (speech, a tone) as paced 20 ms PCMU frames to the engine."""
        assert self.remote_media is not None and self.rtp.transport is not None
        audio = ulaw_encode(samples)
        ssrc, start = secrets.randbits(32), time.monotonic()
        for n in range(len(audio) // 160):
            if not drop_every or (n + 1) % drop_every:
                packet = RtpPacket(0, n, 160 * n, ssrc, audio[160 * n : 160 * (n + 1)], n == 0)
                self.rtp.transport.sendto(bytes(packet), self.remote_media)
            await asyncio.sleep(max(0.0, start + 0.02 * (n + 1) - time.monotonic()))

    async def send_keys(self, keys: str) -> None:
        """Press keys: RFC 4733 telephone-events (payload type 101), as a phone sends them."""
        from hotline.voice.rtp.packet import TelephoneEvent

        assert self.remote_media is not None and self.rtp.transport is not None
        ssrc = secrets.randbits(32)
        for n, key in enumerate(keys):
            event = "0123456789*#".index(key)
            self.keys_pressed += 1  # each press its own timestamp, across calls of this method
            for step in range(1, 8):
                end = step >= 5
                body = bytes(TelephoneEvent(event, end, 10, min(step, 5) * 160))
                packet = RtpPacket(101, n * 10 + step, 8000 * self.keys_pressed, ssrc, body, step == 1)
                self.rtp.transport.sendto(bytes(packet), self.remote_media)
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)

    async def dial(self, number: str, *, call_id: str | None = None) -> SipResponse:
        """Call `number` from a trunk address (no auth): INVITE, wait for the final response, ACK a 200."""
        from hotline.voice.sdp import SessionDescription

        invite = SipRequest(method="INVITE", uri=f"sip:{number}@127.0.0.1")
        invite.headers.add("Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{secrets.token_hex(6)}")
        invite.headers.add("From", f"<sip:{self.extension}@127.0.0.1>;tag=caller")
        invite.headers.add("To", f"<sip:{number}@127.0.0.1>")
        invite.headers.add("Call-ID", call_id or secrets.token_hex(8))
        invite.headers.add("CSeq", "1 INVITE")
        invite.headers.add("Contact", f"<sip:{self.extension}@127.0.0.1:{self.port}>")
        invite.headers.add("Content-Type", "application/sdp")
        invite.body = SDP.format(port=self.rtp_port, codec=self.codec).encode()
        self.invite = invite
        self.send(invite)
        while (reply := await asyncio.wait_for(self.responses.get(), 5)).status < 200:
            pass
        if reply.status == 200:
            answer = SessionDescription.parse(reply.body)
            self.remote_media = (answer.audio.address or answer.address, answer.audio.port)
            self.dialog_to = reply.headers.get("To") or ""
            routes = reply.headers.get_all("Record-Route")
            if routes:  # through a proxy (the cluster's edge): in-dialog requests follow its route
                self.route_set = list(reversed(routes))
                contact = reply.headers.get("Contact") or ""
                self.remote_target = (
                    contact[contact.find("<") + 1 : contact.find(">")] if "<" in contact else ""
                )
            self.send(self.in_dialog("ACK", cseq=1))
        return reply

    def in_dialog(self, method: str, *, cseq: int) -> SipRequest:
        assert self.invite is not None
        request = SipRequest(method=method, uri=getattr(self, "remote_target", "") or "sip:hotline@127.0.0.1")
        request.headers.add("Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{secrets.token_hex(6)}")
        for route in getattr(self, "route_set", []):
            request.headers.add("Route", route)
        request.headers.add("From", self.invite.headers.get("From") or "")
        request.headers.add("To", getattr(self, "dialog_to", "") or self.invite.headers.get("To") or "")
        request.headers.add("Call-ID", self.invite.call_id)
        request.headers.add("CSeq", f"{cseq} {method}")
        return request
