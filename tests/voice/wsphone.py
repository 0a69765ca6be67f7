"""A scripted browser phone: SIP over a real WebSocket (RFC 7118) as JsSIP speaks it — a Via of
`SIP/2.0/WS <random>.invalid`, a Contact of `sip:<random>@<random>.invalid;transport=ws`, one
message per text frame — for tests of `/api/phone/ws`."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from hotline.voice.sip.digest import answer_challenges
from hotline.voice.sip.message import SipRequest, SipResponse, parse, response_to

SDP = (
    "v=0\r\no=browser 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
)
WEBRTC_SDP = (
    "v=0\r\no=browser 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=audio {port} UDP/TLS/RTP/SAVPF 0 101\r\nc=IN IP4 127.0.0.1\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=mid:0\r\na=rtcp-mux\r\n"
    "a=setup:{setup}\r\na=ice-ufrag:{ufrag}\r\na=ice-pwd:browserpasswordbrowserpw\r\n"
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n"
)
"""What a browser answers to Hotline's WebRTC offer (setup active), or offers in a re-INVITE (an ICE
restart: actpass and a new ufrag), for the signalling tests (no media runs)."""


class WsPhone:
    def __init__(self, socket: Any, extension: str, realm: str = "hotline") -> None:
        self.socket, self.extension, self.realm = socket, extension, realm
        self.host = f"{secrets.token_hex(5)}.invalid"
        self.contact = f"sip:{secrets.token_hex(4)}@{self.host};transport=ws"
        self.call_id = f"{secrets.token_hex(8)}"
        self.cseq = 0

    def via(self) -> str:
        return f"SIP/2.0/WS {self.host};branch=z9hG4bK{secrets.token_hex(6)}"

    async def send(self, message: SipRequest | SipResponse | bytes | str) -> None:
        if isinstance(message, SipRequest | SipResponse):
            message = bytes(message).decode()
        await self.socket.send(message)

    async def receive(self) -> SipRequest | SipResponse:
        frame = await asyncio.wait_for(self.socket.recv(), 5.0)
        return parse(frame.encode() if isinstance(frame, str) else frame)

    async def request(self, request: SipRequest) -> SipResponse:
        """Send and wait for its final response (skipping provisional ones)."""
        await self.send(request)
        while True:
            message = await self.receive()
            if isinstance(message, SipResponse) and message.status >= 200:
                return message

    def register_request(self, expires: int = 600, extension: str | None = None) -> SipRequest:
        self.cseq += 1
        aor = f"<sip:{extension or self.extension}@{self.realm}>"
        request = SipRequest(method="REGISTER", uri=f"sip:{self.realm}")
        request.headers.add("Via", self.via())
        request.headers.add("Max-Forwards", "69")
        request.headers.add("To", aor)
        request.headers.add("From", f"{aor};tag={secrets.token_hex(4)}")
        request.headers.add("Call-ID", self.call_id)
        request.headers.add("CSeq", f"{self.cseq} REGISTER")
        request.headers.add("Contact", f"<{self.contact}>;+sip.ice;reg-id=1;expires={expires}")
        request.headers.add("Expires", str(expires))
        request.headers.add("Supported", "path, gruu, outbound")
        return request

    async def register(
        self, username: str, password: str, *, expires: int = 600, extension: str | None = None
    ) -> tuple[SipResponse, SipResponse]:
        """REGISTER, then again answering the challenge: both final responses."""
        first = await self.request(self.register_request(expires, extension))
        again = self.register_request(expires, extension)
        authorization = answer_challenges(
            first.headers.get_all("WWW-Authenticate"), username=username, password=password,
            method="REGISTER", uri=again.uri,
        )  # fmt: skip
        if authorization is not None:
            again.headers.add("Authorization", authorization)
        return first, await self.request(again)

    async def ring(self, media_port: int) -> SipRequest:
        """Take an INVITE: 100 Trying and 180 Ringing."""
        invite = await self.receive()
        assert isinstance(invite, SipRequest) and invite.method == "INVITE", invite
        await self.send(response_to(invite, 100, "Trying"))
        await self.send(response_to(invite, 180, "Ringing", to_tag="browser"))
        self.media_port = media_port
        return invite

    def answer(self, invite: SipRequest) -> SipResponse:
        ok = response_to(invite, 200, "OK", to_tag="browser")
        ok.headers.add("Contact", f"<{self.contact}>")
        ok.headers.add("Content-Type", "application/sdp")
        webrtc = b"UDP/TLS/RTP/SAVPF" in invite.body
        sdp = WEBRTC_SDP if webrtc else SDP
        ok.body = sdp.format(port=self.media_port, setup="active", ufrag="brws").encode()
        return ok

    def bye(self, invite: SipRequest) -> SipRequest:
        """Hang up a call Hotline placed to us."""
        return self.in_dialog(invite, "BYE", 1)

    def in_dialog(self, invite: SipRequest, method: str, cseq: int) -> SipRequest:
        """A request inside a call Hotline placed to us (we are the To side of its dialog)."""
        contact = (invite.headers.get("Contact") or "").strip("<>")
        request = SipRequest(method=method, uri=contact)
        request.headers.add("Via", self.via())
        request.headers.add("Max-Forwards", "69")
        request.headers.add("From", f"{invite.headers.get('To')};tag=browser")
        request.headers.add("To", invite.headers.get("From") or "")
        request.headers.add("Call-ID", invite.call_id)
        request.headers.add("CSeq", f"{cseq} {method}")
        if method == "INVITE":
            request.headers.add("Contact", f"<{self.contact}>")
            request.headers.add("Content-Type", "application/sdp")
            sdp = WEBRTC_SDP if b"UDP/TLS/RTP/SAVPF" in invite.body else SDP
            request.body = sdp.format(port=self.media_port, setup="actpass", ufrag=f"r{cseq}rs").encode()
        return request
