"""A voice node behind the site's SIP edge (voice/sip/edge.py): the edge names a request's real
sender and only a configured edge is believed; trunks are recognised, and scanners blocked, by
their own address, never the edge's; a phone registered through the edge keeps its Path."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hotline.core.config import Settings
from hotline.voice.control import Leg
from hotline.voice.sip.digest import hashed
from hotline.voice.sip.edge import Edges, parse_edge, parse_source, path_peer
from hotline.voice.sip.server import SipServer
from hotline.voice.sip.transport import Peer
from hotline.voice.sip.trunk import Trunk
from tests.voice.conftest import Phone
from tests.voice.test_sip_server import answer_challenge, register

CARRIER = Trunk("carrier", "192.0.2.10", dids={"4008001000": "hotel"}, outbound=False)
SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"


@given(
    st.ip_addresses(),
    st.integers(1, 65535),
    st.sampled_from(["udp", "tcp", "tls", "ws", "wss"]),
    st.booleans(),
)
def test_the_sender_an_edge_names_is_read_back_whatever_the_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int, transport: str, brackets: bool
) -> None:
    host = f"[{address}]" if brackets and address.version == 6 else str(address)  # Kamailio: no brackets
    peer = parse_source(f"{host}:{port};transport={transport}")
    assert peer == Peer(transport.upper(), str(address), port)


@given(st.text(max_size=60))
def test_anything_else_in_the_header_is_no_sender(text: str) -> None:
    peer = parse_source(text)
    assert peer is None or ipaddress.ip_address(peer.host) is not None


def test_edges_and_paths_are_read_as_an_operator_writes_them() -> None:
    assert parse_edge("127.0.0.1:5060") == ("127.0.0.1", 5060)
    assert parse_edge("[::1]:5060") == ("::1", 5060)
    for wrong in ("127.0.0.1", "edge.example:5060", "127.0.0.1:0", "127.0.0.1:５０６０"):
        with pytest.raises(ValueError, match="not an edge address"):
            parse_edge(wrong)
    assert path_peer("<sip:10.0.0.5:5070;lr;received=sip:198.51.100.7:5060>") == Peer("UDP", "10.0.0.5", 5070)
    assert path_peer("<sip:10.0.0.5;lr>") == Peer("UDP", "10.0.0.5", 5060)
    assert path_peer("<sip:edge.example;lr>") is None


def invite(phone_port: int, call: str, *, source: str | None = None) -> bytes:
    lines = [
        "INVITE sip:4008001000@127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{phone_port};branch=z9hG4bK{call}",
        "Max-Forwards: 70",
        f"From: <sip:13800138000@192.0.2.10>;tag={call}",
        "To: <sip:4008001000@127.0.0.1>",
        f"Call-ID: {call}@edge",
        "CSeq: 1 INVITE",
        f"Contact: <sip:13800138000@127.0.0.1:{phone_port}>",
        "Content-Type: application/sdp",
    ]
    if source is not None:
        lines.append(f"X-Hotline-Source: {source}")
    return ("\r\n".join(lines) + f"\r\nContent-Length: {len(SDP)}\r\n\r\n{SDP}").encode()


async def hold(leg: Leg) -> None:
    await leg.ended.wait()


async def udp_phone() -> Phone:
    _, phone = await asyncio.get_running_loop().create_datagram_endpoint(Phone, local_addr=("127.0.0.1", 0))
    return phone


@pytest.fixture
async def edge() -> AsyncIterator[Phone]:
    phone = await udp_phone()
    yield phone
    assert phone.transport is not None
    phone.transport.close()


@pytest.fixture
async def server(edge: Phone) -> AsyncIterator[SipServer]:
    sip = SipServer(
        "127.0.0.1", 0, "hotline", hashed({"1001": "sip1001"}), trunks=[CARRIER], application=hold,
        edge_proxies=(f"127.0.0.1:{edge.port}",), receive_buffer=None,
    )  # fmt: skip
    await sip.start()
    yield sip
    await sip.stop()


async def test_a_carrier_behind_the_edge_is_let_in_by_its_own_address(server: SipServer, edge: Phone) -> None:
    reply = await edge.ask(invite(edge.port, "c1", source="192.0.2.10:5060;transport=udp"), server.port)
    assert reply.status == 100
    assert "c1@edge" in server.engine.legs

    stranger = await edge.ask(invite(edge.port, "c2", source="198.51.100.7:5060;transport=udp"), server.port)
    assert stranger.status == 401  # not the carrier: an extension must sign
    assert "c2@edge" not in server.engine.legs


async def test_only_a_configured_edge_may_name_the_sender(server: SipServer, edge: Phone) -> None:
    other = await udp_phone()
    try:
        forged = await other.ask(
            invite(other.port, "c3", source="192.0.2.10:5060;transport=udp"), server.port
        )
    finally:
        assert other.transport is not None
        other.transport.close()
    assert forged.status == 401
    assert not server.engine.legs


async def test_a_scanner_behind_the_edge_is_blocked_and_the_edge_is_not(
    server: SipServer, edge: Phone
) -> None:
    scanner = "198.51.100.7:40000;transport=udp"
    for attempt in range(server.guard.max_failures):
        wire = register(edge.port, f"s{attempt}", auth=None)
        first = await edge.ask(with_source(wire, scanner), server.port)
        assert first.status == 401
        signed = register(
            edge.port,
            f"t{attempt}",
            auth=answer_challenge(first.headers.get("WWW-Authenticate") or "", "guess"),
        )
        assert (await edge.ask(with_source(signed, scanner), server.port)).status == 401
    assert server.guard.blocked_hosts() == ["198.51.100.7"]

    phone = register(edge.port, "ok", cseq=5)
    reply = await edge.ask(with_source(phone, "203.0.113.9:5060;transport=tls"), server.port)
    assert reply.status == 401  # another phone through the same edge is still answered


def with_source(wire: bytes, source: str, *extra: str) -> bytes:
    head, _, body = wire.partition(b"\r\n\r\n")
    lines = [f"X-Hotline-Source: {source}", *extra]
    return head + b"".join(f"\r\n{line}".encode() for line in lines) + b"\r\n\r\n" + body


async def test_a_phone_registered_through_the_edge_keeps_its_path(server: SipServer, edge: Phone) -> None:
    path = f"<sip:127.0.0.1:{edge.port};lr;received=sip:203.0.113.9:5062>"
    source = "203.0.113.9:5062;transport=udp"
    first = await edge.ask(with_source(register(edge.port, "p1"), source, f"Path: {path}"), server.port)
    auth = answer_challenge(first.headers.get("WWW-Authenticate") or "", "sip1001")
    signed = with_source(register(edge.port, "p2", auth=auth, cseq=2), source, f"Path: {path}")
    reply = await edge.ask(signed, server.port)
    assert reply.status == 200
    assert reply.headers.get_all("Path") == [path]
    [binding] = server.registrar.contacts("1001")
    assert binding.path == (path,)

    other = await udp_phone()  # Path from anyone else is no way to reach a phone
    try:
        first = await other.ask(register(other.port, "q1", ext="1001"), server.port)
        auth = answer_challenge(first.headers.get("WWW-Authenticate") or "", "sip1001")
        wire = register(other.port, "q2", auth=auth, cseq=2).replace(
            b"\r\n\r\n", f"\r\nPath: {path}\r\n\r\n".encode()
        )
        assert (await other.ask(wire, server.port)).status == 200
    finally:
        assert other.transport is not None
        other.transport.close()
    direct = [b for b in server.registrar.contacts("1001") if b.peer.port != edge.port]
    assert [b.path for b in direct] == [()]


@pytest.mark.parametrize("edge", ["kamailio.internal:5060", "10.0.0.10", "10.0.0.10:0", "10.0.0.10:70000"])
def test_an_edge_that_is_not_ip_and_port_is_refused_at_start(edge: str) -> None:
    with pytest.raises(ValidationError, match="sip_edge_proxies"):
        Settings(sip_edge_proxies=[edge])  # type: ignore[call-arg]


def test_edges_as_the_operator_lists_them() -> None:
    settings = Settings(sip_edge_proxies=["10.0.0.10:5060", "[2001:db8::10]:5060"])  # type: ignore[call-arg]
    assert Edges.of(settings.sip_edge_proxies).addresses == {("10.0.0.10", 5060), ("2001:db8::10", 5060)}
