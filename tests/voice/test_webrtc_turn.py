"""Agents outside the LAN (docs/voice.md, "Agents outside the LAN"): a browser whose only way out
is a TURN relay — Debian's coturn on loopback, run as docs/voice.md says — still calls in and is
heard both ways. Its credential is the one Hotline's settings issue (coturn's `use-auth-secret`:
no TURN password is stored anywhere); a credential made under another secret gets no relay."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCSessionDescription
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.telephony.phone import ice_servers
from hotline.voice.media.g711 import ulaw_decode
from hotline.voice.rtp.webrtc import WebRtcSession
from hotline.voice.sdp import SessionDescription
from tests.conftest import free_port
from tests.voice.audio import tone_share
from tests.voice.test_webrtc import Harness, eventually, harness, voiced

__all__ = ["harness"]  # the fixture, shared with the WebRTC tests

pytestmark = pytest.mark.skipif(shutil.which("turnserver") is None, reason="make test installs coturn")

SECRET = "coturn-static-auth-secret-for-the-test"
RELAY_PORTS = (41000, 41999)


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[int]:
    """coturn on 127.0.0.1 with the REST-API credentials Hotline issues (`use-auth-secret`),
    relaying to loopback peers (the engine); the port it listens on."""
    port = free_port()
    process = subprocess.Popen(
        [
            "turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
            f"--listening-port={port}", f"--min-port={RELAY_PORTS[0]}", f"--max-port={RELAY_PORTS[1]}",
            "--use-auth-secret", f"--static-auth-secret={SECRET}", "--realm=hotline",
            "--allow-loopback-peers", "--no-tls", "--no-dtls", "--no-cli", "--fingerprint",
            f"--db={tmp_path / 'turndb'}", f"--pidfile={tmp_path / 'turnserver.pid'}",
            f"--log-file={tmp_path / 'turn.log'}", "--simple-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:  # it listens on TCP and UDP alike: a TCP connect says it is up
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "coturn did not start"
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def relay_only(port: int, secret: str) -> RTCConfiguration:
    """What the desktop's browser phone is given (ice_servers, as POST /api/phone/credentials
    returns them), with the browser allowed nothing but the relay."""
    settings = Settings(
        phone_stun_urls=[f"stun:127.0.0.1:{port}"],
        phone_turn_urls=[f"turn:127.0.0.1:{port}?transport=udp"],
        phone_turn_secret=secret,  # type: ignore[arg-type]
    )
    servers = ice_servers(settings, "1001", utcnow() + timedelta(hours=1))
    assert [s.username is None for s in servers] == [True, False]  # STUN, then TURN with a credential
    return RTCConfiguration(
        iceServers=[RTCIceServer(urls=s.urls, username=s.username, credential=s.credential) for s in servers],
        iceTransportPolicy=RTCIceTransportPolicy.RELAY,
    )


async def test_a_browser_that_can_only_use_turn_calls_in_through_coturn_and_both_ends_hear_each_other(
    coturn: int,
    harness: Harness,  # coturn first: it outlives the browser, which says goodbye to it
) -> None:
    desk, legs, _ = await harness.desk_phone_answers()
    browser, end = harness.browser(1000, relay_only(coturn, SECRET)), await harness.sip_end()
    offered = await browser.offer()
    relays = [line for line in offered.splitlines() if line.startswith("a=candidate") and "typ relay" in line]
    assert relays and all("typ host" not in line for line in offered.splitlines())  # the relay alone
    reply = await end.call("4008001000", offered)
    assert reply.status == 200
    await browser.pc.setRemoteDescription(RTCSessionDescription(reply.body.decode(), "answer"))
    await asyncio.wait_for(desk.answered.wait(), 5)
    await eventually(lambda: len(legs) == 2, 5)
    session = legs[0].rtp  # type: ignore[attr-defined]
    assert isinstance(session, WebRtcSession)
    await asyncio.wait_for(session.secured.wait(), 10)
    # the engine's ICE-lite latched the relay's address: coturn's port range, not the browser's own
    assert session.remote[0] == "127.0.0.1" and RELAY_PORTS[0] <= session.remote[1] <= RELAY_PORTS[1]
    await desk.send_tone(400, 2000)
    await asyncio.sleep(0.3)
    heard_by_desk = [packet.payload for _, packet in desk.rtp.packets]
    assert len(heard_by_desk) > 50
    assert tone_share(ulaw_decode(b"".join(heard_by_desk[-50:])), 1000) > 0.8  # the browser, relayed
    assert tone_share(voiced(browser.samples())[-6000:-800], 400) > 0.8  # the desk phone, relayed back
    assert session.rejected_packets == 0


async def test_a_turn_credential_made_under_another_secret_gets_no_relay(coturn: int) -> None:
    from tests.voice.test_webrtc import Browser

    browser = Browser(1000, relay_only(coturn, "not-the-secret-coturn-was-given"))
    try:
        offered = await browser.offer()
    finally:
        await browser.close()
    assert not [line for line in offered.splitlines() if line.startswith("a=candidate")]
    assert SessionDescription.parse(offered).audio.candidates == []


async def test_behind_a_nat_browsers_are_offered_the_outside_address_as_well(harness: Harness) -> None:
    """`media_address`: the engine's media as seen from outside (a NAT's 1:1 or forwarded address)
    is a second candidate on the same port, after the engine's own."""
    harness.sip.engine.media_address = "203.0.113.7"
    browser, end = harness.browser(1000), await harness.sip_end()
    reply = await end.call("4008001000", await browser.offer())
    assert reply.status == 200
    audio = SessionDescription.parse(reply.body).audio
    assert [(c.address, c.port) for c in audio.candidates] == [
        ("127.0.0.1", audio.port),
        ("203.0.113.7", audio.port),
    ]
    assert audio.candidates[0].priority > audio.candidates[1].priority
    end.send(end.in_dialog("BYE", reply, cseq=2))
