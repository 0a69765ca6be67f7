"""Inbound calls over real sockets: limits, retransmissions, hold, SIP INFO keys, codecs, BYE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from hotline.voice.control import Leg
from hotline.voice.sdp import SessionDescription
from hotline.voice.sip.message import SipRequest, SipResponse
from hotline.voice.sip.server import SipServer
from tests.voice.conftest import Phone
from tests.voice.softphone import TEST_TRUNK

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP {pts}\r\n{extra}"
)


def invite(
    phone: Phone, call_id: str, *, branch: str, cseq: int = 1, to_tag: str = "", sdp: str | None = None
) -> bytes:
    body = (
        sdp or OFFER.format(port=40000, pts="0 101", extra="a=rtpmap:101 telephone-event/8000\r\n")
    ).encode()
    head = (
        "INVITE sip:4008001000@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bK{branch}\r\n"
        f"From: <sip:13800138000@127.0.0.1>;tag=caller\r\nTo: <sip:4008001000@127.0.0.1>{to_tag}\r\n"
        f"Call-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\nContact: <sip:13800138000@127.0.0.1:{phone.port}>\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def in_dialog(
    phone: Phone, method: str, call_id: str, to_tag: str, *, cseq: int, body: bytes = b"", kind: str = ""
) -> bytes:
    head = (
        f"{method} sip:hotline@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bK{method}{cseq}\r\n"
        f"From: <sip:13800138000@127.0.0.1>;tag=caller\r\nTo: <sip:4008001000@127.0.0.1>;tag={to_tag}\r\n"
        f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n" + (f"Content-Type: {kind}\r\n" if kind else "")
        + f"Content-Length: {len(body)}\r\n\r\n"
    )  # fmt: skip
    return head.encode() + body


async def final(phone: Phone, wire: bytes, port: int) -> SipResponse:
    reply = await phone.ask(wire, port)
    while reply.status < 200:
        reply = parse_next(await asyncio.wait_for(phone.inbox.get(), 2))
    return reply


def parse_next(data: bytes) -> SipResponse:
    from hotline.voice.sip.message import parse

    reply = parse(data)
    assert isinstance(reply, SipResponse)
    return reply


def tag_of(reply: SipResponse) -> str:
    return (reply.headers.get("To") or "").split(";tag=")[1]


@pytest.fixture
async def server() -> AsyncIterator[tuple[SipServer, list[Leg]]]:
    answered: list[Leg] = []

    async def hold_the_line(leg: Leg) -> None:
        await leg.answer()
        answered.append(leg)
        leg.variables["digits"] = await leg.collect(max_digits=4, first_timeout=5, next_timeout=2)

    sip = SipServer(
        "127.0.0.1",
        0,
        "hotline",
        {},
        trunks=[TEST_TRUNK],
        application=hold_the_line,
        max_calls=2,
    )
    await sip.start()
    yield sip, answered
    await sip.stop()


async def ack(phone: Phone, sip: SipServer, call_id: str, to_tag: str) -> None:
    assert phone.transport is not None
    phone.transport.sendto(
        in_dialog(phone, "ACK", call_id, to_tag, cseq=1),
        ("127.0.0.1", sip.port),
    )
    await asyncio.sleep(0.05)


async def test_a_retransmitted_invite_makes_one_call_and_the_caller_can_hang_up(
    server: tuple[SipServer, list[Leg]], phone: Phone
) -> None:
    sip, answered = server
    ok = await final(phone, invite(phone, "c1", branch="i1"), sip.port)
    assert ok.status == 200 and SessionDescription.parse(ok.body).audio.formats == [0, 101]
    assert phone.transport is not None
    phone.transport.sendto(
        invite(phone, "c1", branch="i1"), ("127.0.0.1", sip.port)
    )  # lost-200 retransmission
    await ack(phone, sip, "c1", tag_of(ok))
    assert len(sip.engine.legs) == 1 and len(answered) == 1
    bye = await phone.ask(in_dialog(phone, "BYE", "c1", tag_of(ok), cseq=2), sip.port)
    while bye.status != 200 or bye.cseq[1] != "BYE":
        bye = parse_next(await asyncio.wait_for(phone.inbox.get(), 2))
    await asyncio.sleep(0.1)
    assert sip.engine.legs == {}


async def test_beyond_the_call_limit_new_calls_get_503(
    server: tuple[SipServer, list[Leg]], phone: Phone
) -> None:
    sip, _ = server
    for n in range(2):
        assert (await final(phone, invite(phone, f"full{n}", branch=f"f{n}"), sip.port)).status == 200
    counted = REGISTRY.get_sample_value("hotline_sip_requests_refused_total", {"reason": "call-limit"}) or 0
    refused = await final(phone, invite(phone, "full2", branch="f2"), sip.port)
    assert refused.status == 503 and refused.headers.get("Retry-After") == "5"
    assert len(sip.engine.legs) == 2
    assert (
        REGISTRY.get_sample_value("hotline_sip_requests_refused_total", {"reason": "call-limit"})
        == counted + 1
    )


async def test_keys_sent_by_sip_info_are_collected(server: tuple[SipServer, list[Leg]], phone: Phone) -> None:
    sip, answered = server
    ok = await final(phone, invite(phone, "c3", branch="i3"), sip.port)
    await ack(phone, sip, "c3", tag_of(ok))
    for n, key in enumerate("12#"):
        body = f"Signal={key}\r\nDuration=160\r\n".encode()
        reply = await phone.ask(
            in_dialog(phone, "INFO", "c3", tag_of(ok), cseq=2 + n, body=body, kind="application/dtmf-relay"),
            sip.port,
        )
        assert reply.status == 200
    await asyncio.sleep(0.1)
    assert answered[0].variables["digits"] == "12"


async def test_hold_by_re_invite_is_answered_recvonly(
    server: tuple[SipServer, list[Leg]], phone: Phone
) -> None:
    sip, _ = server
    ok = await final(phone, invite(phone, "c4", branch="i4"), sip.port)
    await ack(phone, sip, "c4", tag_of(ok))
    hold = OFFER.format(port=40000, pts="0", extra="a=sendonly\r\n")
    reply = await final(
        phone, invite(phone, "c4", branch="i4b", cseq=2, to_tag=f";tag={tag_of(ok)}", sdp=hold), sip.port
    )
    assert reply.status == 200 and SessionDescription.parse(reply.body).audio.direction.value == "recvonly"


async def test_a_call_without_a_common_codec_gets_488(
    server: tuple[SipServer, list[Leg]], phone: Phone
) -> None:
    sip, _ = server
    g722 = OFFER.format(port=40000, pts="9", extra="a=rtpmap:9 G722/8000\r\n")
    assert (await final(phone, invite(phone, "c5", branch="i5", sdp=g722), sip.port)).status == 488
    assert sip.engine.legs == {}


async def test_hotline_hangs_up_with_a_bye_it_resends_until_answered(phone: Phone) -> None:
    async def short(leg: Leg) -> None:
        await leg.answer()
        await asyncio.sleep(0.05)  # the application ends: Hotline hangs up

    sip = SipServer("127.0.0.1", 0, "hotline", {}, trunks=[TEST_TRUNK], application=short)
    await sip.start()
    try:
        ok = await final(phone, invite(phone, "c6", branch="i6"), sip.port)
        await ack(phone, sip, "c6", tag_of(ok))
        first = parse_request(await asyncio.wait_for(phone.inbox.get(), 2))
        again = parse_request(await asyncio.wait_for(phone.inbox.get(), 2))  # not answered: re-sent after T1
        assert (first.method, again.method) == ("BYE", "BYE") and bytes(first) == bytes(again)
        assert phone.transport is not None
        reply = SipResponse(first.headers.copy(), b"", 200, "OK")
        phone.transport.sendto(bytes(reply), ("127.0.0.1", sip.port))
        with pytest.raises(TimeoutError):  # answered: no more BYEs
            await asyncio.wait_for(phone.inbox.get(), 1.5)
    finally:
        await sip.stop()


def parse_request(data: bytes) -> SipRequest:
    from hotline.voice.sip.message import parse

    request = parse(data)
    assert isinstance(request, SipRequest)
    return request


async def test_a_second_invite_before_the_answer_gets_500_and_never_answers_the_call(phone: Phone) -> None:
    """A caller re-sending INVITE with a new CSeq while the IVR is still deciding: RFC 3261 §14.2
    says 500 with Retry-After. It once went down the re-INVITE path, answered the call behind
    the application's back, and the application's refusal then became a BYE (found by the fuzz)."""
    deciding = asyncio.Event()

    async def refuse_after_a_while(leg: Leg) -> None:
        await deciding.wait()
        await leg.hang_up()

    sip = SipServer("127.0.0.1", 0, "hotline", {}, trunks=[TEST_TRUNK], application=refuse_after_a_while)
    await sip.start()
    try:
        trying = await phone.ask(invite(phone, "twice", branch="t1"), sip.port)
        assert trying.status == 100
        again = await phone.ask(invite(phone, "twice", branch="t2", cseq=2), sip.port)
        assert again.status == 500 and 0 <= int(again.headers.get("Retry-After") or "x") <= 10
        stranger = await phone.ask(invite(phone, "twice", branch="t3", cseq=3, to_tag=";tag=nope"), sip.port)
        assert stranger.status == 500  # still no final answer: the same refusal, not a re-INVITE
        deciding.set()
        refused = parse_next(await asyncio.wait_for(phone.inbox.get(), 2))
        assert refused.status == 480 and refused.cseq == (1, "INVITE")
        await asyncio.sleep(0.1)
        assert sip.engine.legs == {} and phone.inbox.empty()  # and no BYE behind it
    finally:
        await sip.stop()


async def test_an_invite_naming_another_dialog_of_a_live_call_gets_481(
    server: tuple[SipServer, list[Leg]], phone: Phone
) -> None:
    sip, _ = server
    ok = await final(phone, invite(phone, "c6", branch="i6"), sip.port)
    await ack(phone, sip, "c6", tag_of(ok))
    for to_tag in ("", ";tag=someone-else"):
        wire = invite(phone, "c6", branch=f"i6{to_tag[-4:]}", cseq=2, to_tag=to_tag)
        reply = await phone.ask(wire, sip.port)
        assert reply.status == 481
    assert len(sip.engine.legs) == 1
