"""Demo data for `make run` and `hotline demo-data` (idempotent).

The conventions here are a contract (ARCHITECTURE.md, "Demo conventions"):
every login below has the password `hotline-demo`; agent1…agent5 have work
numbers 001…005 and extensions 1001…1005. Later domains extend this module.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hotline.admin import users
from hotline.admin.models import Department, Team, User
from hotline.admin.schemas import UserCreate
from hotline.contact import callbacks
from hotline.contact.agents.schemas import AgentPhoneIn, AgentProfileIn
from hotline.contact.agents.service import choose_phone, save_profile
from hotline.contact.models import AgentProfile, CallbackTask, ContactEvent, QueueDef
from hotline.contact.queues.settings import save_queue
from hotline.contact.schemas import QueueIn, StepIn
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.crm import fake, loyalty, timeline
from hotline.crm import service as crm
from hotline.crm.models import Customer, PointsEntry
from hotline.crm.schemas import CustomerIn
from hotline.hotels import demo as hotels_demo
from hotline.knowledge import demo as knowledge_demo
from hotline.notify import defaults as notify_defaults
from hotline.notify import demo as notify_demo
from hotline.outbound import demo as outbound_demo
from hotline.quality.recordings import demo as recordings_demo
from hotline.quality.reviews import demo as reviews_demo
from hotline.quality.speech import demo as speech_demo
from hotline.reports import demo as reports_demo
from hotline.telephony import service as telephony
from hotline.telephony.models import Extension, Trunk
from hotline.telephony.schemas import DidCreate, ExtensionCreate, TrunkCreate
from hotline.tickets import demo as tickets_demo
from hotline.travel import demo as travel_demo
from hotline.voice.media.g711 import tone, ulaw_encode

DEMO_PASSWORD = "hotline-demo"  # noqa: S105 - documented demo login (ARCHITECTURE.md)
SIP_EXTENSIONS = {str(number): f"sip{number}" for number in range(1001, 1011)}
"""Demo SIP extensions and their passwords (ARCHITECTURE.md); agent1…agent5 sit at 1001…1005."""
PHONES = {"1009": "supervisor"}
"""Other logins with a desk phone: the supervisor listens in (and whispers, barges) on 1009."""
DEMO_DIDS = {"4008001000": ("hotel", "酒店预订热线"), "4008002000": ("travel", "旅游服务热线")}
"""The demo trunk (127.0.0.1, no authentication) delivers the hotel and the travel number."""


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str
    work_number: str | None = None


DEPARTMENTS = (
    # code, name, kind, parent
    ("group", "英冠酒店集团", "group", None),
    ("callcenter", "集团呼叫中心", "call_center", "group"),
    ("travel", "英冠国际旅行社", "travel_agency", "group"),
    ("planning", "计调部", "department", "travel"),
    ("store", "门市部", "department", "travel"),
    ("finance", "财务部", "department", "group"),
    ("it", "信息技术部", "department", "group"),
    ("workarea-a", "工区A（客房维修）", "work_area", "group"),
)

USERS = (
    DemoUser("admin", "系统管理员", ("admin",), "it"),
    DemoUser("supervisor", "王主管", ("supervisor",), "callcenter", "101"),
    DemoUser("teamlead", "李组长", ("team_lead",), "callcenter", "100"),
    DemoUser("agent1", "陈晓", ("agent",), "callcenter", "001"),
    DemoUser("agent2", "林芳", ("agent",), "callcenter", "002"),
    DemoUser("agent3", "赵磊", ("agent",), "callcenter", "003"),
    DemoUser("agent4", "周婷", ("agent",), "callcenter", "004"),
    DemoUser("agent5", "吴昊", ("agent",), "callcenter", "005"),
    DemoUser("planner", "孙计调", ("planner",), "planning"),
    DemoUser("frontdesk", "郑前台", ("front_desk",), "store"),
    DemoUser("finance", "钱会计", ("finance",), "finance"),
    DemoUser("qa", "冯质检", ("qa",), "callcenter"),
    DemoUser("dept1", "何师傅", ("dept_staff",), "workarea-a"),
)

TEAMS = (
    # name, leader, members (admin/teams.py: an agent is in at most one team)
    ("预订一组", "teamlead", ("agent1", "agent2", "agent3")),
    ("旅游一组", None, ("agent4", "agent5")),
)


async def load(ctx: Context, *, hotel_days: int = hotels_demo.DAYS) -> list[str]:
    """Create what is missing; return the usernames created."""
    async with ctx.write() as tx:
        existing = {d.code: d for d in (await tx.session.scalars(select(Department))).all()}
        for code, name, kind, parent in DEPARTMENTS:
            if code not in existing:
                department = Department(
                    code=code,
                    name=name,
                    kind=kind,
                    parent_id=existing[parent].id if parent else None,
                )
                tx.session.add(department)
                await tx.session.flush()
                existing[code] = department
    created: list[str] = []
    for demo in USERS:
        async with ctx.read() as session:
            if await session.scalar(select(User.id).where(User.username == demo.username)):
                continue
        user = await users.create_user(
            ctx,
            UserCreate(
                username=demo.username,
                display_name=demo.display_name,
                password=DEMO_PASSWORD,
                roles=list(demo.roles),
                work_number=demo.work_number,
            ),
        )
        async with ctx.write() as tx:
            row = await tx.session.get(User, user.id)
            if row is not None:
                row.department_id = existing[demo.department].id
        created.append(demo.username)
    await _load_teams(ctx, existing["callcenter"].id)
    await _load_telephony(ctx)
    await _load_routing(ctx)
    zhang = await _load_demo_customer(ctx)
    await hotels_demo.load(ctx, days=hotel_days)
    await notify_defaults.load(ctx)
    await knowledge_demo.load(ctx)
    await hotels_demo.load_bookings(ctx, zhang)
    await tickets_demo.load(ctx, zhang)
    await tickets_demo.load_messages_left(ctx)
    await travel_demo.load(ctx)
    await travel_demo.load_customer_order(ctx, zhang)
    await notify_demo.load(ctx)
    await reviews_demo.load(ctx)
    await reports_demo.load(ctx)
    await outbound_demo.load(ctx)
    return created


async def _load_teams(ctx: Context, department_id: int) -> None:
    async with ctx.write() as tx:
        ids = {str(n): int(i) for n, i in (await tx.session.execute(select(User.username, User.id))).all()}
        for name, leader, members in TEAMS:
            if await tx.session.scalar(select(Team.id).where(Team.name == name)):
                continue
            team = Team(name=name, leader_id=ids.get(leader or ""), department_id=department_id)
            tx.session.add(team)
            await tx.session.flush()
            for user in (await tx.session.scalars(select(User).where(User.username.in_(members)))).all():
                if user.team_id is None:
                    user.team_id = team.id


DEMO_CALLBACKS = (
    # number, queue, why, misses
    ("13800138000", "hotel", "abandoned", 2),  # 张伟: his name shows on agent1's desktop
    ("13912345678", "travel", "timed_out", 1),
)
DEMO_DAY = (
    # agent, queue, minutes ago, seconds waited, seconds talked (None: the caller hung up waiting)
    ("agent1", "hotel", 50, 6, 240),
    ("agent1", "hotel", 35, 12, 180),
    ("agent1", "travel", 20, 9, 300),
    ("agent2", "hotel", 15, 45, None),
)


async def load_agent_day(ctx: Context) -> None:
    """Callers to ring back, a ticket in agent1's hands and a few calls today on the event log:
    agent1's desktop shows their figures, callbacks and ticket, the supervisor's floor a service
    level and callbacks to watch (docs/home.md). For `hotline demo-data` (the tests' demo stays
    without them); idempotent."""
    await tickets_demo.load_agent_ticket(ctx)
    await recordings_demo.load(ctx)
    await reviews_demo.score_recordings(ctx)
    await speech_demo.load(ctx)
    for number, queue, reason, misses in DEMO_CALLBACKS:
        ref = f"demo:{number}"
        if await callbacks.open_call_task(ctx, number, ref, reason, queue=queue):
            async with ctx.write() as tx:
                task = await tx.session.scalar(select(CallbackTask).where(CallbackTask.call_id == ref))
                if task is not None:
                    task.misses = misses
    async with ctx.read() as session:
        # its own calls only: the quality demos log calls of their own (demo-rec-…, demo-qa-…)
        day = [f"demo-{n}" for n in range(len(DEMO_DAY))]
        if await session.scalar(select(ContactEvent.id).where(ContactEvent.call_id.in_(day)).limit(1)):
            return
        users = {row[0]: row[1] for row in await session.execute(select(User.username, User.id))}
    now = utcnow()
    zone = ZoneInfo(ctx.settings.default_timezone)
    start = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone) + timedelta(minutes=1)
    # in the day's first hour the calls keep their spacing from just after midnight (some then end a
    # few minutes ahead of the clock) rather than piling up at midnight on top of each other
    earliest = max(ago for _, _, ago, _, _ in DEMO_DAY)
    anchor = max(now, start + timedelta(minutes=earliest))
    async with ctx.write() as tx:
        for n, (username, queue, ago, waited, talked) in enumerate(DEMO_DAY):
            call_id, agent = f"demo-{n}", users.get(username)
            queued = anchor - timedelta(minutes=ago)
            log = [ContactEvent(at=queued, kind="queued", call_id=call_id, queue=queue)]
            if talked is None:
                log.append(
                    ContactEvent(
                        at=queued + timedelta(seconds=waited), kind="abandoned", call_id=call_id, queue=queue
                    )
                )
            else:
                answered = queued + timedelta(seconds=waited)
                ended = answered + timedelta(seconds=talked)
                log += [
                    ContactEvent(at=answered, kind="answered", call_id=call_id, queue=queue, agent_id=agent),
                    ContactEvent(at=ended, kind="ended", call_id=call_id, queue=queue, agent_id=agent),
                    ContactEvent(at=ended, kind="agent", agent_id=agent, state="wrap_up", call_id=call_id),
                    ContactEvent(
                        at=ended + timedelta(seconds=20),
                        kind="agent",
                        agent_id=agent,
                        state="ready",
                        detail="demo",
                    ),
                ]
            tx.session.add_all(log)


DEMO_TIMELINE = (
    (45, "visit", "到访 上海外滩店：咨询会议室", "为公司年会看场地，留下联系方式。"),
    (30, "call", "来电 4008001000 · 酒店预订热线 · 003号 赵磊接听", "预订外滩店 2 晚大床房 · 通话 4 分钟"),
    (
        3,
        "call",
        "来电 4008001000 · 酒店预订热线 · 003号 赵磊接听",
        "确认入住时间与发票抬头 · 通话 2 分钟 · 已录音",
    ),
)


async def _load_demo_customer(ctx: Context) -> int:
    """张伟, 13800138000, member number 88000001 (ARCHITECTURE.md's demo customer), served last by
    agent3 so that his calls go to 003 first; returns his id."""
    async with ctx.read() as session:
        found = await session.scalar(select(Customer.id).where(Customer.member_number == "88000001"))
        if found is not None:
            return int(found)
        agent3 = await session.scalar(select(User.id).where(User.username == "agent3"))
    data = {k: v for k, v in fake.DEMO_CUSTOMER.items() if k != "points"}
    created = await crm.create(ctx, CustomerIn.model_validate(data | {"phones": [{"number": "13800138000"}]}))
    points = int(str(fake.DEMO_CUSTOMER["points"]))
    now = utcnow()
    async with ctx.write() as tx:
        customer = await tx.session.get(Customer, created.id)
        if customer is not None:  # the ledger, each line on the timeline: the file tells one story
            stay = 1650
            lines = [
                PointsEntry(**fake.opening(customer.id, points - stay, now - timedelta(days=60))),
                PointsEntry(customer_id=customer.id, at=now - timedelta(days=12), kind="earn", points=stay,
                            remaining=stay, expires_at=now - timedelta(days=12) + loyalty.VALID_FOR,
                            reason="外滩店 2 晚（金卡 ×1.5）", ref="demo:stay"),
            ]  # fmt: skip
            tx.session.add_all(lines)
            await tx.session.flush()
            tx.session.add_all([timeline.points_line(line) for line in lines])
            customer.points = points  # the ledger's sum
            customer.last_agent_id = agent3
    for days, kind, title, detail in DEMO_TIMELINE:
        await timeline.add(ctx, created.id, kind, title, ref=f"demo:{kind}:{days}", detail=detail,
                           at=now - timedelta(days=days), by=agent3)  # fmt: skip
    return created.id


async def load_customers(ctx: Context, count: int = 2000) -> int:
    """The demo's crowd of customers (same-name pairs, second phones), in bulk; once."""
    async with ctx.read() as session:
        have = int(await session.scalar(select(func.count(Customer.id))) or 0)
    if have > 1:
        return 0
    async with ctx.write() as tx:
        inserted = await fake.insert_customers(tx.session, count)
        tx.audit("demo.customers_loaded", "customer", None, after={"count": inserted})
    return inserted


DEMO_QUEUES = {
    "hotel": QueueIn(
        title="酒店预订", skill="hotel", strategy="longest-idle",
        steps=[StepIn(until=20, sticky=True), StepIn(until=60, min_level=3), StepIn()],
        max_wait_seconds=300, hold_prompt="hold-music", chat_channels=["sms", "wechat", "web", "wecom"],
    ),
    "travel": QueueIn(
        title="旅游咨询", skill="travel", strategy="round-robin",
        steps=[StepIn(until=20, sticky=True), StepIn()], max_wait_seconds=300, hold_prompt="hold-music",
        chat_channels=["web"],
    ),
    "emergency": QueueIn(
        title="紧急救援", skill="emergency", strategy="longest-idle", steps=[StepIn()],
        wrap_seconds=0, max_wait_seconds=60, overflow_to="travel", hold_prompt="hold-music",
        announce_seconds=0, offer_callback=False, join_when_empty=True,
    ),
}  # fmt: skip
DEMO_SKILLS = {
    "agent1": {"hotel": 5, "travel": 2},
    "agent2": {"hotel": 4},
    "agent3": {"hotel": 3, "emergency": 3},
    "agent4": {"travel": 5, "emergency": 4},
    "agent5": {"travel": 3, "hotel": 2},
}
BROWSER_PHONES = {"agent1"}
"""Agents who answer in the browser (issue 23: `make run` lets agent1 take a call with no other
software); the others keep their desk phones (extension password sip + extension)."""


async def _load_routing(ctx: Context) -> None:
    """Queues for the shipped flows, agents' skills, and agent1–5 logged in and ready (as the
    event log records it, so the voice node starts with them ready)."""
    async with ctx.read() as session:
        queues = set((await session.scalars(select(QueueDef.name))).all())
        users = {row[0]: row[1] for row in await session.execute(select(User.username, User.id))}
        profiled = set((await session.scalars(select(AgentProfile.user_id))).all())
        logged = set(
            (await session.scalars(select(ContactEvent.agent_id).where(ContactEvent.kind == "agent"))).all()
        )
    for name in ("travel", "hotel", "emergency"):  # emergency overflows to travel: travel first
        if name not in queues:
            await save_queue(ctx, name, DEMO_QUEUES[name])
    for username, skills in DEMO_SKILLS.items():
        user_id = users.get(username)
        if user_id is not None and user_id not in profiled:
            await save_profile(ctx, user_id, AgentProfileIn(skills=skills))
            if username in BROWSER_PHONES:
                await choose_phone(ctx, None, user_id, AgentPhoneIn(phone="browser"))
    async with ctx.write() as tx:
        for username in DEMO_SKILLS:
            user_id = users.get(username)
            if user_id is not None and user_id not in logged:
                tx.session.add(
                    ContactEvent(
                        at=utcnow(), kind="agent", agent_id=user_id, state="ready", detail="demo: ready"
                    )
                )


@functools.cache
def hold_music() -> bytes:
    """A soft 16-second chime melody in 8 kHz μ-law, made here so the demo needs no audio files."""
    notes = [523, 659, 784, 659, 587, 698, 880, 698, 523, 659, 784, 1047, 784, 659, 587, 523]
    samples: list[int] = []
    for frequency in notes:
        tone_samples = tone(frequency, 1000, amplitude=3000)
        fade = len(tone_samples)
        samples += [round(s * (1 - n / fade) ** 2) for n, s in enumerate(tone_samples)]
    return ulaw_encode(samples)


async def _load_telephony(ctx: Context) -> None:
    async with ctx.read() as session:
        have = set((await session.scalars(select(Extension.number))).all())
        agents = {row[0]: row[1] for row in await session.execute(select(User.username, User.id))}
        trunk_id = await session.scalar(select(Trunk.id).where(Trunk.name == "demo"))
    for number, password in SIP_EXTENSIONS.items():
        if number in have:
            continue
        seat = int(number) - 1000
        username = f"agent{seat}" if seat <= 5 else PHONES.get(number)
        user_id = agents.get(username) if username else None
        name = next((u.display_name for u in USERS if u.username == username), f"坐席 {number}")
        await telephony.create_extension(
            ctx, ExtensionCreate(number=number, display_name=name, password=password, user_id=user_id)
        )
    if not await telephony.prompt_audio(ctx, "hold-music"):
        await telephony.store_prompt(
            ctx, "hold-music", hold_music(), source="upload", description="等待音乐（演示：钟声旋律）"
        )
    if trunk_id is None:
        trunk = await telephony.create_trunk(ctx, TrunkCreate(name="demo", host="127.0.0.1", outbound=False))
        for did, (entry, description) in DEMO_DIDS.items():
            await telephony.create_did(
                ctx, DidCreate(number=did, trunk_id=trunk.id, entry_point=entry, description=description)
            )
