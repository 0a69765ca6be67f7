"""The demo travel desk of 英冠国际旅行社: 30 routes (18 domestic, 12 international) with their
day-by-day itineraries, departures from four months back to six months ahead, three insurance
products, the planner's desk, the SMS rules, 张伟's order (carried through the workflow by the
demo staff, so its history, notices and texts are real) and, for `hotline demo-data`, a few
hundred made-up orders in every state with their money."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update

from hotline.admin.models import User, UserRole
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context
from hotline.core.permissions import permissions_for
from hotline.crm.models import Customer
from hotline.notify import defaults as notify_defaults
from hotline.travel import items, ledger, notices, workflow
from hotline.travel.catalogue import SHANGHAI, today
from hotline.travel.models import (
    Assignment,
    Departure,
    FollowUp,
    InsuranceProduct,
    LedgerLine,
    Order,
    OrderChange,
    OrderItem,
    PlannerDesk,
    Route,
)
from hotline.travel.schemas import (
    AssignIn,
    CostIn,
    FollowUpIn,
    HandOverIn,
    ItemIn,
    OrderIn,
    ReceiptIn,
    SignIn,
)
from hotline.travel.state import State

PLANNER_PHONE = "021-63218800"
DOMESTIC_IN = "往返大交通、行程所列酒店住宿（双人标间）、行程内用餐、景点首道门票、全程导游服务、旅行社责任险"
ABROAD_IN = (
    "往返国际机票及税费、签证费、行程所列酒店（双人间）、行程内用餐、景点首道门票、中文领队及当地导游服务"
)
EXCLUDED = "单房差、个人消费、旅游意外险（建议购买）、行程外自费项目、因不可抗力产生的额外费用"
ROUTES = (
    ("SY5", "三亚双飞五日游", "domestic", "三亚", 3680, 2680, 900, ("蜈支洲岛 海上项目", "南山文化旅游区 · 天涯海角", "亚龙湾 自由活动")),  # noqa: E501
    ("YN6", "云南昆明大理丽江六日游", "domestic", "云南", 4280, 3280, 1200, ("昆明—大理 洱海骑行", "大理古城 · 双廊", "大理—丽江 丽江古城", "玉龙雪山 · 蓝月谷")),  # noqa: E501
    ("GL4", "桂林阳朔四日游", "domestic", "桂林", 2380, 1680, 600, ("漓江精华游 · 阳朔西街", "遇龙河竹筏 · 十里画廊")),  # noqa: E501
    ("ZJJ5", "张家界凤凰古城五日游", "domestic", "张家界", 2980, 2180, 700, ("国家森林公园 · 袁家界", "天门山 · 玻璃栈道", "凤凰古城夜景")),  # noqa: E501
    ("JZG5", "九寨沟黄龙五日游", "domestic", "九寨沟", 3880, 2880, 1000, ("成都—九寨沟", "九寨沟全天", "黄龙 · 返回成都")),  # noqa: E501
    ("XA4", "西安兵马俑华清宫四日游", "domestic", "西安", 2280, 1580, 500, ("兵马俑 · 华清宫", "大雁塔 · 大唐不夜城")),  # noqa: E501
    ("BJ5", "北京故宫长城五日游", "domestic", "北京", 2880, 1980, 800, ("天安门 · 故宫", "八达岭长城 · 奥林匹克公园", "颐和园 · 圆明园")),  # noqa: E501
    ("HZ3", "杭州西湖乌镇三日游", "domestic", "杭州", 1380, 980, 400, ("乌镇东栅 · 西栅夜景",)),
    ("HS3", "黄山宏村三日游", "domestic", "黄山", 1580, 1080, 450, ("黄山风景区 · 光明顶",)),
    ("XM4", "厦门鼓浪屿土楼四日游", "domestic", "厦门", 2180, 1580, 600, ("鼓浪屿 · 日光岩", "南靖土楼 · 云水谣")),  # noqa: E501
    ("QD4", "青岛崂山海滨四日游", "domestic", "青岛", 1980, 1380, 550, ("崂山风景区", "八大关 · 栈桥 · 啤酒博物馆")),  # noqa: E501
    ("XJ8", "新疆北疆喀纳斯八日游", "domestic", "新疆", 6880, 5280, 1800, ("天山天池", "乌鲁木齐—布尔津", "喀纳斯湖", "禾木村", "五彩滩 · 魔鬼城", "赛里木湖")),  # noqa: E501
    ("XZ7", "西藏拉萨林芝七日游", "domestic", "西藏", 7280, 5680, 1900, ("拉萨适应 · 八廓街", "布达拉宫 · 大昭寺", "羊卓雍措", "拉萨—林芝 巴松措", "鲁朗林海")),  # noqa: E501
    ("HLBE6", "呼伦贝尔大草原六日游", "domestic", "呼伦贝尔", 4680, 3580, 1200, ("呼伦贝尔大草原", "额尔古纳湿地", "室韦俄罗斯族民族乡", "满洲里国门")),  # noqa: E501
    ("HEB4", "哈尔滨雪乡四日游", "domestic", "哈尔滨", 3280, 2480, 800, ("中国雪乡", "中央大街 · 冰雪大世界")),  # noqa: E501
    ("CQ4", "重庆长江三峡游轮四日游", "domestic", "重庆", 3580, 2780, 1000, ("丰都鬼城 · 游轮启航", "瞿塘峡 · 巫峡")),  # noqa: E501
    ("GZ5", "贵州黄果树荔波五日游", "domestic", "贵州", 2880, 2080, 700, ("黄果树瀑布", "荔波小七孔", "西江千户苗寨")),  # noqa: E501
    ("DH5", "敦煌张掖丝路五日游", "domestic", "敦煌", 4380, 3380, 1100, ("莫高窟 · 鸣沙山月牙泉", "张掖七彩丹霞", "嘉峪关")),  # noqa: E501
    ("JP6", "日本本州经典六日游", "international", "日本", 7980, 6980, 2200, ("东京 浅草寺 · 银座", "富士山五合目 · 忍野八海", "京都 清水寺 · 祇园", "大阪城 · 心斋桥")),  # noqa: E501
    ("TH6", "泰国曼谷芭提雅六日游", "international", "泰国", 3980, 3480, 1200, ("大皇宫 · 玉佛寺", "芭提雅 珊瑚岛", "东芭乐园", "曼谷自由活动")),  # noqa: E501
    ("SG5", "新加坡圣淘沙五日游", "international", "新加坡", 5980, 5280, 1800, ("鱼尾狮公园 · 滨海湾", "圣淘沙 环球影城", "植物园 · 牛车水")),  # noqa: E501
    ("KR5", "韩国首尔济州岛五日游", "international", "韩国", 4680, 4080, 1300, ("景福宫 · 明洞", "首尔—济州 城山日出峰", "济州 牛岛 · 涉地可支")),  # noqa: E501
    ("VN5", "越南岘港会安五日游", "international", "越南", 3680, 3180, 1000, ("巴拿山 · 黄金佛手桥", "会安古镇", "美溪海滩")),  # noqa: E501
    ("MV6", "马尔代夫双岛六日游", "international", "马尔代夫", 16800, 12800, 6000, ("水上飞机上岛", "浮潜 · 海钓", "马累 · 换岛", "自由活动")),  # noqa: E501
    ("BA6", "巴厘岛浪漫六日游", "international", "印度尼西亚", 6280, 5480, 2000, ("海神庙日落", "乌布 梯田 · 圣泉寺", "金巴兰海滩", "自由活动")),  # noqa: E501
    ("EU10", "欧洲法瑞意十日游", "international", "欧洲", 16800, 14800, 4200, ("巴黎 卢浮宫 · 埃菲尔铁塔", "凡尔赛宫", "巴黎—瑞士 琉森", "少女峰", "瑞士—米兰", "威尼斯", "佛罗伦萨", "罗马 斗兽场")),  # noqa: E501
    ("AU9", "澳大利亚新西兰九日游", "international", "澳新", 19800, 16800, 5200, ("悉尼歌剧院 · 邦迪海滩", "蓝山国家公园", "悉尼—墨尔本 大洋路", "墨尔本—奥克兰", "罗托鲁瓦 毛利文化", "霍比特人村", "皇后镇")),  # noqa: E501
    ("DB6", "迪拜阿布扎比六日游", "international", "阿联酋", 8880, 7880, 2600, ("哈利法塔 · 迪拜购物中心", "沙漠冲沙", "阿布扎比 大清真寺", "卢浮宫阿布扎比")),  # noqa: E501
    ("EG9", "埃及尼罗河九日游", "international", "埃及", 11800, 9800, 3000, ("开罗 埃及博物馆", "吉萨金字塔", "卢克索 卡纳克神庙", "尼罗河游轮", "阿斯旺", "阿布辛贝", "红海 赫尔格达")),  # noqa: E501
    ("US12", "美国东西海岸十二日游", "international", "美国", 22800, 19800, 6000, ("纽约 自由女神像", "华尔街 · 时代广场", "费城 · 华盛顿", "尼亚加拉瀑布", "拉斯维加斯", "大峡谷", "洛杉矶 好莱坞", "环球影城", "旧金山 金门大桥", "优胜美地")),  # noqa: E501
)  # fmt: skip
INSURANCE = (
    ("ACC-D", "国内旅游意外险", "意外伤害10万元，意外医疗2万元，紧急救援", Decimal("5.00")),
    ("ACC-A", "境外旅游意外险", "意外伤害30万元，境外医疗30万元，全球紧急救援，行李延误", Decimal("15.00")),
    ("CANCEL", "行程取消险", "因疾病等原因取消行程，赔付已付团费的80%", Decimal("12.00")),
)
DAYS_BACK, DAYS_AHEAD = 120, 183


def itinerary(destination: str, days: int, stops: tuple[str, ...]) -> list[dict[str, Any]]:
    titles = [f"出发 抵达{destination}"] + [stops[(n - 1) % len(stops)] for n in range(1, days - 1)]
    titles += ["返程"] if days > 1 else []
    out = []
    for n, title in enumerate(titles[:days], start=1):
        last = n == days
        out.append({
            "day": n, "title": title,
            "detail": "集合出发，抵达后专车接送入住酒店，自由活动。" if n == 1 else
            ("早餐后自由活动，按约定时间集合返程，结束愉快旅程。" if last else f"{title}，全天游览，导游陪同讲解。"),  # noqa: E501
            "meals": "晚" if n == 1 else ("早" if last else "早午晚"),
            "stay": "" if last else f"{destination}当地四星酒店",
        })  # fmt: skip
    return out


async def load(ctx: Context) -> int:
    """The catalogue, the planner's desk and the SMS rules, once; returns the routes created."""
    await notify_defaults.load(ctx, notices.TEMPLATES, notices.RULES)
    async with ctx.read() as session:
        if await session.scalar(select(Route.id).limit(1)) is not None:
            return 0
        planner = await session.scalar(select(User.id).where(User.username == "planner"))
    first = today() - timedelta(days=DAYS_BACK)
    async with ctx.write() as tx:
        for code, name, kind, destination, adult, child, single, stops in ROUTES:
            days = int(code.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
            route = Route(
                code=code, name=name, kind=kind, destination=destination, days=days,
                itinerary=itinerary(destination, days, stops),
                inclusions=DOMESTIC_IN if kind == "domestic" else ABROAD_IN, exclusions=EXCLUDED,
                adult_price=Decimal(adult), child_price=Decimal(child), single_supplement=Decimal(single),
            )  # fmt: skip
            tx.session.add(route)
            await tx.session.flush()
            weekdays = (1, 5) if kind == "domestic" else (4,)  # Tuesdays and Saturdays; Fridays abroad
            rows = []
            for n in range(DAYS_BACK + DAYS_AHEAD):
                day = first + timedelta(days=n)
                if day.weekday() in weekdays:
                    peak = Decimal("1.15") if day.month in (1, 2, 7, 8, 10) else Decimal(1)
                    rows.append({
                        "route_id": route.id, "departs_on": day, "returns_on": day + timedelta(days=days - 1),
                        "capacity": 40 if kind == "domestic" else 25, "seats_taken": 0,
                        "adult_price": (Decimal(adult) * peak).quantize(Decimal(10)),
                        "child_price": (Decimal(child) * peak).quantize(Decimal(10)),
                        "single_supplement": Decimal(single), "closed": False,
                    })  # fmt: skip
            await tx.session.execute(insert(Departure), rows)
        for code, name, cover, price in INSURANCE:
            tx.session.add(InsuranceProduct(code=code, name=name, cover=cover, price_per_day=price))
        if planner is not None:
            tx.session.add(
                PlannerDesk(user_id=planner, kinds=["domestic", "international"], phone=PLANNER_PHONE)
            )
    return len(ROUTES)


async def _actor(ctx: Context, username: str) -> Context:
    async with ctx.read() as session:
        user = await session.scalar(select(User).where(User.username == username))
        assert user is not None  # noqa: S101 - the demo logins exist by now
        roles = frozenset(
            (await session.scalars(select(UserRole.role).where(UserRole.user_id == user.id))).all()
        )
    actor = Actor(user.id, user.username, roles, permissions_for(roles), user.display_name, via="session")
    return ctx.as_actor(actor)


async def load_customer_order(ctx: Context, customer_id: int) -> None:
    """张伟's trip to Sanya, carried by the demo staff through the workflow: agent3 takes the call,
    the team lead assigns the planner, the planner follows up, prices it and hands it over, the
    front desk signs, finance reviews and takes the deposit, the planner records the ground cost."""
    async with ctx.read() as session:
        if await session.scalar(select(Order.id).where(Order.customer_id == customer_id).limit(1)):
            return
        route = await session.scalar(select(Route).where(Route.code == "SY5"))
        if route is None:
            return
        departure = await session.scalar(
            select(Departure).where(Departure.route_id == route.id,
            Departure.departs_on >= today() + timedelta(days=18))
            .order_by(Departure.departs_on).limit(1)
        )  # fmt: skip
        insurance = await session.scalar(select(InsuranceProduct.id).where(InsuranceProduct.code == "ACC-D"))
        front_desk = await session.scalar(select(User.id).where(User.username == "frontdesk"))
        planner = await session.scalar(select(User.id).where(User.username == "planner"))
    if departure is None or front_desk is None or planner is None:
        return
    agent, lead = await _actor(ctx, "agent3"), await _actor(ctx, "teamlead")
    desk, money = await _actor(ctx, "planner"), await _actor(ctx, "finance")
    order = (await workflow.create(agent, OrderIn(
        kind="domestic", customer_id=customer_id, contact_name="张伟", contact_phone="13800138000",
        wish="全家三口寒假去三亚，想住海边，预算一万五左右", adults=2, children=1,
    ))).order  # fmt: skip
    await workflow.assign_planner(lead, order.id, AssignIn(planner_id=planner))
    await workflow.follow_up(desk, order.id, FollowUpIn(
        note="已电话沟通：推荐三亚双飞五日游，亚龙湾海景房，客人倾向下周确定",
        next_contact_at=None))  # fmt: skip
    await items.add_item(desk, order.id, ItemIn(kind="tour", departure_id=departure.id, adults=2, children=1))
    if insurance is not None:
        await items.add_item(desk, order.id, ItemIn(kind="insurance", insurance_id=insurance, persons=3))
    await workflow.follow_up(desk, order.id, FollowUpIn(note="客人确认出行，约周六到门市签约"))
    await workflow.hand_to_front_desk(
        desk, order.id, HandOverIn(front_desk_id=front_desk, note="周六上午到店")
    )
    await workflow.sign(await _actor(ctx, "frontdesk"), order.id, SignIn())
    await workflow.review(money, order.id, "价格与线路核对无误")
    await ledger.record_receipt(money, order.id, ReceiptIn(category="deposit", method="card",
                                                            amount=Decimal(5000),
                                                            reference="POS 0451"))  # fmt: skip
    await ledger.record_cost(desk, order.id, CostIn(category="ground", supplier="三亚椰风地接社",
                                                     amount=Decimal(6200), note="地接及酒店"))  # fmt: skip


def _at(day: date, hour: int, rng: random.Random) -> datetime:
    return datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=SHANGHAI)


