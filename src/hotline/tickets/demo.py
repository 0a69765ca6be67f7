"""Demo tickets: the departments and work areas (with a few more staff logins), the shipped types,
SLAs and calendar, 张伟's open work order; and, for `hotline demo-data`, a few hundred tickets
across types and states over the last weeks, some past their SLA."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update

from hotline.admin import auth
from hotline.admin import users as accounts
from hotline.admin.models import Department, User
from hotline.admin.schemas import UserCreate
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context
from hotline.core.db import next_number
from hotline.crm.models import Customer
from hotline.notify.models import StaffNotice
from hotline.tickets import commands, deadlines, defaults, intake, state
from hotline.tickets.models import Ticket, TicketStep, TicketType, Unit, UnitMember
from hotline.tickets.schemas import LeaveMessageIn, TicketIn, TicketMoveIn
from hotline.tickets.sla import SHANGHAI

STAFF = (
    # username, name
    ("dept2", "郭师傅"),
    ("dept3", "罗工"),
    ("dept5", "许静"),
    ("rescue1", "黄队长"),
)
UNITS = (
    # code, name, kind, parent, lead, members, on duty, active, admin department
    ("service", "客服中心", "department", None, "supervisor", ("dept5",), False, True, "callcenter"),
    ("workarea-a", "工区A（客房维修）", "work_area", "service", "teamlead", ("dept1", "dept2"), False, True,
     "workarea-a"),
    ("workarea-b", "工区B（网络与电视）", "work_area", "service", "teamlead", ("dept3",), False, True, None),
    ("complaints", "投诉处理组", "department", "service", "supervisor", ("dept5",), False, True, None),
    ("rescue", "紧急救援值班组", "department", "service", "supervisor", ("rescue1",), True, True, None),
    ("old-store", "原门市部（已撤销）", "department", "service", None, (), False, False, "store"),
)  # fmt: skip
UNIT_OF_TYPE = {
    "work_order": ("workarea-a", "workarea-b"), "complaint": ("complaints",), "emergency": ("rescue",),
}  # fmt: skip


async def _users(ctx: Context) -> dict[str, User]:
    async with ctx.read() as session:
        return {u.username: u for u in (await session.scalars(select(User))).all()}


async def load(ctx: Context, zhang: int | None = None) -> int:
    """Types, SLAs, calendar, units (with the staff there is); 张伟's open work order. Idempotent.
    The extra staff logins come with `load_staff` (`hotline demo-data`)."""
    added = await defaults.load(ctx)
    users = await _users(ctx)
    async with ctx.write() as tx:
        have = {u.code: u for u in (await tx.session.scalars(select(Unit))).all()}
        departments = {d.code: d.id for d in (await tx.session.scalars(select(Department))).all()}
        for code, name, kind, parent, lead, _, on_duty, active, department in UNITS:
            if code in have:
                continue
            unit = Unit(
                code=code, name=name, kind=kind, parent_id=have[parent].id if parent else None,
                lead_id=users[lead].id if lead in users else None, on_duty=on_duty, active=active,
                department_id=departments.get(department or ""),
            )  # fmt: skip
            tx.session.add(unit)
            await tx.session.flush()
            have[code] = unit
            added += 1
    added += await _staff_units(ctx)
    if zhang is not None:
        added += await _zhang(ctx, zhang, users)
    return added


async def load_staff(ctx: Context) -> int:
    """More department staff (郭师傅, 罗工, 许静, 黄队长; password hotline-demo) on their units."""
    users = await _users(ctx)
    added = 0
    for username, name in STAFF:
        if username not in users:
            await accounts.create_user(
                ctx,
                UserCreate(
                    username=username,
                    display_name=name,
                    password="hotline-demo",  # noqa: S106 - documented demo login
                    roles=["dept_staff"],
                ),
            )
            added += 1
    return added + await _staff_units(ctx)


async def _staff_units(ctx: Context) -> int:
    """Each unit's staff of `UNITS` that exist and are not on it yet."""
    users = await _users(ctx)
    added = 0
    async with ctx.write() as tx:
        units = {u.code: u.id for u in (await tx.session.scalars(select(Unit))).all()}
        have = set(await tx.session.execute(select(UnitMember.unit_id, UnitMember.user_id)))
        for code, _name, _kind, _parent, _lead, staff, *_ in UNITS:
            for username in staff:
                if code in units and username in users and (units[code], users[username].id) not in have:
                    tx.session.add(UnitMember(unit_id=units[code], user_id=users[username].id))
                    added += 1
    return added


