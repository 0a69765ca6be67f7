"""Today's calls for the demo (`hotline demo-data`): a few calls per quarter-hour over the last
ten hours of today (China time) in the hotel and travel queues, so the wallboard's service-level
chart and today's figures show a day's shape on a fresh demo. Written to the event log as the
voice node would: queued, then answered (by a demo agent with the skill) and ended, or abandoned.
Once a day. And callers served by the IVR alone (`load_ivr_today`): travel routes asked about on
the travel line, hotel orders enquired after on the hotel line, so the IVR report has its nodes
and its enquiries per route and per hotel."""

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


async def _today(ctx: Context, name: str) -> tuple[datetime, datetime, str] | None:
    """Now, the site's midnight and the call-id prefix of today's demo calls of this `name`;
    None when they are on the log already (once a day)."""
    zone = ZoneInfo(ctx.settings.default_timezone)
    now = utcnow()
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    prefix = f"{name}-{midnight:%Y%m%d}-"
    async with ctx.read() as session:
        if await session.scalar(
            select(func.count(ContactEvent.id)).where(ContactEvent.call_id.like(prefix + "%"))
        ):
            return None
    return now, midnight, prefix


async def load_calls_today(ctx: Context, per_quarter: int = 3, *, seed: int = 19) -> int:
    """Calls of today until now; nothing when today's demo calls are there already."""
    today = await _today(ctx, "demo")
    if today is None:
        return 0
    now, midnight, prefix = today
    async with ctx.read() as session:
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


# (flow, the nodes walked with their kinds, what was asked about), as the shipped flows run them
IVR_WALKS = (
    ("travel", (("main", "menu"), ("routes", "menu"), ("route_sy5", "set"), ("find_route", "lookup"),
                ("read_route", "say"), ("more", "menu"), ("goodbye", "hangup")), "route:SY5"),
    ("travel", (("main", "menu"), ("routes", "menu"), ("route_yn6", "set"), ("find_route", "lookup"),
                ("read_route", "say"), ("more", "menu"), ("goodbye", "hangup")), "route:YN6"),
    ("travel", (("main", "menu"), ("routes", "menu"), ("route_jzg5", "set"), ("find_route", "lookup"),
                ("read_route", "say"), ("more", "menu"), ("goodbye", "hangup")), "route:JZG5"),
    ("travel", (("main", "menu"), ("routes", "menu"), ("route_gl4", "set"), ("find_route", "lookup"),
                ("read_route", "say"), ("more", "menu"), ("goodbye", "hangup")), "route:GL4"),
    ("hotel", (("welcome", "menu"), ("ask_member", "collect"), ("check_member", "lookup"),
               ("check_caller", "lookup"), ("find_order", "lookup"), ("read_order", "say"),
               ("after_enquiry", "menu"), ("goodbye", "hangup")), "hotel:HZ-XH"),
    ("hotel", (("welcome", "menu"), ("ask_member", "collect"), ("check_member", "lookup"),
               ("check_caller", "lookup"), ("find_order", "lookup"), ("read_order", "say"),
               ("after_enquiry", "menu"), ("goodbye", "hangup")), "hotel:SH-BUND"),
)  # fmt: skip
LINES = {"hotel": "4008001000", "travel": "4008002000"}
MIX = (0, 1, 0, 4, 2, 0, 1, 3, 5, 0, 1, 4)
"""Which walk each call takes, in turn: Sanya asked most, then Yunnan, the hotels on the side."""


async def load_ivr_today(ctx: Context, calls: int = 36, *, seed: int = 23) -> int:
    """Calls of the last ten hours the IVR served by itself (arrived, the nodes, the enquiry,
    finished); nothing when today's are there already."""
    today = await _today(ctx, "demo-ivr")
    if today is None:
        return 0
    now, midnight, prefix = today
    rng = random.Random(seed)  # noqa: S311 — made-up calls, not secrets
    start = max(midnight, now - timedelta(hours=10))
    span = max(60, int((now - start).total_seconds()) - 120)
    lines: list[ContactEvent] = []
    for n in range(calls):
        flow, walk, about = IVR_WALKS[MIX[n % len(MIX)]]
        call = f"{prefix}{n}"
        at = start + timedelta(seconds=rng.randint(0, span))
        caller = f"139{rng.randint(0, 99_999_999):08d}"
        lines.append(ContactEvent(at=at, kind="arrived", call_id=call, queue=flow,
                                  detail=f"{caller} → {LINES[flow]}"))  # fmt: skip
        for node, kind in walk:
            at += timedelta(seconds=rng.randint(3, 12))
            lines.append(ContactEvent(at=at, kind="ivr", call_id=call, queue=flow, detail=node, state=kind))
            if kind == "lookup" and node in ("find_route", "find_order"):
                lines.append(ContactEvent(at=at, kind="enquiry", call_id=call, detail=about))
        lines.append(
            ContactEvent(at=at + timedelta(seconds=2), kind="finished", call_id=call, detail="completed")
        )
    async with ctx.write() as tx:
        tx.session.add_all(line for line in lines if line.at < now)
    return calls
