"""The router's lease on real Redis: one holder at a time, a successor within the lease's time
when the holder dies, at once when it stops; a holder cut off from Redis steps down before anyone
could take over; epochs only grow, even across a Redis restarted empty."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as redis

from hotline.core.lease import Leadership
from tests.conftest import REDIS_URL, free_port

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="needs HOTLINE_TEST_REDIS_URL (make test starts redis-server)"),
]


class Contender:
    """A node standing for the lease, with the times it held it."""

    def __init__(self, connection: redis.Redis, name: str, lease: str) -> None:
        self.terms: list[list[float]] = []
        self.epochs: list[int] = []
        self.leadership = Leadership(
            connection,
            lease,
            name,
            elected=self._elected,
            deposed=self._deposed,
            ttl=1.0,
            renew=0.2,
            retry=0.05,
        )

    async def _elected(self, epoch: int) -> None:
        self.epochs.append(epoch)
        self.terms.append([time.monotonic(), float("inf")])

    async def _deposed(self) -> None:
        self.terms[-1][1] = time.monotonic()

    @property
    def leading(self) -> bool:
        return bool(self.terms) and self.terms[-1][1] == float("inf")

    async def die(self) -> None:
        """A killed process: no renewal, no release, nothing more."""
        task = self.leadership._task
        assert task is not None
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self.leadership._task = None
        self.leadership.epoch = None
        if self.leading:
            self.terms[-1][1] = time.monotonic()


async def until(check: object, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


@pytest.fixture
async def connection() -> AsyncIterator[redis.Redis]:
    assert REDIS_URL
    client = redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


async def test_one_holder_a_successor_when_it_dies_and_at_once_when_it_stops(connection: redis.Redis) -> None:
    lease = f"test-{secrets.token_hex(4)}"
    a, b = Contender(connection, "a", lease), Contender(connection, "b", lease)
    a.leadership.start()
    await until(lambda: a.leading, 2)
    b.leadership.start()
    await asyncio.sleep(1.5)  # longer than the lease: A renews, B never gets it
    assert not b.terms and a.leading

    await a.die()
    took = await until(lambda: b.leading, 3)
    assert took < 1.0 + 0.05 + 0.2  # the lease's time, a retry, and slack
    assert b.epochs[0] > a.epochs[0]

    c = Contender(connection, "c", lease)
    c.leadership.start()
    await asyncio.sleep(0.2)
    await b.leadership.stop()  # a clean stop gives the lease up: no wait for it to lapse
    took = await until(lambda: c.leading, 2)
    assert took < 0.3
    await c.leadership.stop()

    terms = sorted(term for contender in (a, b, c) for term in contender.terms)
    for (_, ended), (began, _) in itertools.pairwise(terms):
        assert ended <= began, terms  # never two holders at once


@pytest.fixture
def private_redis() -> Iterator[tuple[str, int]]:
    """A Redis of this test's own, to stop and restart (the suite's is shared)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    yield binary, port
    process.kill()
    process.wait()


async def test_a_holder_cut_off_from_redis_steps_down_and_epochs_grow_across_a_restart(
    private_redis: tuple[str, int],
) -> None:
    binary, port = private_redis
    client = redis.from_url(f"redis://127.0.0.1:{port}")
    await until_pinged(client)
    a = Contender(client, "a", "router")
    a.leadership.start()
    await until(lambda: a.leading, 2)
    first = a.epochs[0]

    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], check=False, capture_output=True)
    stepped = await until(lambda: not a.leading, 3)
    assert stepped <= 1.0  # before the lease could have lapsed for anyone else

    restarted = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        await until(lambda: a.leading, 10)  # Redis is back, empty: the lease is taken again
        assert a.epochs[-1] > first  # and its epoch did not start again from 1
    finally:
        await a.leadership.stop()
        await client.aclose()
        restarted.kill()
        restarted.wait()


async def until_pinged(client: redis.Redis) -> None:
    for _ in range(100):
        with contextlib.suppress(Exception):
            if await client.ping():
                return
        await asyncio.sleep(0.05)
    raise AssertionError("redis did not start")