async def load_orders(ctx: Context, count: int = 320, *, seed: int = 9) -> int:
    """A few hundred made-up orders over the last four months and the next six, in every state,
    with items, hand-overs, follow-ups, receipts, costs and history; the departures' sold seats
    follow (never above capacity). In bulk, once."""
    async with ctx.read() as session:
        made_up = Order.number < str(workflow.FIRST_NUMBER)
        if int(await session.scalar(select(func.count(Order.id)).where(made_up)) or 0) > 0:
            return 0
        departures = (
            await session.execute(select(Departure, Route).join(Route, Route.id == Departure.route_id))
        ).all()
        users = {u: i for u, i in (await session.execute(select(User.username, User.id))).all()}
        customers = [(i, n) for i, n in (await session.execute(
            select(Customer.id, Customer.name).where(Customer.anonymised.is_(False)).limit(400)
        )).all()]  # fmt: skip
    if not departures or "planner" not in users:
        return 0
    rng = random.Random(seed)  # noqa: S311 - made-up data
    now, day0 = utcnow(), today()
    agents = [users[f"agent{n}"] for n in range(1, 6) if f"agent{n}" in users]
    lead, planner, desk = users.get("teamlead"), users["planner"], users.get("frontdesk")
    seats: dict[int, int] = defaultdict(int)
    capacity = {d.id: d.capacity for d, _ in departures}
    plans: list[dict[str, Any]] = []
    for n in range(count):
        departure, route = rng.choice(departures)
        adults, children = rng.choice((1, 2, 2, 2, 3, 4)), rng.choice((0, 0, 0, 1, 1, 2))
        if departure.returns_on < day0 - timedelta(days=3):
            state = rng.choice(("closed",) * 6 + ("return_visit",) * 2 + ("void",) * 2)
        elif departure.departs_on <= day0:
            state = rng.choice(("reviewed",) * 9 + ("void",))
        else:
            ahead = (departure.departs_on - day0).days
            weights = (
                "enquiry",
                "following",
                "following",
                "signing",
                "signed",
                "reviewed",
                "reviewed",
                "void",
            )
            state = rng.choice(weights if ahead < 60 else (*weights[:4], "enquiry", "following", "void"))
        created = min(
            now - timedelta(hours=rng.uniform(2, 480)),
            _at(departure.departs_on - timedelta(days=rng.randrange(12, 70)), rng.randrange(9, 20), rng),
        )
        if state != "void" and seats[departure.id] + adults + children > capacity[departure.id]:
            continue
        if state != "void":
            seats[departure.id] += adults + children
        customer = rng.choice(customers) if customers and rng.random() < 0.7 else None
        plans.append({"n": n, "departure": departure, "route": route, "state": state, "created": created,
                      "adults": adults, "children": children, "customer": customer,
                      "walk_in": rng.random() < 0.12 and desk is not None})  # fmt: skip
    names = (
        "王芳",
        "李娜",
        "刘洋",
        "陈静",
        "杨磊",
        "赵敏",
        "黄强",
        "周杰",
        "吴霞",
        "徐明",
        "孙丽",
        "马超",
        "朱婷",
        "胡军",
    )
    order_rows = []
    for plan in plans:
        customer = plan["customer"]
        route, departure, state = plan["route"], plan["departure"], plan["state"]
        walk_in = plan["walk_in"]
        plan["creator"] = desk if walk_in else rng.choice(agents)
        order_rows.append({
            "number": str(workflow.DEMO_FIRST_NUMBER + plan["n"]), "kind": route.kind,
            "source": "walk_in" if walk_in else "phone", "state": state,
            "customer_id": customer[0] if customer else None,
            "contact_name": customer[1] if customer else rng.choice(names),
            "contact_phone": f"13{rng.randrange(5, 9)}{rng.randrange(10**8):08d}",
            # what the caller said; party and month are the order's own fields, worded by the UI
            "wish": f"想去{route.destination}",
            "adults": plan["adults"], "children": plan["children"], "departs_on": departure.departs_on,
            "returns_on": departure.returns_on, "creator_id": plan["creator"], "currency": "CNY",
            "receivable": Decimal(0), "received": Decimal(0), "cost": Decimal(0), "contract_no": "",
            "summary": "", "void_reason": "", "created_at": plan["created"], "updated_at": plan["created"],
        })  # fmt: skip
    async with ctx.write() as tx:
        result = await tx.session.execute(
            insert(Order).returning(Order.id, sort_by_parameter_order=True), order_rows
        )
        ids = [int(i) for i in result.scalars().all()]
        items, ledger, changes, handovers, follow_ups, finals = [], [], [], [], [], []
        for order_id, plan in zip(ids, plans, strict=True):
            made = _history(rng, order_id, plan, lead or planner, planner, desk or planner, now)
            items += made["items"]
            ledger += made["ledger"]
            changes += made["changes"]
            handovers += made["handovers"]
            follow_ups += made["follow_ups"]
            finals.append(made["order"])
        for rows, model in ((items, OrderItem), (ledger, LedgerLine), (changes, OrderChange),
                            (handovers, Assignment), (follow_ups, FollowUp)):  # fmt: skip
            if rows:
                await tx.session.execute(insert(model), rows)
        for values in finals:
            await tx.session.execute(update(Order).where(Order.id == values.pop("id")).values(**values))
        for departure_id, taken in seats.items():
            await tx.session.execute(update(Departure).where(Departure.id == departure_id)
                                     .values(seats_taken=Departure.seats_taken + taken))  # fmt: skip
        tx.audit("demo.travel_orders_loaded", "travel_order", None, after={"count": len(ids)})
    return len(ids)


