"""The demo's conversation history (ARCHITECTURE.md demo conventions): three weeks of web chats,
SMS replies and WeChat messages that came in, waited in the hotel and travel queues, were answered
by agent1–agent5 and closed with a wrap-up (the calls' codes), some web chats rated at the end and
a few abandoned before anyone answered — so the chat report (会话报表) shows figures at `make run`.
Made from a fixed seed, once (`HISTORY_TAG` marks them), all closed: none waits for the ACD."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.notify.models import ChatVisitor, Conversation, ConversationMessage

DAYS = 21
HISTORY_TAG = "demo-history"
"""The first demo conversation's address starts with it: the history is loaded once."""
ASKS = {
    "hotel": ["请问外滩店这周末还有大床房吗？", "可以帮我改一下入住日期吗？", "含早餐吗？几点开始供应？"],
    "travel": ["黄山三日游下个月还有名额吗？", "儿童怎么收费？", "可以开发票吗？"],
}
ANSWERS = ["您好，我帮您查一下，请稍等。", "已为您处理好了，还有其他需要吗？", "感谢您的咨询，祝您生活愉快！"]
NAMES = ["王先生", "李女士", "赵先生", "陈女士", "孙先生", "周女士", "吴先生", "郑女士"]
OUTCOMES = ["booked", "enquiry", "enquiry", "enquiry", "complaint", "callback", "other"]


async def load(ctx: Context, agents: list[int], zone: str = "Asia/Shanghai") -> int:
    """Three weeks of closed conversations answered by `agents`, once; returns how many were made."""
    if not agents:
        return 0
    async with ctx.write() as tx:
        s = tx.session
        if await s.scalar(
            select(Conversation.id).where(Conversation.address.like(f"{HISTORY_TAG}%")).limit(1)
        ):
            return 0
        made = await _history(s, agents, ZoneInfo(zone))
        tx.audit("demo.conversations_loaded", "conversation", None, after={"count": made})
        return made


async def _history(s: AsyncSession, agents: list[int], zone: ZoneInfo) -> int:
    rng = random.Random(24)  # noqa: S311 - demo data, the same every time
    today = utcnow().astimezone(zone).date()
    n = 0
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        for _ in range(rng.randint(6, 14)):
            n += 1
            hour = rng.choice([9, 10, 10, 11, 14, 15, 16, 19, 20])
            came = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=zone)
            await _conversation(s, rng, n, came.astimezone(UTC), agents)
    return n


async def _conversation(
    s: AsyncSession, rng: random.Random, n: int, came: datetime, agents: list[int]
) -> None:
    channel = rng.choices(["web", "sms", "wechat"], weights=[5, 3, 2])[0]
    queue = "travel" if channel == "web" and rng.random() < 0.35 else "hotel"
    address = {
        "web": f"{HISTORY_TAG}-web-{n:05d}",
        "sms": f"+861390000{n:04d}",
        "wechat": f"oHtlDemo_History_{_letters(n):A>11}",  # no run of digits that reads like a number
    }[channel]
    if n == 1:
        address = f"{HISTORY_TAG}-web-{n:05d}"  # the mark that the history is loaded
        channel = "web"
    abandoned = channel == "web" and rng.random() < 0.12
    wait = timedelta(seconds=rng.choice([3, 5, 8, 12, 20, 30, 45, 60, 90, 150]))
    agent = rng.choice(agents)
    assigned = None if abandoned else came + wait
    c = Conversation(
        channel=channel, address=address, status="closed", created_at=came, queue=queue, queued_at=came,
        assigned_to=None if abandoned else agent, assigned_at=assigned, first_assigned_at=assigned,
    )  # fmt: skip
    s.add(c)
    await s.flush()
    at = came
    lines: list[tuple[str, datetime, int | None, str]] = [("in", at, None, rng.choice(ASKS[queue]))]
    if assigned is None:  # abandoned
        c.closed_at = came + wait + timedelta(seconds=rng.randint(20, 90))
    else:
        at = assigned + timedelta(seconds=rng.randint(8, 75))
        for turn in range(rng.randint(1, 3)):
            lines.append(("out", at, agent, ANSWERS[min(turn, len(ANSWERS) - 1)]))
            at += timedelta(seconds=rng.randint(30, 180))
            if turn < 2:
                lines.append(("in", at, None, rng.choice(ASKS[queue])))
                at += timedelta(seconds=rng.randint(20, 120))
        c.closed_at = at + timedelta(seconds=rng.randint(30, 240))
        visitor_closed = channel == "web" and rng.random() < 0.4
        c.closed_by = None if visitor_closed else agent
        if not visitor_closed:
            c.disposition = rng.choice(OUTCOMES)
            c.wrap_note = "已预订，发送确认短信" if c.disposition == "booked" else ""
    c.last_message_at = lines[-1][1]
    for direction, when, author, text in lines:
        s.add(
            ConversationMessage(
                conversation_id=c.id, direction=direction, body=text, at=when, author_id=author
            )
        )
    if channel == "web":
        rated = not abandoned and rng.random() < 0.6
        s.add(ChatVisitor(
            conversation_id=c.id, token_hash=hashlib.sha256(address.encode()).hexdigest(),
            name=rng.choice(NAMES),
            topic="travel" if queue == "travel" else "hotel", site="yingguan-hotels", created_at=came,
            rating=rng.choices([5, 4, 3, 2, 1], weights=[50, 25, 12, 8, 5])[0] if rated else None,
            ended_at=c.closed_at,
        ))  # fmt: skip


def _letters(n: int) -> str:
    """n in base 26 as capital letters (0 → A): an OpenID tail with no digits."""
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out = chr(ord("A") + digit) + out
        if n == 0:
            return out
