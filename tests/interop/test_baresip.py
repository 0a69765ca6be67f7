"""baresip (Debian's softphone) as an agent's phone: registers with digest auth, is refused with a
wrong password, answers a call Hotline places to it, and the bridged audio reaches both sides."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.voice.control import Bridge, Leg
from hotline.voice.media.g711 import ulaw_decode
from hotline.voice.sip.digest import hashed
from hotline.voice.sip.server import SipServer
from tests.conftest import free_port
from tests.voice.audio import tone_share, wav_samples
from tests.voice.softphone import TEST_TRUNK, Softphone

pytestmark = pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip is installed by make test")

AGENT_TONE, CALLER_TONE = 600, 1000


def baresip_command(folder: Path, server_port: int, password: str, extension: str = "1001") -> list[str]:
    """Write baresip's configuration for an extension into `folder`: auto-answer, a 600 Hz sine as
    its microphone, and its sndfile module writing what it hears there. Returns the command."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config").write_text(
        f"sip_listen 127.0.0.1:{free_port()}\n"
        "audio_player aubridge,nowhere\naudio_alert aubridge,nowhere\n"
        f"audio_source ausine,{AGENT_TONE}\nausrc_srate 48000\nausrc_channels 2\n"
        "module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule ausine.so\nmodule aubridge.so\n"
        f"module sndfile.so\nsnd_path {folder}\nmodule_app account.so\nmodule_app menu.so\n"
    )
    (folder / "accounts").write_text(
        f"<sip:{extension}@127.0.0.1:{server_port}>;auth_pass={password};answermode=auto;regint=600\n"
    )
    return ["baresip", "-4", "-s", "-f", str(folder)]