ORDER = [s.value for s in State]


def _history(
    rng: random.Random, order_id: int, plan: dict[str, Any], lead: int, planner: int, desk: int, now: datetime
) -> dict[str, Any]:  # fmt: skip
    """The rows an order in `plan["state"]` would have collected on its way there."""
    state, departure, route = plan["state"], plan["departure"], plan["route"]
    number = str(workflow.DEMO_FIRST_NUMBER + plan["n"])
    walk_in, creator = plan["walk_in"], plan["creator"]
    t = plan["created"]
    out: dict[str, Any] = {"items": [], "ledger": [], "changes": [], "handovers": [], "follow_ups": []}
    final: dict[str, Any] = {"id": order_id}

    def step(action: str, before: str, after: str, by: int | None, note: str = "", hours: float = 0) -> None:
        nonlocal t
        t = min(now - timedelta(minutes=5), t + timedelta(hours=hours))
        out["changes"].append({"order_id": order_id, "at": t, "by": by, "action": action, "before": before,
                               "after": after, "note": note})  # fmt: skip

    step("create", "", "enquiry", creator, "walk_in" if walk_in else "phone")
    if state == "void" and rng.random() < 0.3:
        step("void", "enquiry", "void", lead, "客户改变计划，暂不出行", rng.uniform(2, 30))
        final |= {"void_reason": "客户改变计划，暂不出行", "updated_at": t}
        out["order"] = final
        return out
    if state == "enquiry":
        out["order"] = final
        return out
    assigner = planner if walk_in else lead
    step("assign_planner", "enquiry", "following", assigner, "→ 孙计调", rng.uniform(0.5, 20))
    out["handovers"].append({"order_id": order_id, "at": t, "stage": "planner", "assigner_id": assigner,
                             "owner_id": planner})  # fmt: skip
    final |= {"assigner_id": assigner, "owner_id": planner, "planner_id": planner}
    singles = 1 if plan["adults"] == 1 and rng.random() < 0.5 else 0
    amount = departure.adult_price * plan["adults"] + departure.child_price * plan["children"]
    amount += departure.single_supplement * singles
    out["items"].append({"order_id": order_id, "kind": "tour",
    "title": f"{route.name} {departure.departs_on:%m月%d日}出发",
                         "departure_id": departure.id, "insurance_id": None, "adults": plan["adults"],
                         "children": plan["children"], "singles": singles,
                         "details": {"route": route.code, "departs_on": departure.departs_on.isoformat(),
                                     "returns_on": departure.returns_on.isoformat()},
                                     "amount": amount})  # fmt: skip
    receivable = amount
    if rng.random() < 0.5:
        persons = plan["adults"] + plan["children"]
        premium = (Decimal(5 if route.kind == "domestic" else 15) * persons * route.days).quantize(
            Decimal("0.01")
        )
        out["items"].append({"order_id": order_id, "kind": "insurance",
        "title": f"旅游意外险 {persons}人×{route.days}天",
                             "departure_id": None, "insurance_id": None, "adults": 0, "children": 0,
                             "singles": 0,
                             "details": {"persons": persons, "days": route.days},
                             "amount": premium})  # fmt: skip
        receivable += premium
    final["receivable"] = receivable
    notes = ("已电话介绍线路与价格，客人考虑中", "发送行程单，客人咨询酒店标准",
    "客人比较了两条线路，倾向本线路",
             "客人家人同意，确定出行日期")  # fmt: skip
    for k in range(rng.randrange(1, 4)):
        t += timedelta(hours=rng.uniform(3, 48))
        t = min(t, now - timedelta(minutes=10))
        nxt = t + timedelta(days=2) if state == "following" and k == 0 else None
        out["follow_ups"].append({"order_id": order_id, "at": t, "by": planner, "note": notes[k],
                                  "next_contact_at": nxt})  # fmt: skip
        step("follow_up", "following", "following", planner, notes[k])
        final["next_contact_at"] = nxt
    if state == "following" or (state == "void" and rng.random() < 0.6):
        if state == "void":
            step("void", "following", "void", planner, "客户预算不足，选择其他旅行社", rng.uniform(5, 72))
            final["void_reason"] = "客户预算不足，选择其他旅行社"
        final["updated_at"] = t
        out["order"] = final
        return out
    step("hand_to_front_desk", "following", "signing", planner, "→ 郑前台", rng.uniform(2, 48))
    out["handovers"].append({"order_id": order_id, "at": t, "stage": "front_desk", "assigner_id": planner,
                             "owner_id": desk})  # fmt: skip
    final |= {"assigner_id": planner, "owner_id": desk}
    if state in ("signing", "void"):
        if state == "void":
            step("void", "signing", "void", planner, "客户临时取消，未签约", rng.uniform(5, 72))
            final["void_reason"] = "客户临时取消，未签约"
        final["updated_at"] = t
        out["order"] = final
        return out
    step("sign", "signing", "signed", desk, f"合同 HT{number} ¥{receivable:.2f}", rng.uniform(4, 72))
    final |= {"contract_no": f"HT{number}", "signed_at": t}
    if state == "signed":
        final["updated_at"] = t
        out["order"] = final
        return out
    step("review", "signed", "reviewed", None, "价格与线路核对无误", rng.uniform(1, 30))
    final["reviewed_at"] = t
    received = Decimal(0)
    lines = 0

    def line(account: str, category: str, value: Decimal, **more: Any) -> None:
        nonlocal lines, t
        lines += 1
        t = min(now - timedelta(minutes=2), t + timedelta(hours=rng.uniform(2, 96)))
        prefix = "S" if account == "receipt" else "C"
        out["ledger"].append({"order_id": order_id, "account": account, "category": category, "amount": value,
                              "method": more.get("method", ""), "supplier": more.get("supplier", ""),
                              "reference": "", "note": "", "overpayment": False,
                              "number": f"{prefix}{number}-{lines}", "at": t, "by": None})  # fmt: skip
        step(
            account,
            out["changes"][-1]["after"],
            out["changes"][-1]["after"],
            None,
            f"{category} ¥{value:.2f}",
        )

    full = state in ("closed",) or rng.random() < 0.6
    deposit = (receivable * Decimal(rng.choice(("0.3", "0.4", "0.5")))).quantize(Decimal(1))
    line("receipt", "deposit", deposit, method=rng.choice(("card", "transfer", "online")))
    received += deposit
    if full:
        line("receipt", "balance", receivable - deposit, method=rng.choice(("card", "transfer", "cash")))
        received = receivable
    margin = Decimal(rng.choice(("0.72", "0.76", "0.80", "0.84")))
    ground = (amount * margin * Decimal("0.6")).quantize(Decimal(1))
    hotel = (amount * margin).quantize(Decimal(1)) - ground
    suppliers = {
        "domestic": ("椰风地接社", "华夏酒店管理"),
        "international": ("环球地接服务", "海外酒店预订中心"),
    }
    line("cost", "ground", ground, supplier=f"{route.destination}{suppliers[route.kind][0]}")
    line("cost", "hotel", hotel, supplier=suppliers[route.kind][1])
    final |= {"received": received, "cost": ground + hotel}
    if state in ("return_visit", "closed"):
        due = departure.returns_on + timedelta(days=workflow.RETURN_VISIT_AFTER)
        t = max(t, _at(due, 1, rng))
        step("return_visit_due", "reviewed", "return_visit", None, f"返回日期 {departure.returns_on}")
        final["return_due_on"] = due
    if state == "closed":
        summary = rng.choice(("客人非常满意，导游讲解细致，下次还会报名", "行程整体满意，建议酒店早餐更丰富",
                              "客人满意，对地接安排表示认可",
                              "客人反映第三天车程较长，其他满意"))  # fmt: skip
        step("close", "return_visit", "closed", creator, summary, rng.uniform(2, 30))
        final |= {"summary": summary, "closed_at": t}
    final["updated_at"] = t
    out["order"] = final
    return out
