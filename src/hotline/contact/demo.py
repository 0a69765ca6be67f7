"""Today's calls for the demo (`hotline demo-data`): a few calls per quarter-hour over the last
ten hours of today (China time) in the hotel and travel queues, so the wallboard's service-level
chart and today's figures show a day's shape on a fresh demo. Written to the event log as the
voice node would: queued, then answered (by a demo agent with the skill) and ended, or abandoned.
Once a day."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hotline.admin.models import User
from hotline.contact.models import ContactEvent
from hotline.core.clock import utcnow
from hotline.core.context import Context

AGENTS = {"hotel": ("agent1", "agent2", "agent3", "agent5"), "travel": ("agent1", "agent4", "agent5")}


async def load_calls_today(ctx: Context, per_quarter: int = 3, *, seed: int = 19) -> int:
    """Calls of today until now; nothing when today's demo calls are there already."""
    zone = ZoneInfo(ctx.settings.default_timezone)
    now = utcnow()
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    prefix = f"demo-{midnight:%Y%m%d}-"
    async with ctx.read() as session:
        if await session.scalar(
            select(func.count(ContactEvent.id)).where(ContactEvent.call_id.like(prefix + "%"))
        ):
            return 0
        ids = dict((await session.execute(select(User.username, User.id))).all())
    rng = random.Random(seed)  # noqa: S311 — made-up calls, not secrets
    made = 0
    async with ctx.write() as tx:
        quarter = max(midnight, now - timedelta(hours=10))  # a 24-hour line: the last ten hours
        while quarter < now:
            for _ in range(rng.randint(max(0, per_quarter - 2), per_quarter + 2)):
                queue = rng.choice(("hotel", "hotel", "travel"))
                call = f"{prefix}{made}"
                at = quarter + timedelta(seconds=rng.randint(0, 899))
                wait = rng.choice((3, 5, 8, 12, 15, 18, 25, 40, 70))
                events = [ContactEvent(at=at, kind="queued", call_id=call, queue=queue, detail="demo")]
                if rng.random() < 0.08:
                    gone = at + timedelta(seconds=wait)
                    events.append(
                        ContactEvent(at=gone, kind="abandoned", call_id=call, queue=queue, detail="demo")
                    )
                else:
                    agent = ids.get(rng.choice(AGENTS[queue]))
                    answered = at + timedelta(seconds=wait)
                    events += [
                        ContactEvent(at=answered, kind="answered", call_id=call, queue=queue, agent_id=agent,
                                     detail="demo"),
                        ContactEvent(at=answered + timedelta(seconds=rng.randint(60, 420)), kind="ended",
                                     call_id=call, queue=queue, agent_id=agent, detail="demo"),
                    ]  # fmt: skip
                tx.session.add_all(e for e in events if e.at < now)
                made += 1
            quarter += timedelta(minutes=15)
    return made
