"""Shared by the voice tests: a minimal UDP SIP phone on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hotline.voice.sip.message import SipResponse, parse


class Phone(asyncio.DatagramProtocol):
    """A minimal UDP SIP client: sends a request, waits for the answers."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.inbox.put_nowait(data)

    async def ask(self, wire: bytes, port: int, wait: float = 2.0) -> SipResponse:
        assert self.transport is not None
        self.transport.sendto(wire, ("127.0.0.1", port))
        reply = parse(await asyncio.wait_for(self.inbox.get(), wait))
        assert isinstance(reply, SipResponse)
        return reply

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])


@pytest.fixture
async def phone() -> AsyncIterator[Phone]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(Phone, local_addr=("127.0.0.1", 0))
    yield protocol
    transport.close()
