"""Real SIP peers on loopback: SIPp (Debian's sip-tester) registers an extension with digest auth."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.voice.apps import prompt_and_collect
from hotline.voice.control import Leg
from hotline.voice.media.g711 import tone, ulaw_encode
from hotline.voice.sip.digest import hashed
from hotline.voice.sip.server import SipServer
from hotline.voice.sip.trunk import Trunk
from tests.conftest import free_port
from tests.voice.softphone import TEST_TRUNK

SCENARIOS = Path(__file__).parent / "scenarios"
pytestmark = pytest.mark.skipif(
    shutil.which("sipp") is None, reason="needs sipp (make test installs sip-tester)"
)


@pytest.fixture
async def server() -> AsyncIterator[SipServer]:
    sip = SipServer("127.0.0.1", 0, "hotline", hashed({"1001": "sip1001"}))
    await sip.start()
    yield sip
    await sip.stop()


async def sipp(server: SipServer, scenario: str, *args: str, tmp_path: Path) -> int:
    process = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{server.port}", "-sf", str(SCENARIOS / scenario), "-m", "1",
        "-i", "127.0.0.1", "-p", str(free_port()), "-nostdin", "-timeout", "10s", "-timeout_error",
        *args, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(process.wait(), 20)


async def test_sipp_registers_extension_1001_with_its_password(server: SipServer, tmp_path: Path) -> None:
    code = await sipp(
        server, "register_auth.xml", "-s", "1001", "-au", "1001", "-ap", "sip1001", tmp_path=tmp_path
    )
    assert code == 0
    assert [b.contact.split("@")[0] for b in server.registrar.contacts("1001")] == ["sip:1001"]


async def test_sipp_with_a_wrong_password_is_refused(server: SipServer, tmp_path: Path) -> None:
    code = await sipp(
        server, "register_auth.xml", "-s", "1001", "-au", "1001", "-ap", "not-it", tmp_path=tmp_path
    )
    assert code != 0
    assert server.registrar.contacts("1001") == [] and server.guard.refused == 1


async def test_the_app_with_the_voice_role_registers_demo_extensions(
    seeded: object, settings: object, tmp_path: Path
) -> None:
    from hotline.api.app import create_app
    from tests.conftest import make_settings

    port = free_port()
    config = make_settings(
        settings.database_url,
        roles=["api", "voice"],
        sip_port=port,
    )
    app = create_app(config)
    async with app.router.lifespan_context(app):
        server = app.state.hotline.sip
        assert server is not None and server.port == port
        code = await sipp(
            server, "register_auth.xml", "-s", "1005", "-au", "1005", "-ap", "sip1005", tmp_path=tmp_path
        )
        assert code == 0
        assert len(server.registrar.contacts("1005")) == 1


async def test_a_trunk_call_hears_the_prompt_and_its_keys_are_recognised(tmp_path: Path) -> None:
    """SIPp calls 4008001000 through the demo trunk and presses 8, 1, # from RFC 4733 pcaps."""
    finished: list[list[str]] = []

    async def application(leg: Leg) -> None:
        await prompt_and_collect()(leg)
        finished.append(list(leg.variables["digits"]))

    sip = SipServer("127.0.0.1", 0, "hotline", {}, trunks=[TEST_TRUNK], application=application)
    await sip.start()
    try:
        code = await sipp(
            sip, "call_dtmf.xml", "-s", "4008001000", "-mp", str(free_port()), tmp_path=tmp_path
        )
        assert code == 0
        assert finished == [["8", "1"]]
    finally:
        await sip.stop()


async def test_a_call_to_an_unknown_number_from_an_unknown_source_is_challenged(tmp_path: Path) -> None:
    sip = SipServer("127.0.0.1", 0, "hotline", {}, trunks=[TEST_TRUNK])
    await sip.start()
    try:
        code = await sipp(sip, "call_dtmf.xml", "-s", "4009999999", tmp_path=tmp_path)
        assert code != 0  # a 401 instead of the 200 the scenario wants
        assert sip.engine.legs == {}
    finally:
        await sip.stop()