def _as(ctx: Context, user: User) -> Context:
    return ctx.as_actor(auth.actor_of(user, "cli"))


async def _zhang(ctx: Context, customer_id: int, users: dict[str, User]) -> int:
    """张伟's open ticket (ARCHITECTURE's demo contract): the air conditioning in his room, in
    process at work area A."""
    async with ctx.read() as session:
        if await session.scalar(select(Ticket.id).where(Ticket.customer_id == customer_id).limit(1)):
            return 0
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == "workarea-a"))
    appointment = (utcnow() + timedelta(days=1)).astimezone(SHANGHAI).replace(hour=10, minute=0, second=0,
                                                                              microsecond=0)  # fmt: skip
    agent = _as(ctx, users["agent3"])
    ticket = await commands.create(agent, TicketIn(
        type_code="work_order", title="客房空调不制冷", customer_id=customer_id, source="call",
        content="客人反映上海外滩店 1208 房空调不制冷，希望尽快上门维修。",
        fields={"device_type": "空调", "requirement_type": "维修", "appointment": appointment.isoformat(),
                "room": "上海外滩店 1208"},
    ))  # fmt: skip
    await commands.transition(_as(ctx, users["teamlead"]), ticket.id, TicketMoveIn(
        action="dispatch", unit_id=unit_id, assignee_id=users["dept1"].id, note="请明早按预约上门"))  # fmt: skip  # noqa: E501
    await commands.transition(
        _as(ctx, users["dept1"]), ticket.id, TicketMoveIn(action="process", note="已联系客人")
    )
    return 1


async def load_agent_ticket(ctx: Context) -> int:
    """张伟's enquiry in agent1's hands at the service centre, which agent1 joins (agent1's home
    page and idle desktop show it). For `hotline demo-data`, after the made-up tickets (so that
    this is agent1's only one). Idempotent."""
    users = await _users(ctx)
    title = "咨询外滩店行政酒廊开放时间"
    async with ctx.write() as tx:
        if "agent1" not in users or await tx.session.scalar(select(Ticket.id).where(Ticket.title == title)):
            return 0
        unit_id = await tx.session.scalar(select(Unit.id).where(Unit.code == "service"))
        zhang = await tx.session.scalar(select(Customer.id).where(Customer.member_number == "88000001"))
        if unit_id is None or zhang is None:
            return 0
        member = select(UnitMember.user_id).where(
            UnitMember.unit_id == unit_id, UnitMember.user_id == users["agent1"].id
        )
        if await tx.session.scalar(member) is None:
            tx.session.add(UnitMember(unit_id=unit_id, user_id=users["agent1"].id))
    ticket = await commands.create(_as(ctx, users["agent1"]), TicketIn(
        type_code="consultation", title=title, customer_id=zhang, source="call",
        content="客人想知道行政酒廊的开放时间和是否含下午茶，需向门店核实后回电。",
    ))  # fmt: skip
    await commands.transition(_as(ctx, users["teamlead"]), ticket.id, TicketMoveIn(
        action="dispatch", unit_id=unit_id, assignee_id=users["agent1"].id, note="请核实后回电客人"))  # fmt: skip  # noqa: E501
    return 1


TITLES = {
    "work_order": ["客房空调不制冷", "电视无信号", "门锁无法打开", "房间网络断线", "热水器不出热水"],
    "consultation": ["咨询三亚五日游价格", "咨询签证办理材料", "咨询酒店早餐时间", "咨询儿童票政策"],
    "business": ["申请开具发票", "行程改签", "退订云南六日游", "修改入住人姓名"],
    "complaint": ["导游强制购物", "客房卫生差", "前台服务态度差", "行程临时变更未告知", "退款迟迟未到账"],
    "suggestion": ["建议增加亲子线路", "建议官网支持微信支付"],
    "emergency": ["游客在景区走失", "团员突发疾病需送医", "大巴途中抛锚"],
    "accident": ["游客在酒店滑倒受伤", "行李在机场丢失"],
    "claim": ["航班延误险理赔", "意外医疗理赔"],
    "callback": ["语音留言回电"],
}
PATHS = (
    # the states a demo ticket went through, and how often
    (("dispatch", "process", "complete", "audit", "close"), 40),
    (("dispatch", "process", "complete", "audit"), 5),
    (("dispatch", "process", "complete"), 8),
    (("dispatch", "process"), 15),
    (("dispatch",), 10),
    (("dispatch", "process", "pend"), 5),
    (("dispatch", "reject"), 4),
    (("dispatch", "reject", "redispatch", "process", "complete", "audit", "close"), 5),
    ((), 8),
)