@contextlib.asynccontextmanager
async def baresip(
    folder: Path, server_port: int, password: str, extension: str = "1001"
) -> AsyncIterator[Path]:
    """baresip as an extension (1001 unless told), running while the block runs."""
    command = baresip_command(folder, server_port, password, extension)
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=subprocess.DEVNULL,
        stdout=(folder / "baresip.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        yield folder
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()


async def registered(sip: SipServer, extension: str, seconds: float) -> bool:
    for _ in range(int(seconds / 0.1)):
        if sip.registrar.contacts(extension):
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.fixture
async def sip() -> AsyncIterator[SipServer]:
    server = SipServer("127.0.0.1", 0, "hotline", hashed({"1001": "sip1001"}), trunks=[TEST_TRUNK])
    await server.start()
    yield server
    await server.stop()


async def test_baresip_registers_with_the_right_password_and_not_with_a_wrong_one(
    sip: SipServer, tmp_path: Path
) -> None:
    async with baresip(tmp_path / "wrong", sip.port, "not-the-password"):
        assert not await registered(sip, "1001", 3)
        assert sip.guard.refused >= 1
    assert sip.guard.blocked("127.0.0.1")  # it kept retrying: blocked like a scanner would be
    sip.guard.unblock("127.0.0.1")
    async with baresip(tmp_path / "right", sip.port, "sip1001"):
        assert await registered(sip, "1001", 10)


async def test_a_caller_bridged_to_baresip_hears_it_and_is_heard_and_both_sides_are_recorded(
    sip: SipServer, tmp_path: Path
) -> None:
    bridges: list[Bridge] = []

    async def to_agent(caller: Leg) -> None:
        await caller.answer()
        agent = await sip.engine.originate("1001", caller=caller.caller, ring_for=10)
        bridge = sip.engine.bridge(caller, agent, record_to=tmp_path / "recording")
        bridges.append(bridge)
        try:
            await bridge.wait()
        finally:
            await bridge.stop()
            await agent.hang_up()

    sip.engine.application = to_agent
    async with baresip(tmp_path / "baresip", sip.port, "sip1001") as folder:
        assert await registered(sip, "1001", 10)
        caller = await Softphone.open("13800138000", "", sip.port)
        try:
            assert (await caller.dial("4008001000")).status == 200
            for _ in range(100):
                if bridges:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            await caller.send_tone(CALLER_TONE, 2000)
            caller.send(caller.in_dialog("BYE", cseq=2))
            for _ in range(100):
                if bridges and bridges[0].recording is not None:
                    break
                await asyncio.sleep(0.05)
        finally:
            caller.close()
        await asyncio.sleep(0.5)  # baresip closes its dump files on BYE

    heard_by_caller = ulaw_decode(b"".join(packet.payload for _, packet in caller.rtp.packets))
    assert len(heard_by_caller) > 8000 and tone_share(heard_by_caller, AGENT_TONE) > 0.8

    recording = bridges[0].recording
    assert recording is not None
    said_by_caller, _ = wav_samples(recording.leg_a)
    said_by_agent, _ = wav_samples(recording.leg_b)
    assert tone_share(said_by_caller, CALLER_TONE) > 0.5 and tone_share(said_by_agent, AGENT_TONE) > 0.5

    (heard_file,) = folder.glob("dump-*-dec.wav")
    import wave

    with wave.open(str(heard_file)) as wav:
        rate = wav.getframerate()
    heard_by_agent, _ = wav_samples(heard_file)
    assert tone_share(heard_by_agent, CALLER_TONE, rate) > 0.5


async def test_the_demo_hotel_number_reaches_agent_003_on_baresip_who_is_announced(
    seeded: object, settings: object, tmp_path: Path
) -> None:
    """`make run` as it ships: SIPp calls 4008001000 and presses 2; the hotel flow queues the call,
    the router offers it to the one ready agent whose phone is registered — baresip as 1003
    (agent3, work number 003) — who answers; the caller hears 「…下面由003号服务员为您服务」, is
    connected and recorded, and the call's record says why 003 took it."""
    from hotline.api.app import create_app, system_context
    from hotline.contact.calls.records import recent_calls
    from hotline.crm import timeline
    from tests.conftest import make_settings
    from tests.interop.test_sipp_register import SCENARIOS

    config = make_settings(settings.database_url, roles=["api", "voice"], sip_port=free_port())  # type: ignore[attr-defined]
    app = create_app(config)
    async with app.router.lifespan_context(app):
        server, router = app.state.hotline.sip, app.state.hotline.router
        async with baresip(tmp_path / "agent3", server.port, "sip1003", extension="1003"):
            assert await registered(server, "1003", 10)
            caller = await asyncio.create_subprocess_exec(
                "sipp", f"127.0.0.1:{server.port}", "-sf", str(SCENARIOS / "call_agent.xml"),
                "-s", "4008001000",
                "-m", "1", "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
                "-nostdin", "-timeout", "40s", "-timeout_error", cwd=tmp_path,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            assert await asyncio.wait_for(caller.wait(), 60) == 0
            for _ in range(50):
                if router.recent:
                    break
                await asyncio.sleep(0.1)
            # the call's record, from the event log: why 003, how long, recorded
            (call,) = await recent_calls(system_context(app.state.hotline), router)
            # SIPp calls from 13800138000: the demo customer 张伟, whom 003 served last (sticky, R3)
            assert call.reason is not None and call.reason.params["agent"] == "1003 (003)", call.reason
            assert call.reason.params["sticky"] is True, call.reason
            for _ in range(50):
                entries, _ = await timeline.page(system_context(app.state.hotline), 1, limit=1, offset=0)
                if entries and entries[0].ref == f"call:{call.call_id}":
                    break
                await asyncio.sleep(0.1)
            assert entries[0].title == "来电 4008001000 · 酒店预订热线 · 003号 赵磊接听", entries[0].title
            assert (call.queue, call.outcome, call.recorded) == ("hotel", "answered", True)
            assert call.talk is not None and call.talk > 5
    (run,) = list(router.recent)
    assert run.path == ["welcome", "to_agent"]
    assert run.variables["agent"]["work_number"] == "003" and run.variables["agent"]["extension"] == "1003"
