"""The cluster's edge with rtpengine as the media relay: a caller through Kamailio bridged by a
voice node to a phone registered through Kamailio; the node's re-INVITEs reach both phones
through the edge (its Record-Route) and their audio flows through rtpengine."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hotline.voice.media.g711 import ulaw_decode
from tests.conftest import REDIS_URL
from tests.interop.cluster import KAMAILIO, Cluster
from tests.voice.audio import tone_share
from tests.voice.rtpengine_daemon import Rtpengine, running_rtpengine
from tests.voice.softphone import Softphone

pytestmark = [
    pytest.mark.skipif("HOTLINE_TEST_DATABASE_URL" in os.environ, reason="runs in the SQLite run"),
    pytest.mark.skipif(KAMAILIO is None, reason="needs Kamailio (make cluster-deps installs it)"),
    pytest.mark.skipif(shutil.which("sipp") is None, reason="needs sipp (make test installs sip-tester)"),
    pytest.mark.skipif(
        REDIS_URL is None, reason="needs Redis: HOTLINE_TEST_REDIS_URL (make test starts one)"
    ),
]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Rtpengine]:
    low = random.randrange(47000, 47600, 200)
    with running_rtpengine(tmp_path, (low, low + 199)) as running:
        yield running


@pytest.fixture
async def cluster(
    tmp_path: Path, daemon: Rtpengine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Cluster]:
    import redis.asyncio as redis

    assert REDIS_URL is not None
    client = redis.from_url(REDIS_URL)
    for key in await client.keys("hotline:sip:*"):
        await client.delete(key)
    await client.aclose()
    monkeypatch.setenv("CLUSTER_NODE_RTPENGINE", f"{daemon.ng[0]}:{daemon.ng[1]}")
    site = Cluster(tmp_path / "site", REDIS_URL)
    (tmp_path / "site").mkdir()
    try:
        await site.start()
        yield site
    finally:
        await site.stop()


async def test_a_caller_and_an_agent_behind_the_edge_talk_through_rtpengine(
    cluster: Cluster, daemon: Rtpengine
) -> None:
    agent = await Softphone.open("1001", "sip1001", cluster.edge_port)
    caller = await Softphone.open("13800138000", "", cluster.edge_port)
    low, high = daemon.ports
    try:
        assert await agent.register() == 200
        assert (await caller.dial("4008002000")).status == 200
        await asyncio.wait_for(agent.answered.wait(), 5)
        for _ in range(100):
            lines = [line for node in cluster.members for line in node.lines if line.startswith("bridged")]
            if lines:
                break
            await asyncio.sleep(0.05)
        assert lines and lines[0].split()[1] != "builtin", lines
        # both re-INVITEs came through the edge, and both phones now send to rtpengine
        for phone in (caller, agent):
            assert [invite.vias[0].port for invite, _ in phone.reinvites] == [cluster.edge_port]
            assert phone.remote_media is not None and low <= phone.remote_media[1] <= high
        marks = len(caller.rtp.packets), len(agent.rtp.packets)
        await asyncio.gather(caller.send_tone(1000, 600), agent.send_tone(600, 600))
        await asyncio.sleep(0.2)
        to_agent = [p.payload for _, p in agent.rtp.packets[marks[1] :]]
        to_caller = [p.payload for _, p in caller.rtp.packets[marks[0] :]]
        assert tone_share(ulaw_decode(b"".join(to_agent)), 1000) > 0.9
        assert tone_share(ulaw_decode(b"".join(to_caller)), 600) > 0.9
        caller.send(caller.in_dialog("BYE", cseq=2))
        await asyncio.wait_for(agent.hung_up.wait(), 5)
    finally:
        agent.close()
        caller.close()
