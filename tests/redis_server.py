"""A Redis server of a test's own, to stop and start again (the suite's Redis is shared by both
test runs of `make test`, so no test may restart it)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import Iterator

import pytest
import redis.asyncio as redis

from tests.conftest import free_port


class PrivateRedis:
    def __init__(self, binary: str) -> None:
        self.binary, self.port = binary, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )

    def crash(self) -> None:
        """Gone at once, and empty when it comes back (no snapshot, no append-only file)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    async def ping(self) -> None:
        client = redis.from_url(self.url)
        try:
            for _ in range(200):
                with contextlib.suppress(Exception):
                    if await client.ping():
                        return
                await asyncio.sleep(0.05)
            raise AssertionError("redis did not start")
        finally:
            await client.aclose()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(binary)
    server.start()
    yield server
    server.crash()