async def load_tickets(ctx: Context, count: int = 300, *, seed: int = 10) -> int:
    """A few hundred tickets over the last four weeks, in bulk; then the SLA sweep (the old open
    ones are past their targets: escalated, as they would have been)."""
    async with ctx.read() as session:
        if int(await session.scalar(select(func.count(Ticket.id))) or 0) > 5:
            return 0
        types = {t.code: t for t in (await session.scalars(select(TicketType))).all()}
        units = {u.code: u.id for u in (await session.scalars(select(Unit))).all()}
        staff: dict[int, list[int]] = {}
        for unit_id, user_id in await session.execute(select(UnitMember.unit_id, UnitMember.user_id)):
            staff.setdefault(unit_id, []).append(user_id)
        customers = list((await session.execute(select(Customer.id, Customer.name).limit(400))).all())
        auditor = await session.scalar(select(User.id).where(User.username == "supervisor"))
        agents = list((await session.scalars(select(User.id).where(User.username.like("agent%")))).all())
    if not types or "service" not in units or auditor is None:
        return 0
    rng = random.Random(seed)  # noqa: S311 - made-up data
    now = utcnow()
    codes = list(TITLES)
    weights = [3, 4, 3, 4, 1, 1, 1, 1, 1]
    paths = [p for p, _ in PATHS]
    path_weights = [w for _, w in PATHS]
    made = 0
    async with ctx.write() as tx:
        number = await next_number(tx.session, Ticket.number, commands.FIRST_NUMBER)
        for _ in range(count):
            code = rng.choices(codes, weights)[0]
            kind = types[code]
            day = (now - timedelta(days=rng.randint(0, 27))).astimezone(SHANGHAI).date()
            at = datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59)), tzinfo=SHANGHAI)
            if at > now:
                at = now - timedelta(minutes=rng.randint(5, 300))
            path = rng.choices(paths, path_weights)[0]
            if code == "emergency":
                path = ("dispatch", "process", "complete", "audit", "close")
            unit_id = units[rng.choice(UNIT_OF_TYPE.get(code, ("service",)))]
            customer = rng.choice(customers) if customers and rng.random() < 0.8 else None
            severity = (
                "critical"
                if code == "emergency"
                else rng.choice(["low", "normal", "normal", "normal", "high"])
            )
            ticket = Ticket(
                number=str(number), type_id=kind.id, title=rng.choice(TITLES[code]), content="（演示数据）",
                fields=_demo_fields(code, at, rng), customer_id=customer[0] if customer else None,
                contact_name=customer[1] if customer else "散客", phone=f"139{rng.randint(10_000_000, 99_999_999)}",  # noqa: E501
                source=rng.choice(["call", "call", "call", "voicemail", "email", "walk_in", "web"]),
                severity=severity, priority=1 if code == "emergency" else commands.PRIORITY[severity],
                status="new", created_at=at, updated_at=at, created_by=rng.choice(agents) if agents else None,
            )  # fmt: skip
            number += 1
            tx.session.add(ticket)
            await tx.session.flush()
            steps = [TicketStep(ticket_id=ticket.id, at=at, by=ticket.created_by, action="create", before="",
                                after="new", note="来电受理")]  # fmt: skip
            snapshot = state.Snapshot(must_tell=False)
            for action in path:
                # rescue moves in minutes (a 2-hour target, around the clock); the rest in hours
                at += timedelta(minutes=rng.randint(5, 50) if code == "emergency" else rng.randint(10, 600))
                if at > now:
                    break
                people: list[int] = staff.get(unit_id) or ([auditor] if auditor else [])
                actor = auditor if action in ("dispatch", "redispatch", "audit", "close") else people[0]
                move = state.Move(action, actor, note=_note(action), unit_id=unit_id, assignee_id=rng.choice(people),  # noqa: E501
                                  result="已处理完毕，客户确认。" if action == "complete" else "")  # fmt: skip  # noqa: E501
                if action == "audit" and snapshot.processor_id == auditor:
                    break
                snapshot, step = state.apply(snapshot, move)
                steps.append(TicketStep(ticket_id=ticket.id, at=at, by=step.by, action=step.action,
                                        before=step.before, after=step.after, unit_id=step.unit_id,
                                        assignee_id=step.assignee_id, note=step.note))  # fmt: skip
                if action == "process" and ticket.first_response_at is None:
                    ticket.first_response_at = at
                if action == "reject":
                    ticket.misdispatches += 1
                if action == "complete":
                    ticket.completed_at = at
                if action == "close":
                    ticket.closed_at, ticket.told_at, ticket.told_by = at, at, "phone"
                    ticket.satisfaction = rng.choice([3, 4, 5, 5, 5, None])
            ticket.status, ticket.unit_id, ticket.assignee_id = (
                snapshot.status,
                snapshot.unit_id,
                snapshot.assignee_id,
            )
            ticket.processor_id, ticket.auditor_id, ticket.result = (snapshot.processor_id, snapshot.auditor_id,  # noqa: E501
                                                                     snapshot.result)  # fmt: skip
            ticket.updated_at = steps[-1].at
            tx.session.add_all(steps)
            made += 1
        tx.audit("demo.tickets_loaded", "ticket", None, after={"count": made})
    began = utcnow()
    await deadlines.sla_sweep(ctx.as_actor(Actor.system("tickets")), now=now)
    async with ctx.write() as tx:  # the weeks-old warnings were seen at the time: only new ones ring the bell
        await tx.session.execute(
            update(StaffNotice)
            .where(StaffNotice.created_at >= began, StaffNotice.read_at.is_(None))
            .values(read_at=now)
        )
    return made


