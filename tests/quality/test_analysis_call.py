"""A real call analysed: a SIPp caller and a baresip agent each say a known pattern of Mandarin
phrases and pauses, Hotline bridges and records them, and the checks of the recording's a.wav and
b.wav give talk, silence and overtalk within 0.2 s of what each side sent.

Neither side's sending starts with the recording (the caller is answered and the agent dialled
first), so each channel's first phrase as found anchors that channel's pattern in time; every other
boundary — the second phrase of each side, the silence between the turns, the overtalk when the
caller talks over the agent — is held to 0.2 s of where the pattern puts it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from hotline.quality.analysis import analyse_files
from hotline.voice.control import Bridge, Leg, settle
from hotline.voice.media.g711 import ulaw_encode
from hotline.voice.sip.digest import hashed
from hotline.voice.sip.server import SipServer
from tests.conftest import free_port
from tests.interop.test_baresip import baresip_command, registered
from tests.quality.speech import GREETING, POLICY, REQUEST, WAIT, channel, truth, write_wav
from tests.quality.test_analysis import NEAR, assert_near, quiet_and_both
from tests.voice.softphone import TEST_TRUNK

pytestmark = [
    pytest.mark.skipif(shutil.which("baresip") is None or shutil.which("sipp") is None, reason="make test"),
    # the call and its analysis use no database: run once, in the SQLite run of the suite
    pytest.mark.skipif("HOTLINE_TEST_DATABASE_URL" in os.environ, reason="runs in the SQLite run"),
]

SECONDS = 34.0
AGENT = [(1.0, GREETING), (18.0, POLICY)]  # seconds from the agent's answer
CALLER = [(4.5, REQUEST), (21.0, WAIT)]  # seconds from the caller's first packet, ~1.5 s later


@pytest.fixture
async def sip() -> AsyncIterator[SipServer]:
    server = SipServer("127.0.0.1", 0, "hotline", hashed({"1001": "sip1001"}), trunks=[TEST_TRUNK])
    await server.start()
    yield server
    await server.stop()


@contextlib.asynccontextmanager
async def agent_saying(
    folder: Path, server_port: int, pattern: list[tuple[float, str]]
) -> AsyncIterator[None]:
    """baresip as extension 1001, auto-answering, its microphone a WAV file of `pattern`."""
    command = baresip_command(folder, server_port, "sip1001")
    write_wav(folder / "agent.wav", channel(SECONDS, pattern, noise=0))
    config = (folder / "config").read_text()
    config = config.replace("audio_source ausine,600", f"audio_source aufile,{folder / 'agent.wav'}")
    config = config.replace("ausrc_srate 48000\nausrc_channels 2", "ausrc_srate 8000\nausrc_channels 1")
    (folder / "config").write_text(config.replace("module ausine.so", "module aufile.so"))
    with (folder / "baresip.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()


def anchored(placed: list[tuple[float, str]], found: list[list[float]]) -> list[tuple[float, float]]:
    """The pattern's spans moved so that its first phrase starts where it was found."""
    spans = truth(placed)
    shift = found[0][0] - spans[0][0]
    return [(start + shift, end + shift) for start, end in spans]


async def test_a_recorded_call_s_talk_silence_and_overtalk_match_what_each_side_said(
    sip: SipServer, tmp_path: Path
) -> None:
    bridges: list[Bridge] = []
    finished = asyncio.Event()
    failed: list[BaseException] = []

    async def to_agent(caller: Leg) -> None:
        try:
            await caller.answer()
            agent = await sip.engine.originate("1001", caller=caller.caller, ring_for=10)
            bridge = sip.engine.bridge(caller, agent, record_to=tmp_path / "recording")
            bridges.append(bridge)
            try:
                await bridge.wait()
            finally:
                # writes the files (in a thread) and sets `recording`; the caller's hang-up
                # cancels this task, and shielded like the contact layer's, the writing finishes
                await settle(bridge.stop())
                await agent.hang_up()
        except Exception as exc:  # the caller hanging up cancels this: `finally` still stops the bridge
            failed.append(exc)
            raise
        finally:
            finished.set()

    sip.engine.application = to_agent
    stream = tmp_path / "caller.ulaw"
    stream.write_bytes(ulaw_encode(channel(SECONDS - 4, CALLER, noise=0).tolist()))
    scenario = (Path(__file__).parent / "speech_call.xml").read_text()
    (tmp_path / "speech_call.xml").write_text(
        scenario.replace("@STREAM@", str(stream)).replace("@MS@", str(int((SECONDS - 1.5) * 1000)))
    )
    async with agent_saying(tmp_path / "baresip", sip.port, AGENT):
        assert await registered(sip, "1001", 10)
        caller = await asyncio.create_subprocess_exec(
            "sipp", f"127.0.0.1:{sip.port}", "-sf", str(tmp_path / "speech_call.xml"), "-s", "4008001000",
            "-m", "1", "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
            "-nostdin", "-timeout", f"{SECONDS + 20:.0f}s", "-timeout_error", cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert await asyncio.wait_for(caller.wait(), SECONDS + 30) == 0
        # the files are written after the call, in a thread: slow on a busy machine
        await asyncio.wait_for(finished.wait(), 120)
    assert not failed, failed
    recording = bridges[0].recording
    assert recording is not None

    checks = analyse_files(
        str(recording.leg_a), str(recording.leg_b), silence_seconds=5.0, overtalk_seconds=2.0
    )
    said_by_caller = anchored(CALLER, checks["segments"]["caller"])
    said_by_agent = anchored(AGENT, checks["segments"]["agent"])
    assert_near(checks["segments"]["caller"], said_by_caller)
    assert_near(checks["segments"]["agent"], said_by_agent)
    quiet, both = quiet_and_both(said_by_caller, said_by_agent, checks["duration"])
    silences = [s for s in quiet if s[1] - s[0] > 5.0]
    overtalk = [s for s in both if s[1] - s[0] > 2.0]
    # the pattern: a silence while the agent looks something up, the caller talking over the policy
    assert len(silences) == 1 and len(overtalk) == 1, (quiet, both)
    assert_near(checks["segments"]["silences"], silences)
    assert_near(checks["segments"]["overtalk"], overtalk)
    assert abs(checks["caller_talk"] - sum(e - s for s, e in said_by_caller)) <= 2 * NEAR * len(CALLER)
    assert abs(checks["agent_talk"] - sum(e - s for s, e in said_by_agent)) <= 2 * NEAR * len(AGENT)
    assert np.isclose(checks["duration"], recording.seconds, atol=0.05)
