"""Blended agents: outbound holds back while an inbound queue is failing its service level now,
and only now — a bad hour earlier in the day does not hold outbound back for the rest of it."""

from __future__ import annotations

from datetime import timedelta

from hotline.contact import wallboard
from hotline.contact.models import ContactEvent
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.outbound.dialer import SERVICE_HOURS


async def _late_calls(ctx: Context, *, minutes_ago: float, waits: list[float]) -> None:
    """Calls that entered the hotel queue `minutes_ago` and were answered after `waits` seconds."""
    start = utcnow() - timedelta(minutes=minutes_ago)
    async with ctx.write() as tx:
        for n, wait in enumerate(waits):
            call = f"leg-blend-{minutes_ago}-{n}"
            tx.session.add(ContactEvent(at=start, kind="queued", call_id=call, queue="hotel"))
            tx.session.add(
                ContactEvent(at=start + timedelta(seconds=wait), kind="answered", call_id=call, queue="hotel")
            )


async def test_outbound_pauses_for_a_queue_failing_its_service_level_in_the_last_half_hour(
    seeded: Context,
) -> None:
    assert await wallboard.queue_below_service(seeded, hours=SERVICE_HOURS) == ""

    await _late_calls(seeded, minutes_ago=90, waits=[120, 150, 200])  # all late, an hour and a half ago
    assert await wallboard.queue_below_service(seeded, hours=SERVICE_HOURS) == ""  # recovered since

    await _late_calls(seeded, minutes_ago=10, waits=[5, 100, 140])  # 1 of 3 within 20 s: 33 % ≤ 60 %
    assert await wallboard.queue_below_service(seeded, hours=SERVICE_HOURS) == "酒店预订"

    await _late_calls(seeded, minutes_ago=5, waits=[3, 4, 5, 6, 7])  # 6 of 8 now: 75 %, amber, not red
    assert await wallboard.queue_below_service(seeded, hours=SERVICE_HOURS) == ""
