"""The browser phone's signalling: SIP over WebSocket (RFC 7118) on the web server's port, with a
credential bound to the agent's web session. agent1 signs in, fetches a credential, opens
`/api/phone/ws` with the `sip` subprotocol, registers, is rung and answers, hangs up; the binding
lives as long as the socket, and sign-out closes it. Everything else is refused, and says why."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest
import websockets
import websockets.exceptions

from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.voice.control import EndReason, OriginateFailed
from hotline.voice.sip.credentials import PhoneCredential
from hotline.voice.sip.message import SipRequest, SipResponse, response_to
from tests.conftest import Users, assert_problem, free_port, make_settings
from tests.voice.softphone import Softphone
from tests.voice.wsphone import WsPhone

TURN_SECRET = "coturn-static-auth-secret"
TURN_UDP, TURN_TLS = (
    "turn:turn.hotel.example:3478?transport=udp",
    "turns:turn.hotel.example:5349?transport=tcp",
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url, roles=["api", "voice"], sip_port=free_port(),
        phone_stun_urls=["stun:stun.hotel.example:3478"],
        phone_turn_urls=[TURN_UDP, TURN_TLS], phone_turn_secret=TURN_SECRET,
    )  # fmt: skip


def cookie_of(client: httpx.AsyncClient) -> dict[str, str]:
    return {"Cookie": f"hotline_session={client.cookies.get('hotline_session')}"}


@asynccontextmanager
async def phone_socket(served: str, client: httpx.AsyncClient | None, **headers: str) -> AsyncIterator[Any]:
    url = served.replace("http", "ws") + "/api/phone/ws"
    headers |= cookie_of(client) if client is not None else {}
    async with websockets.connect(url, subprotocols=["sip"], additional_headers=headers) as ws:  # type: ignore[list-item]
        yield ws


async def closed_with(served: str, client: httpx.AsyncClient | None) -> tuple[int, str]:
    async with phone_socket(served, client) as ws:
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


async def test_an_agent_registers_in_the_browser_is_rung_answers_and_the_binding_goes_with_the_socket(
    seeded: Context, users: Users, served: str, app: Any
) -> None:
    sip = app.state.hotline.sip
    told: list[str] = []
    sip.registrar.listeners.append(told.append)
    agent = await users("agent1")
    issued = await agent.post("/api/phone/credentials")
    assert issued.status_code == 200, issued.text
    creds = issued.json()
    assert creds["extension"] == "1001" and creds["sip_uri"] == "sip:1001@hotline"
    assert creds["realm"] == "hotline" and creds["ws_path"] == "/api/phone/ws"
    assert creds["authorization_user"].startswith("1001.") and creds["password"] != "sip1001"
    expires_at = datetime.fromisoformat(creds["expires_at"])
    left = (expires_at - datetime.now().astimezone()).total_seconds()
    assert 11.9 * 3600 < left <= 12 * 3600  # a 14-hour session: the 12-hour cap
    # STUN, and TURN with a credential of coturn's REST kind that ends with the phone's
    stun, turn = creds["ice_servers"]
    assert stun == {"urls": ["stun:stun.hotel.example:3478"], "username": None, "credential": None}
    assert turn["urls"] == [
        "turn:turn.hotel.example:3478?transport=udp",
        "turns:turn.hotel.example:5349?transport=tcp",
    ]
    assert turn["username"] == f"{int(expires_at.timestamp())}:1001"
    signed = hmac.new(TURN_SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(signed).decode()

    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    try:
        async with phone_socket(served, agent) as ws:
            assert ws.subprotocol == "sip"
            phone = WsPhone(ws, "1001")
            challenge, registered = await phone.register(creds["authorization_user"], creds["password"])
            assert challenge.status == 401 and "stale" not in (
                challenge.headers.get("WWW-Authenticate") or ""
            )
            assert registered.status == 200, bytes(registered)
            assert phone.contact in (registered.headers.get("Contact") or "")
            (binding,) = sip.registrar.contacts("1001")
            assert binding.contact == phone.contact and binding.peer.transport == "WS"
            assert told == ["1001"]

            # rung: the INVITE comes over this socket, to the binding's Contact
            ringing = asyncio.create_task(sip.engine.originate("1001", caller="4008001000", ring_for=10))
            invite = await phone.ring(media.getsockname()[1])
            assert invite.uri == phone.contact
            assert invite.vias[0].transport == "WS"
            assert ";transport=ws" in (invite.headers.get("Contact") or "")
            await phone.send(phone.answer(invite))
            ack = await phone.receive()
            assert isinstance(ack, SipRequest) and ack.method == "ACK" and ack.uri == phone.contact
            leg = await asyncio.wait_for(ringing, 5)
            assert leg.state.value == "answered"

            # the agent hangs up in the browser: a BYE over the socket ends the leg
            ok = await phone.request(phone.bye(invite))
            assert ok.status == 200
            await asyncio.wait_for(leg.ended.wait(), 5)
            assert leg.cdr.end_reason is EndReason.CALLER_HUNG_UP

            # a call the agent does not answer is cancelled over the socket too
            missed = asyncio.create_task(sip.engine.originate("1001", ring_for=1.0))
            invite = await phone.ring(media.getsockname()[1])
            cancel = await phone.receive()
            assert isinstance(cancel, SipRequest) and cancel.method == "CANCEL"
            await phone.send(response_to(cancel, 200, "OK", to_tag="browser"))
            await phone.send(response_to(invite, 487, "Request Terminated", to_tag="browser"))
            ack = await phone.receive()
            assert isinstance(ack, SipRequest) and ack.method == "ACK"
            with pytest.raises(OriginateFailed) as unanswered:
                await missed
            assert unanswered.value.reason is EndReason.NO_ANSWER

            # garbage never ends the connection: dropped, or 400 when it can be answered
            await ws.send(b"\x00\xff\xfe not SIP at all")
            lying = (
                "OPTIONS sip:hotline SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bKlie\r\n"
                "From: <sip:1001@hotline>;tag=a\r\nTo: <sip:hotline>\r\nCall-ID: lie\r\n"
                "CSeq: 1 OPTIONS\r\nContent-Length: 99\r\n\r\n"
            )
            await ws.send(lying)
            bad = await phone.receive()
            assert isinstance(bad, SipResponse) and bad.status == 400 and bad.call_id == "lie"
            options = phone.register_request()
            probe = SipRequest(options.headers.copy(), b"", "OPTIONS", "sip:hotline")
            probe.headers.set("CSeq", "9 OPTIONS")
            assert (await phone.request(probe)).status == 200

            # a call in progress when the socket drops
            ringing = asyncio.create_task(sip.engine.originate("1001", ring_for=10))
            talking = await phone.ring(media.getsockname()[1])
            await phone.send(phone.answer(talking))
            await phone.receive()  # ACK
            leg = await asyncio.wait_for(ringing, 5)
        await eventually(lambda: not sip.registrar.contacts("1001"))
        assert not sip.engine.reachable("1001") and told == ["1001", "1001"]
        assert sip.transports.websockets == 0 and leg.state.value == "answered"

        # the browser comes back on a new socket (a network blip) and registers again with the same
        # credential; its re-INVITE (an ICE restart) moves the call to the new socket, so Hotline's
        # BYE reaches it; signing out closes the socket and the phone is gone at once
        async with phone_socket(served, agent) as ws:
            again = WsPhone(ws, "1001")
            again.contact, again.media_port = phone.contact, media.getsockname()[1]
            _, registered = await again.register(creds["authorization_user"], creds["password"])
            assert registered.status == 200
            assert sip.engine.reachable("1001")
            restarted = await again.request(again.in_dialog(talking, "INVITE", 2))
            assert restarted.status == 200 and b"m=audio" in restarted.body
            await again.send(again.in_dialog(talking, "ACK", 2))
            await leg.hang_up()
            bye = await again.receive()
            assert isinstance(bye, SipRequest) and bye.method == "BYE" and bye.call_id == talking.call_id
            await again.send(response_to(bye, 200, "OK"))
            assert (await agent.post("/api/auth/logout")).status_code == 204
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        await eventually(lambda: not sip.engine.reachable("1001"))
    finally:
        media.close()

    admin = await users("admin")
    audit = (await admin.get("/api/audit", params={"action": "telephony.phone_credentials"})).json()
    assert audit["total"] == 1 and audit["items"][0]["after"]["extension"] == "1001"
    assert creds["password"] not in str(audit)


async def test_a_browser_phone_is_refused_without_a_session_permission_extension_or_its_own_credential(
    seeded: Context, users: Users, served: str, app: Any
) -> None:
    sip = app.state.hotline.sip
    url = served.replace("http", "ws") + "/api/phone/ws"
    agent1, agent2 = await users("agent1"), await users("agent2")
    finance, teamlead = await users("finance"), await users("teamlead")

    # the credential: a web session with the permission and an extension
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hotline.test")
    async with anonymous:
        assert_problem(await anonymous.post("/api/phone/credentials"), 401, "not-authenticated")
    assert_problem(await finance.post("/api/phone/credentials"), 403, "permission-denied")
    missing = assert_problem(await teamlead.post("/api/phone/credentials"), 404, "not-found")
    assert missing["reason"] == "user-has-no-extension"

    # the socket: the sip subprotocol, a session, the permission, an extension
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(url, additional_headers=cookie_of(agent1)):
            pass
    assert await closed_with(served, None) == (4401, "not signed in")
    assert (await closed_with(served, finance))[0] == 4403
    assert await closed_with(served, teamlead) == (4403, "no extension for this user")

    mine = (await agent1.post("/api/phone/credentials")).json()
    theirs = (await agent2.post("/api/phone/credentials")).json()
    key = sip.registrar.phone_key
    old = PhoneCredential.issue("1001", 1_700_000_000)
    # behind the web UI's TLS proxy (trusted by uvicorn on loopback) the socket is WSS
    async with phone_socket(served, agent1, **{"X-Forwarded-Proto": "https"}) as ws:
        phone = WsPhone(ws, "1001")
        _, expired = await phone.register(old.username, old.password(key))
        assert expired.status == 401 and "stale" not in (expired.headers.get("WWW-Authenticate") or "")
        _, forged = await phone.register(mine["authorization_user"], "not-the-password")
        assert forged.status == 401
        _, own_password = await phone.register("1001", "sip1001")  # desk phones only
        assert own_password.status == 401
        _, other = await phone.register(theirs["authorization_user"], theirs["password"], extension="1002")
        assert other.status == 403
        _, other_aor = await phone.register(mine["authorization_user"], mine["password"], extension="1002")
        assert other_aor.status == 403
        assert not sip.registrar.contacts("1001") and not sip.registrar.contacts("1002")
        _, registered = await phone.register(mine["authorization_user"], mine["password"])
        assert registered.status == 200  # still usable after all that
        (binding,) = sip.registrar.contacts("1001")
        assert binding.peer.transport == "WSS"

    # the session's credential over UDP is refused like a wrong password; the desk phone's own
    # password still works there
    desk = await Softphone.open("1002", theirs["password"], sip.port)
    try:
        assert await desk.register(username=theirs["authorization_user"]) == 401
        assert await desk.register(password="sip1002") == 200
    finally:
        desk.close()


async def test_an_agent_is_rung_on_the_phone_they_chose_when_desk_and_browser_are_both_registered(
    seeded: Context, users: Users, served: str, app: Any, settings: Settings
) -> None:
    sip, router = app.state.hotline.sip, app.state.hotline.router
    agent = await users("agent1")
    creds = (await agent.post("/api/phone/credentials")).json()
    desk = await Softphone.open("1001", "sip1001", settings.sip_port, mode="ring")
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    try:
        assert await desk.register() == 200
        async with phone_socket(served, agent) as ws:
            browser = WsPhone(ws, "1001")
            _, registered = await browser.register(creds["authorization_user"], creds["password"])
            assert registered.status == 200 and len(sip.registrar.contacts("1001")) == 2

            # 浏览器 chosen: the next call rings the browser only, not the desk phone beside it
            chosen = await agent.put("/api/routing/me/phone", json={"phone": "browser"})
            assert chosen.status_code == 200, chosen.text
            seat = router.runner.seats[chosen.json()["user_id"]]
            await eventually(lambda: seat.phone == "browser")
            ringing = asyncio.create_task(sip.engine.originate("1001", ring_for=5, phone=seat.phone))
            invite = await browser.ring(media.getsockname()[1])
            await browser.send(browser.answer(invite))
            await browser.receive()  # ACK
            leg = await asyncio.wait_for(ringing, 5)
            assert desk.invite is None  # the desk phone never rang
            await leg.hang_up()
            bye = await browser.receive()
            assert isinstance(bye, SipRequest) and bye.method == "BYE"
            await browser.send(response_to(bye, 200, "OK"))

            # back to 话机: the desk phone rings, and nothing comes over the browser's socket
            assert (await agent.put("/api/routing/me/phone", json={"phone": "desk"})).status_code == 200
            await eventually(lambda: seat.phone == "desk")
            missed = asyncio.create_task(sip.engine.originate("1001", ring_for=1.0, phone=seat.phone))
            await eventually(lambda: desk.invite is not None)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)
            with pytest.raises(OriginateFailed):
                await missed
            await eventually(desk.cancelled.is_set)

            # the desk phone unregistered (unplugged): the call rings where the agent can be reached
            assert await desk.register(expires=0) == 200
            assert len(sip.registrar.contacts("1001")) == 1
            ringing = asyncio.create_task(sip.engine.originate("1001", ring_for=5, phone=seat.phone))
            invite = await browser.ring(media.getsockname()[1])
            await browser.send(browser.answer(invite))
            await browser.receive()  # ACK
            leg = await asyncio.wait_for(ringing, 5)
            await leg.hang_up()
            bye = await browser.receive()
            await browser.send(response_to(bye, 200, "OK"))
    finally:
        desk.close()
        media.close()


async def test_a_call_whose_browser_never_comes_back_ends_after_the_grace_not_when_the_caller_gives_up(
    seeded: Context, users: Users, served: str, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.voice.sip import server as sip_server

    monkeypatch.setattr(sip_server, "BROWSER_RETURN_SECONDS", 0.5)
    sip = app.state.hotline.sip
    agent = await users("agent1")
    creds = (await agent.post("/api/phone/credentials")).json()
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    try:
        async with phone_socket(served, agent) as ws:
            phone = WsPhone(ws, "1001")
            await phone.register(creds["authorization_user"], creds["password"])
            ringing = asyncio.create_task(sip.engine.originate("1001", ring_for=5))
            invite = await phone.ring(media.getsockname()[1])
            await phone.send(phone.answer(invite))
            await phone.receive()  # ACK
            leg = await asyncio.wait_for(ringing, 5)
        # the socket is gone and nothing comes back: still up within the grace, ended after it
        await asyncio.sleep(0.2)
        assert not leg.ended.is_set()
        await asyncio.wait_for(leg.ended.wait(), 3)
        assert leg.cdr.end_reason is EndReason.UNREACHABLE and invite.call_id not in sip.engine.legs
    finally:
        media.close()
