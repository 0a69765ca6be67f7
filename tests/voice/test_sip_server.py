"""The SIP server over real UDP and TCP sockets on loopback: OPTIONS, REGISTER with digest,
retransmissions, malformed input, scanners."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.voice.sip.digest import Algorithm, answer_challenges, hashed, parse_credentials
from hotline.voice.sip.server import SipServer
from tests.voice.conftest import Phone
from tests.voice.test_sip_message import messages

PASSWORDS = {"1001": "sip1001", "1002": "sip1002"}


def register(
    phone_port: int,
    branch: str,
    *,
    ext: str = "1001",
    auth: str | None = None,
    expires: int = 600,
    cseq: int = 1,
) -> bytes:
    lines = [
        "REGISTER sip:127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{phone_port};branch=z9hG4bK{branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:{ext}@127.0.0.1>;tag=a{branch}",
        f"To: <sip:{ext}@127.0.0.1>",
        f"Call-ID: reg-{ext}@127.0.0.1",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:{ext}@127.0.0.1:{phone_port}>",
        f"Expires: {expires}",
    ]
    if auth:
        lines.append(f"Authorization: {auth}")
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def answer_challenge(challenge: str, password: str, *, ext: str = "1001") -> str:
    header = answer_challenges(
        [challenge], username=ext, password=password, method="REGISTER", uri="sip:127.0.0.1"
    )
    assert header is not None
    return header


@pytest.fixture
async def server() -> AsyncIterator[SipServer]:
    sip = SipServer(
        "127.0.0.1",
        0,
        "hotline",
        hashed(PASSWORDS),
        secret=b"s" * 32,
        algorithms=(Algorithm.MD5, Algorithm.SHA256),
    )
    await sip.start()
    yield sip
    await sip.stop()


async def test_options_keepalive_is_answered_with_what_we_support(server: SipServer, phone: Phone) -> None:
    wire = (
        f"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bKo1\r\n"
        "From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n\r\n"
    ).encode()
    reply = await phone.ask(wire, server.port)
    assert reply.status == 200 and "REGISTER" in (reply.headers.get("Allow") or "")
    assert ";tag=" in (reply.headers.get("To") or "") and reply.call_id == "o1"


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
async def test_an_extension_registers_with_its_password_and_is_refused_with_another(
    server: SipServer, phone: Phone, algorithm: str
) -> None:
    challenge = await phone.ask(register(phone.port, "r1"), server.port)
    assert challenge.status == 401
    offered = challenge.headers.get_all("WWW-Authenticate")
    assert [parse_credentials(c)[1]["algorithm"] for c in offered] == ["MD5", "SHA-256"]
    chosen = next(c for c in offered if f"algorithm={algorithm}" in c)

    wrong = await phone.ask(
        register(phone.port, "r2", auth=answer_challenge(chosen, "guess"), cseq=2), server.port
    )
    assert wrong.status == 401 and server.registrar.contacts("1001") == []

    ok = await phone.ask(
        register(phone.port, "r3", auth=answer_challenge(chosen, "sip1001"), cseq=3), server.port
    )
    assert ok.status == 200
    assert ok.headers.get_all("Contact") == [f"<sip:1001@127.0.0.1:{phone.port}>;expires=600"]
    assert [b.contact for b in server.registrar.contacts("1001")] == [f"sip:1001@127.0.0.1:{phone.port}"]

    gone = await phone.ask(
        register(phone.port, "r4", auth=answer_challenge(chosen, "sip1001"), expires=0, cseq=4), server.port
    )
    assert gone.status == 200 and server.registrar.contacts("1001") == []


async def test_one_extension_cannot_register_another(server: SipServer, phone: Phone) -> None:
    challenge = (await phone.ask(register(phone.port, "x1", ext="1002"), server.port)).headers.get_all(
        "WWW-Authenticate"
    )[0]
    # signs as 1001 with 1001's password, but asks for 1002's calls
    forged = register(
        phone.port, "x2", ext="1002", auth=answer_challenge(challenge, "sip1001", ext="1001"), cseq=2
    )
    assert (await phone.ask(forged, server.port)).status == 403
    assert server.registrar.contacts("1002") == []


async def test_a_retransmitted_request_gets_the_same_answer_and_is_handled_once(
    server: SipServer, phone: Phone
) -> None:
    first = await phone.ask(register(phone.port, "rt"), server.port)
    again = await phone.ask(register(phone.port, "rt"), server.port)
    assert bytes(first) == bytes(again)
    assert server.stats.retransmissions == 1 and server.guard.refused == 0


async def test_malformed_requests_get_400_and_garbage_is_dropped(server: SipServer, phone: Phone) -> None:
    broken = register(phone.port, "m1").replace(b"CSeq: 1 REGISTER", b"CSeq: 1 INVITE")
    reply = await phone.ask(broken, server.port)
    assert reply.status == 400 and "does not match" in (reply.headers.get("Warning") or "")
    assert phone.transport is not None
    phone.transport.sendto(b"\x00\xffnot sip at all", ("127.0.0.1", server.port))
    with pytest.raises(TimeoutError):
        await phone.ask(b"", server.port, wait=0.3)
    assert server.transports.malformed == 2


async def test_a_400_is_sent_only_when_the_request_can_be_told_apart_and_never_to_an_ack(
    server: SipServer, phone: Phone
) -> None:
    """Found by the socket fuzz: a 400 used to copy a malformed Via, so the answer itself did not
    parse at the sender (and could not be matched to its request); an ACK must never be answered."""
    bad_via = register(phone.port, "b1").replace(
        f"SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bKb1;rport".encode(), "²".encode()
    )
    bad_ack = (
        register(phone.port, "b2")
        .replace(b"REGISTER sip:", b"ACK sip:")
        .replace(b"CSeq: 1 REGISTER", b"CSeq: x")
    )
    lf_only = (
        register(phone.port, "b3").replace(b"CSeq: 1 REGISTER", b"CSeq: 1 INVITE").replace(b"\r\n", b"\n")
    )
    assert phone.transport is not None
    for wire in (bad_via, bad_ack):
        phone.transport.sendto(wire, ("127.0.0.1", server.port))
    reply = await phone.ask(lf_only, server.port)  # a message with bare LF line ends is answered too
    assert reply.status == 400 and reply.vias[0].branch == "z9hG4bKb3"
    assert server.transports.malformed == 3 and phone.inbox.empty()


async def test_an_unreadable_expires_falls_back_to_the_default_instead_of_raising(
    server: SipServer, phone: Phone
) -> None:
    challenge = (await phone.ask(register(phone.port, "e1"), server.port)).headers.get_all(
        "WWW-Authenticate"
    )[0]
    signed = register(phone.port, "e2", auth=answer_challenge(challenge, "sip1001"), cseq=2)
    signed = signed.replace(b"Expires: 600", "Expires: ²".encode()).replace(
        b">\r\nExpires", b">;expires=" + b"9" * 5000 + b"\r\nExpires"
    )
    reply = await phone.ask(signed, server.port)
    assert reply.status == 200 and reply.headers.get_all("Contact")[0].endswith(";expires=3600")


async def test_a_scanner_guessing_passwords_is_blocked(server: SipServer, phone: Phone) -> None:
    challenge = (await phone.ask(register(phone.port, "s0"), server.port)).headers.get_all(
        "WWW-Authenticate"
    )[0]
    for i in range(server.guard.max_failures):
        reply = await phone.ask(
            register(phone.port, f"s{i + 1}", auth=answer_challenge(challenge, f"pw{i}"), cseq=i + 2),
            server.port,
        )
        assert reply.status == 401
    # Now even the right password gets no answer from this address.
    assert phone.transport is not None
    phone.transport.sendto(
        register(phone.port, "late", auth=answer_challenge(challenge, "sip1001"), cseq=99),
        ("127.0.0.1", server.port),
    )
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(phone.inbox.get(), 0.3)
    assert server.stats.dropped_blocked == 1 and server.registrar.contacts("1001") == []


async def test_registration_over_tcp(server: SipServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(register(5999, "t1").replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP"))
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
    assert head.startswith(b"SIP/2.0 401 Unauthorized")
    writer.close()


async def test_a_tcp_peer_that_stalls_half_way_through_a_message_is_disconnected(server: SipServer) -> None:
    """Half a message, then silence: the connection (and its reader task) does not stay forever."""
    server.transports.tcp_idle_seconds = 0.3
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(register(5999, "half").replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")[:80])
    await writer.drain()
    await asyncio.sleep(0.05)
    assert server.transports.connections == 1
    assert await asyncio.wait_for(reader.read(), 2) == b""  # closed by the server
    writer.close()
    assert server.transports.connections == 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=messages(), source_port=st.integers(1024, 65535))
async def test_no_parsed_message_makes_the_server_raise(
    server: SipServer, message: object, source_port: int
) -> None:
    """Whatever a peer sends that parses, the server answers or ignores it; nothing escapes."""
    from hotline.voice.sip.transport import Peer

    server.on_message(message, Peer("UDP", "127.0.0.1", source_port))  # type: ignore[arg-type]
    await asyncio.sleep(0)
