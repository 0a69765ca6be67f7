"""A voice node for tests/interop/test_cluster.py and benchmarks/cluster_cps.py, run as a process
of its own (so it can be killed with SIGKILL): the SIP server `hotline serve --roles voice` runs,
with the edge, the site's registrar on Redis, the demo trunk's number and extensions 1001-1002,
answering every call and holding it until the caller hangs up; no database.

    python -m tests.interop.cluster_node PORT EDGE REDIS_URL NODE_ID

It prints `ready`, then `answered <number>` for each call it answers and `ended <number>` when it
ends. A line `ring <ext>` on its
standard input makes it call that extension; it prints `rang <ext> <outcome>`. With
CLUSTER_NODE_RTPENGINE=host:port in its environment its media relay is that rtpengine, and a call
to 4008002000 is bridged to extension 1001 (`bridged <rtpengine call-id or builtin>`).
"""

from __future__ import annotations

import asyncio
import os
import sys

from hotline.voice.control import Leg, OriginateFailed
from hotline.voice.rtpengine.bridge import RtpengineBridge
from hotline.voice.sip.digest import hashed
from hotline.voice.sip.server import SipServer
from hotline.voice.sip.trunk import Trunk

TRUNK = Trunk("demo", "127.0.0.1", dids={"4008001000": "hotel", "4008002000": "agent"}, outbound=False)
SERVER: list[SipServer] = []


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def answer(leg: Leg) -> None:
    await leg.answer()
    say(f"answered {leg.number}")
    if leg.number == "4008002000":
        await bridged(leg)
    await leg.ended.wait()
    say(f"ended {leg.number}")


async def bridged(caller: Leg) -> None:
    engine = SERVER[0].engine
    agent = await engine.originate("1001", ring_for=5)
    bridge = engine.bridge(caller, agent)
    try:
        if isinstance(bridge, RtpengineBridge):
            await bridge.settled.wait()
        say(f"bridged {getattr(bridge, 'anchored', None) or 'builtin'}")
        await bridge.wait()
    finally:
        await bridge.stop()
        await agent.hang_up()


async def ring(sip: SipServer, extension: str) -> None:
    try:
        leg = await sip.engine.originate(extension, ring_for=5)
    except OriginateFailed as exc:
        say(f"rang {extension} {exc.reason.value}")
        return
    say(f"rang {extension} answered")
    await asyncio.sleep(0.2)
    await leg.hang_up()


async def main(port: int, edge: str, redis_url: str, node_id: str) -> None:
    sip = SipServer(
        "127.0.0.1", port, "hotline", hashed({"1001": "sip1001", "1002": "sip1002"}),
        trunks=[TRUNK], application=answer, max_calls=2000, edge_proxies=(edge,),
        site_redis=redis_url, node_id=node_id, rtpengine_ng=os.environ.get("CLUSTER_NODE_RTPENGINE"),
    )  # fmt: skip
    SERVER.append(sip)
    await sip.start()
    say("ready")
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks = set()
    while line := (await reader.readline()).decode().split():
        if line[0] == "ring":
            task = asyncio.ensure_future(ring(sip, line[1]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    await sip.stop()


if __name__ == "__main__":
    import uvloop  # as `hotline serve` runs

    uvloop.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]))