async def test_make_run_mode_runs_the_hotel_flow_of_seed_000_on_the_demo_number(
    seeded: object, settings: object, tmp_path: Path
) -> None:
    """`hotline serve` on the demo data: the demo trunk reaches 4008001000, whose entry point is
    the hotel flow; SIPp, calling as 张伟 from 13800138000, presses 1 (order enquiry), enters his
    member number 88000001 with #, is verified by his number, hears his booking, and hangs up as
    the prompt tells it to."""
    from hotline.api.app import create_app, system_context
    from hotline.contact.calls.records import recent_calls
    from hotline.contact.ivr.versions import visit_counts
    from tests.conftest import make_settings

    config = make_settings(settings.database_url, roles=["api", "voice"], sip_port=free_port())  # type: ignore[attr-defined]
    app = create_app(config)
    async with app.router.lifespan_context(app):
        server, router = app.state.hotline.sip, app.state.hotline.router
        code = await sipp(
            server, "call_enquiry.xml", "-s", "4008001000", "-mp", str(free_port()), tmp_path=tmp_path
        )
        assert code == 0
        ctx = system_context(app.state.hotline)
        visited: set[str] = set()
        for _ in range(50):
            visited = {count.node for count in await visit_counts(ctx, router, "hotel")}
            if "read_order" in visited:
                break
            await asyncio.sleep(0.1)
        assert {
            "welcome",
            "ask_member",
            "check_member",
            "check_caller",
            "find_order",
            "read_order",
        } <= visited
        assert "ask_digits" not in visited and "to_agent" not in visited
        calls = await recent_calls(ctx, router)
        assert calls[0].flow == "hotel" and [s.node for s in calls[0].path[:2]] == ["welcome", "ask_member"]


async def test_hotline_registers_with_a_carrier_and_calls_out_through_it(tmp_path: Path) -> None:
    """SIPp as the carrier: REGISTER and INVITE challenged with 401, both checked by
    SIPp's verifyauth; the carrier answers in PCMA and echoes the media back."""
    carrier_port = free_port()
    carrier = await asyncio.create_subprocess_exec(
        "sipp", "-sf", str(SCENARIOS / "carrier.xml"), "-i", "127.0.0.1", "-p", str(carrier_port), "-m", "2",
        "-mp", str(free_port()), "-rtp_echo", "-nostdin", "-timeout", "20s", "-timeout_error",
        cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(0.5)  # SIPp binds its port
    trunk = Trunk(
        "carrier", "127.0.0.1", port=carrier_port, username="hotline", password="trunk-secret",
        register=True, caller_id="4008001000",
    )  # fmt: skip
    sip = SipServer("127.0.0.1", 0, "hotline", {}, trunks=[trunk])
    await sip.start()
    try:
        (registration,) = sip.registrations
        await asyncio.wait_for(registration.registered.wait(), 10)
        assert registration.state.registered and registration.state.expires_in == 600
        leg = await sip.engine.originate("13800138000", ring_for=10)
        assert leg.rtp.payload_type == 8  # the carrier chose PCMA
        await leg.play(ulaw_encode(tone(800, 600)))
        await asyncio.sleep(0.2)
        await leg.hang_up()
        assert await asyncio.wait_for(carrier.wait(), 20) == 0
        assert leg.rtp.received_packets >= 20  # our audio came back from the carrier's echo
    finally:
        if carrier.returncode is None:
            carrier.kill()
        await sip.stop()


async def test_a_carrier_that_refuses_the_credentials_leaves_the_trunk_unregistered(tmp_path: Path) -> None:
    carrier_port = free_port()
    carrier = await asyncio.create_subprocess_exec(
        "sipp", "-sf", str(SCENARIOS / "carrier.xml"), "-i", "127.0.0.1", "-p", str(carrier_port), "-m", "1",
        "-nostdin", "-timeout", "5s", cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(0.5)
    trunk = Trunk(
        "carrier", "127.0.0.1", port=carrier_port, username="hotline", password="wrong", register=True
    )
    sip = SipServer("127.0.0.1", 0, "hotline", {}, trunks=[trunk])
    await sip.start()
    try:
        (registration,) = sip.registrations
        for _ in range(50):
            if registration.state.last_status == 403:
                break
            await asyncio.sleep(0.1)
        assert registration.state.last_status == 403 and not registration.state.registered
        assert registration.state.last_error == "403 Forbidden"
    finally:
        carrier.kill()
        await carrier.wait()
        await sip.stop()