def _note(action: str) -> str:
    return {"reject": "不属于本工区处理范围（误派）", "pend": "等待客人补充资料", "dispatch": "请尽快处理",
            "redispatch": "改派"}.get(action, "")  # fmt: skip


def _demo_fields(code: str, at: datetime, rng: random.Random) -> dict[str, object]:
    if code == "work_order":
        return {"device_type": rng.choice(["数字", "空调", "电视", "门锁", "网络"]),
                "requirement_type": rng.choice(["维修", "测试", "安装"]),
                "appointment": (at + timedelta(days=1)).isoformat()}  # fmt: skip
    if code == "complaint":
        return {"category": rng.choice(["服务态度", "卫生", "导游", "价格"])}
    if code == "emergency":
        return {"location": "三亚亚龙湾景区", "people": rng.randint(1, 5), "injured": rng.random() < 0.3}
    if code == "business":
        return {"business_type": rng.choice(["改签", "退订", "发票"])}
    if code == "accident":
        return {"accident_time": at.isoformat(), "location": "酒店大堂"}
    if code == "claim":
        return {"policy_number": f"PA{rng.randint(100000, 999999)}", "amount": str(rng.randint(200, 5000)),
                "incident_date": at.date().isoformat()}  # fmt: skip
    return {}


MESSAGES_LEFT = [
    (2, "demoLeft00000000000001", "钱女士", "13900139001", "想预订下周六外滩店两间大床房，请回电。"),
    (6, "demoLeft00000000000002", "冯先生", "13900139002", "黄山三日游能否开增值税专用发票？"),
    (11, "demoLeft00000000000003", "褚女士", "13900139003", "上周入住时遗落了一件外套，请帮忙找一下。"),
]
"""(days ago, key, name, phone, text): web chat messages left when nobody was there (chat report)"""


async def load_messages_left(ctx: Context) -> int:
    """A few web chat messages left over the last weeks, each a 留言回电 ticket (tickets/intake.py),
    dated on the day it was left; once (the same key answers the same ticket)."""
    system = ctx.as_actor(Actor.system("tickets:web"))
    for days, key, name, phone, text in MESSAGES_LEFT:
        left = await intake.leave_message(
            system, LeaveMessageIn(key=key, name=name, phone=phone, text=text, site="yingguan-hotels")
        )
        at = utcnow() - timedelta(days=days)
        async with ctx.write() as tx:
            await tx.session.execute(
                update(Ticket)
                .where(Ticket.number == left.number, Ticket.created_at > at)
                .values(created_at=at)
            )
    return len(MESSAGES_LEFT)
