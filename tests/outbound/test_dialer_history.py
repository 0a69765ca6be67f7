"""A predictive campaign's abandon windows after a restart, from its stored attempts: the answers
counted per minute by the database (a month of them is never read row by row on the event loop),
the abandons with their numbers — the same headroom as if the dialer had seen them live, or less,
never more; and the 72-hour rule for the abandoned numbers."""

from __future__ import annotations

from datetime import timedelta

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.outbound.dialer import Dialer
from hotline.outbound.models import Attempt, Campaign, Target
from hotline.outbound.pacer import DAY, AbandonWindows


async def test_the_windows_load_a_month_of_attempts_per_minute_and_never_allow_more(seeded: Context) -> None:
    now = utcnow()
    async with seeded.write() as tx:
        campaign = Campaign(code="history", name="历史", kind="service", mode="predictive", status="running")
        tx.session.add(campaign)
        await tx.session.flush()
        target = Target(campaign_id=campaign.id, phone="+8613900000001")
        tx.session.add(target)
        await tx.session.flush()
        live = AbandonWindows()
        plan = []
        for hour in range(40 * 24, 0, -7):  # every 7 hours over 40 days: some leave the 30-day window
            at = now - timedelta(hours=hour, seconds=hour % 53)
            plan += [(at + timedelta(seconds=s), "answered", "") for s in range(0, 40, 2)]  # 20 answers
            if hour % 5 == 0:
                plan.append((at + timedelta(seconds=41), "abandoned", f"+86139{hour:08d}"))
        plan.append((now - timedelta(minutes=3), "abandoned", "+8613911112222"))
        plan.append((now - timedelta(minutes=2), "no_answer", ""))  # not an answer
        plan.sort()
        for at, outcome, phone in plan:
            number = phone or target.phone
            tx.session.add(
                Attempt(
                    campaign_id=campaign.id, target_id=target.id, phone=number, kind="service", started_at=at,
                    outcome=outcome,
                )
            )  # fmt: skip
            if outcome == "answered":
                live.record_answer(at.timestamp())
            elif outcome == "abandoned":
                live.record_abandon(at.timestamp(), phone)

    loaded = await Dialer(seeded, None)._history(campaign.id)  # type: ignore[arg-type]
    t = now.timestamp()
    for window in loaded.windows:
        seen, abandons = live.counts(t, window)
        answers, dropped = loaded.counts(t, window)
        assert dropped == abandons and answers == seen  # nothing at a window's edge in this plan
    assert live.counts(t, DAY)[0] < live.counts(t, 30 * DAY)[0] < len([p for p in plan if p[1] == "answered"])
    for horizon in (0.0, 32.0, 3600.0):
        assert loaded.headroom(t, horizon) <= live.headroom(t, horizon)
    assert loaded.abandoned_recently("+8613911112222", t)
