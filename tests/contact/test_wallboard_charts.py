"""The wallboard's colours and charts (issue 19): a supervisor sets per queue when a tile turns
amber and red (bounded, audited, refused to a team lead); the tiles are coloured by them; the
charts' service level per interval comes from the event log and the callers-waiting history is
bounded in samples, time and queues."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.contact import wallboard
from hotline.contact.models import ContactEvent
from hotline.contact.stats.rollup import roll
from hotline.core.audit import AuditEntry
from hotline.core.clock import utcnow
from hotline.core.context import Context
from tests.conftest import Users


async def _calls_today(ctx: Context, waits: list[float]) -> None:
    """Calls that entered the hotel queue a minute ago and were answered after `waits` seconds."""
    start = utcnow() - timedelta(minutes=1)
    async with ctx.write() as tx:
        for n, wait in enumerate(waits):
            call = f"leg-chart-{n}"
            tx.session.add(ContactEvent(at=start, kind="queued", call_id=call, queue="hotel"))
            tx.session.add(ContactEvent(at=start + timedelta(seconds=wait), kind="answered", call_id=call,
                                        queue="hotel", agent_id=None))  # fmt: skip
    await roll(ctx)  # the tiles' figures are the rollup's, which the router runs every 2 s


def _tile(board: dict[str, object], queue: str) -> dict[str, object]:
    queues = board["queues"]
    assert isinstance(queues, list)
    return next(q for q in queues if q["queue"] == queue)


async def test_given_a_supervisor_when_setting_a_queues_marks_then_the_tile_changes_colour_and_it_is_audited(
    seeded: Context, users: Users
) -> None:
    supervisor = await users("supervisor")
    await _calls_today(seeded, [5, 60])  # one in time (20 s), one late: 50 %
    marks = (await supervisor.get("/api/routing/queues/hotel/thresholds")).json()
    assert marks == {
        "queue": "hotel", "waiting_amber": 3, "waiting_red": 6, "wait_amber_seconds": 30,
        "wait_red_seconds": 90, "service_amber_percent": 80, "service_red_percent": 60,
    }  # fmt: skip
    tile = _tile((await supervisor.get("/api/routing/wallboard")).json(), "hotel")
    assert tile["levels"]["service_level"] == "red" and tile["level"] == "red"  # 50 % ≤ 60 %

    lower = marks | {"service_amber_percent": 60, "service_red_percent": 40}
    lower.pop("queue")
    saved = await supervisor.put("/api/routing/queues/hotel/thresholds", json=lower)
    assert saved.status_code == 200, saved.text
    tile = _tile((await supervisor.get("/api/routing/wallboard")).json(), "hotel")
    assert tile["levels"] == {"waiting": "green", "longest_wait": "green", "service_level": "amber"}
    assert tile["level"] == "amber" and tile["thresholds"]["service_red_percent"] == 40
    async with seeded.read() as session:
        entries = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.entity_type == "queues").order_by(AuditEntry.seq)
            )
        ).all()
    assert any(((e.after or {}).get("thresholds") or {}).get("service_red_percent") == 40 for e in entries)


async def test_thresholds_are_bounded_ordered_and_only_for_who_may_change_routing(
    seeded: Context, users: Users
) -> None:
    supervisor, teamlead = await users("supervisor"), await users("teamlead")
    good = {"waiting_amber": 2, "waiting_red": 4, "wait_amber_seconds": 20, "wait_red_seconds": 60,
            "service_amber_percent": 85, "service_red_percent": 70}  # fmt: skip
    refused = await teamlead.put("/api/routing/queues/hotel/thresholds", json=good)
    assert refused.status_code == 403
    assert (await teamlead.get("/api/routing/queues/hotel/thresholds")).status_code == 200
    for field, value in [("waiting_amber", 0), ("wait_red_seconds", 7201), ("service_red_percent", 101)]:
        bad = await supervisor.put("/api/routing/queues/hotel/thresholds", json=good | {field: value})
        assert bad.status_code == 422 and field in bad.text, (field, bad.text)
    backwards = await supervisor.put("/api/routing/queues/hotel/thresholds", json=good | {"waiting_red": 1})
    assert backwards.status_code == 422 and "waiting_red" in backwards.text
    upside = await supervisor.put(
        "/api/routing/queues/hotel/thresholds", json=good | {"service_red_percent": 90}
    )
    assert upside.status_code == 422 and "service_red_percent" in upside.text
    missing = await supervisor.put("/api/routing/queues/nowhere/thresholds", json=good)
    assert missing.status_code == 404


async def test_the_trend_gives_todays_service_level_per_interval_and_its_bounds_are_checked(
    seeded: Context, users: Users
) -> None:
    supervisor = await users("supervisor")
    await _calls_today(seeded, [5, 10, 15, 60])  # three of four in time
    trend = (await supervisor.get("/api/routing/wallboard/trend", params={"interval_minutes": 15})).json()
    assert trend["interval_minutes"] == 15 and len(trend["starts"]) == len(trend["service_level"]["hotel"])
    assert trend["service_level"]["hotel"][-1] == 0.75 or trend["service_level"]["hotel"][-2] == 0.75
    assert trend["waiting"] and all(
        len(v) == len(trend["sampled_at"]) >= 1 for v in trend["waiting"].values()
    )
    for query in ({"interval_minutes": 4}, {"interval_minutes": 61}, {"minutes": 0}, {"minutes": 61}):
        bad = await supervisor.get("/api/routing/wallboard/trend", params=query)
        assert bad.status_code == 422 and next(iter(query)) in bad.text
    agent = await users("agent1")
    assert (await agent.get("/api/routing/wallboard/trend")).status_code == 403


def test_the_waiting_history_keeps_an_hour_of_samples_of_at_most_64_queues() -> None:
    history = wallboard.WaitHistory(every=15, keep=3600)
    at = 1_800_000_000.0
    for n in range(2000):  # more than eight hours of samples
        assert history.due(at)
        history.record(at, {f"q{i:03}": n for i in range(100)})
        assert not history.due(at + 1)
        at += 15
    last = history.samples[-1].at
    assert len(history.samples) <= 3600 // 15 + 1
    assert all(s.at >= last - 3600 for s in history.samples)
    assert all(len(s.waiting) == wallboard.MAX_QUEUES for s in history.samples)
    assert [s.at for s in history.since(last - 60)] == [last - 60, last - 45, last - 30, last - 15, last]


def test_the_service_level_per_interval_counts_each_call_in_the_interval_it_entered() -> None:
    start = 1_800_000_000.0
    events = [
        (start + 10, "a", "queued", "hotel"), (start + 20, "a", "answered", "hotel"),  # in time
        (start + 890, "b", "queued", "hotel"), (start + 960, "b", "answered", "hotel"),  # late
        (start + 1000, "c", "queued", "travel"), (start + 1005, "c", "answered", "travel"),
    ]  # fmt: skip
    series = wallboard.service_level_series(events, {"hotel": 20, "travel": 20}, start, 900.0, 3)
    assert series["hotel"] == [0.5, None, None]
    assert series["travel"] == [None, 1.0, None]
    assert series["*"] == [0.5, 1.0, None]
