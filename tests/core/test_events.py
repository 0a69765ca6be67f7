"""Domain events: published after commit only, in-process and across nodes over Redis."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import pytest

from hotline.core.context import Context
from hotline.core.events import Event, InProcessBus, RedisBus
from tests.conftest import REDIS_URL


class RoomHeld(Event):
    name: ClassVar[str] = "test.room_held"
    room: str


async def collect(bus: InProcessBus | RedisBus) -> list[Event]:
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    bus.subscribe(RoomHeld, handler)
    return seen


async def test_events_are_published_only_after_commit(ctx: Context) -> None:
    assert isinstance(ctx.bus, InProcessBus)
    seen = await collect(ctx.bus)
    async with ctx.write() as tx:
        tx.publish(RoomHeld(room="801"))
        await ctx.bus.drain()
        assert seen == []  # not while the transaction is open
    await ctx.bus.drain()
    assert [e.room for e in seen] == ["801"]  # type: ignore[attr-defined]

    async def publish_then_fail() -> None:
        async with ctx.write() as tx:
            tx.publish(RoomHeld(room="802"))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await publish_then_fail()
    await ctx.bus.drain()
    assert [e.room for e in seen] == ["801"]  # type: ignore[attr-defined]


async def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    bus = InProcessBus()

    async def broken(event: Event) -> None:
        raise ValueError("boom")

    bus.subscribe(RoomHeld, broken)
    seen = await collect(bus)
    await bus.publish(RoomHeld(room="901"))
    await bus.drain()
    assert len(seen) == 1


def test_events_round_trip_through_json() -> None:
    event = RoomHeld(room="1203")
    assert Event.from_json(event.to_json()) == event
    with pytest.raises(ValueError, match="unknown event"):
        Event.from_json('{"name": "nope", "data": {}}')


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="needs HOTLINE_TEST_REDIS_URL (make test starts redis-server)")
async def test_redis_bus_delivers_to_every_node() -> None:
    assert REDIS_URL
    channel = f"hotline:test:{id(object())}"
    node_a, node_b = RedisBus(REDIS_URL, channel=channel), RedisBus(REDIS_URL, channel=channel)
    await node_a.start()
    await node_b.start()
    try:
        seen_a, seen_b = await collect(node_a), await collect(node_b)
        await node_a.publish(RoomHeld(room="1508"))
        for _ in range(100):
            if seen_a and seen_b:
                break
            await asyncio.sleep(0.02)
        await node_a.drain()
        await node_b.drain()
        assert [e.room for e in seen_a] == [e.room for e in seen_b] == ["1508"]  # type: ignore[attr-defined]
    finally:
        await node_a.stop()
        await node_b.stop()
