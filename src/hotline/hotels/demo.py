"""The demo hotel group: 英冠酒店 in 8 cities, 20 hotels, three room types each, four rate plans,
and 180 days of inventory and prices (weekends dearer)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.hotels.models import Hotel, Inventory, RatePlan, RoomType

HOTELS = (
    ("SH-BUND", "英冠酒店上海外滩店", "上海", "上海市黄浦区中山东一路 18 号", "021-63210000", 920),
    ("SH-XJH", "英冠酒店上海徐家汇店", "上海", "上海市徐汇区漕溪北路 88 号", "021-64870000", 680),
    ("SH-PDG", "英冠酒店上海浦东机场店", "上海", "上海市浦东新区迎宾大道 6000 号", "021-68350000", 520),
    ("BJ-WFJ", "英冠酒店北京王府井店", "北京", "北京市东城区王府井大街 138 号", "010-65120000", 880),
    ("BJ-GM", "英冠酒店北京国贸店", "北京", "北京市朝阳区建国门外大街 1 号", "010-65050000", 960),
    ("BJ-ZGC", "英冠酒店北京中关村店", "北京", "北京市海淀区中关村大街 27 号", "010-62560000", 620),
    ("GZ-TH", "英冠酒店广州天河店", "广州", "广州市天河区天河路 228 号", "020-38880000", 640),
    ("GZ-BY", "英冠酒店广州白云机场店", "广州", "广州市白云区机场路 1 号", "020-36060000", 460),
    ("SZ-FT", "英冠酒店深圳福田店", "深圳", "深圳市福田区深南大道 6008 号", "0755-83330000", 700),
    ("SZ-NS", "英冠酒店深圳南山店", "深圳", "深圳市南山区海德三道 88 号", "0755-86660000", 660),
    ("HZ-XH", "英冠酒店杭州西湖店", "杭州", "杭州市上城区湖滨路 28 号", "0571-87080000", 780),
    ("HZ-QJ", "英冠酒店杭州钱江新城店", "杭州", "杭州市上城区富春路 290 号", "0571-86880000", 600),
    ("CD-CX", "英冠酒店成都春熙路店", "成都", "成都市锦江区春熙路 18 号", "028-86660000", 560),
    ("CD-GX", "英冠酒店成都高新店", "成都", "成都市武侯区天府大道 1199 号", "028-85180000", 480),
    ("XA-ZL", "英冠酒店西安钟楼店", "西安", "西安市碑林区南大街 6 号", "029-87210000", 520),
    ("XA-QJ", "英冠酒店西安曲江店", "西安", "西安市雁塔区芙蓉西路 99 号", "029-85520000", 580),
    ("SY-HT", "英冠酒店三亚海棠湾店", "三亚", "三亚市海棠区海棠北路 88 号", "0898-88860000", 1280),
    ("SY-DD", "英冠酒店三亚大东海店", "三亚", "三亚市吉阳区榆亚路 36 号", "0898-88210000", 860),
    ("SY-SYW", "英冠酒店三亚湾店", "三亚", "三亚市天涯区三亚湾路 168 号", "0898-88330000", 740),
    ("SH-HQ", "英冠酒店上海虹桥店", "上海", "上海市闵行区申长路 988 号", "021-34320000", 600),
)  # fmt: skip
ROOM_TYPES = (
    ("K", "高级大床房", 2, "大床", 10, Decimal("1.0")),
    ("T", "高级双床房", 2, "双床", 10, Decimal("1.0")),
    ("S", "行政套房", 3, "大床", 3, Decimal("2.2")),
)
STANDARD = [{"hours": 24, "refund": 100}, {"hours": 0, "refund": 0}]
PREPAID = [{"hours": 72, "refund": 100}, {"hours": 24, "refund": 50}, {"hours": 0, "refund": 0}]
PLANS = (
    ("RACK", "门市价", Decimal("1.00"), False, False, False, STANDARD),
    ("MEMBER", "会员价", Decimal("1.00"), True, False, False, STANDARD),
    ("BB", "会员含早", Decimal("1.00"), True, True, False, STANDARD),
    ("PREPAY", "预付优惠（担保）", Decimal("0.88"), True, False, True, PREPAID),
)
DAYS = 180
DEMO_FIRST_NUMBER = 59_000_001
"""The demo's made-up history is numbered below the first real reservation number (60000001)."""


async def load(ctx: Context, *, days: int = DAYS) -> int:
    """Create the hotels once; returns how many were created."""
    async with ctx.read() as session:
        if await session.scalar(select(Hotel.id).limit(1)) is not None:
            return 0
    today = utcnow().date()
    async with ctx.write() as tx:
        for code, name, city, address, phone, rack in HOTELS:
            hotel = Hotel(
                code=code, name=name, city=city, address=address, phone=phone, stars=5 if rack >= 750 else 4
            )
            tx.session.add(hotel)
            await tx.session.flush()
            for plan_code, plan_name, factor, member, breakfast, guaranteed, policy in PLANS:
                tx.session.add(RatePlan(hotel_id=hotel.id, code=plan_code, name=plan_name, factor=factor,
                                        member=member, breakfast=breakfast, breakfast_price=Decimal(68),
                                        guaranteed=guaranteed, policy=policy))  # fmt: skip
            for type_code, type_name, capacity, bed, rooms, factor in ROOM_TYPES:
                room_type = RoomType(
                    hotel_id=hotel.id, code=type_code, name=type_name, capacity=capacity, bed=bed
                )
                tx.session.add(room_type)
                await tx.session.flush()
                rows = []
                for n in range(-1, days):
                    day = today + timedelta(days=n)
                    weekend = Decimal("1.15") if day.weekday() in (4, 5) else Decimal(1)
                    price = (Decimal(rack) * factor * weekend).quantize(Decimal(1))
                    rows.append({
                        "room_type_id": room_type.id, "day": day, "total": rooms, "sold": 0, "held": 0,
                        "out_of_order": 0, "closed": False, "price": price,
                    })  # fmt: skip
                await tx.session.execute(insert(Inventory), rows)
    return len(HOTELS)


async def load_bookings(ctx: Context, customer_id: int) -> None:
    """The demo customer's upcoming stay (booked the way an agent books it, so the confirmation
    text and the timeline entry are real) and a tour group's block in Sanya; once."""
    from hotline.hotels import booking, groups
    from hotline.hotels.models import GroupBlock, Reservation
    from hotline.hotels.schemas import BookingIn, GroupIn, GroupLineIn

    async with ctx.read() as session:
        if await session.scalar(select(Reservation.id).where(Reservation.customer_id == customer_id)):
            return
        hangzhou = await session.scalar(select(Hotel).where(Hotel.code == "HZ-XH"))
        sanya = await session.scalar(select(Hotel).where(Hotel.code == "SY-HT"))
        if hangzhou is None or sanya is None:
            return
        king = await session.scalar(
            select(RoomType.id).where(RoomType.hotel_id == hangzhou.id, RoomType.code == "K")
        )
        member = await session.scalar(
            select(RatePlan.id).where(RatePlan.hotel_id == hangzhou.id, RatePlan.code == "MEMBER")
        )
        rows = await session.execute(select(RoomType.code, RoomType.id).where(RoomType.hotel_id == sanya.id))
        sanya_types: dict[str, int] = {code: type_id for code, type_id in rows}
        has_group = await session.scalar(select(GroupBlock.id).limit(1)) is not None
    today = utcnow().astimezone(ZoneInfo(hangzhou.timezone)).date()
    arrival = today + timedelta(days=10)
    if king is not None and member is not None:
        await booking.book(ctx, BookingIn(
            hotel_id=hangzhou.id, room_type_id=king, rate_plan_id=member, customer_id=customer_id,
            guest_name="张伟", guest_phone="13800138000", rooms=1, guests=2, arrival=arrival,
            departure=arrival + timedelta(days=2), expected_arrival="20:00", hold_until="21:00",
            special_requests="高楼层，安静房间",
        ))  # fmt: skip
    if not has_group and {"K", "T"} <= set(sanya_types):
        start = today + timedelta(days=20)
        await groups.create(ctx, GroupIn(
            hotel_id=sanya.id, name="春光旅行社 海南双飞五日游", contact_name="王导",
            contact_phone="13700001234",
            arrival=start, departure=start + timedelta(days=4), release_on=start - timedelta(days=7),
            deposit=Decimal(5000),
            rooms=[GroupLineIn(room_type_id=sanya_types["T"], count=6),
                   GroupLineIn(room_type_id=sanya_types["K"], count=2)],
        ))  # fmt: skip


async def load_reservations(ctx: Context, count: int = 3000, *, seed: int = 6) -> int:
    """A few thousand past and future reservations for the demo's statistics, in bulk (the
    inventory's sold counts follow, within what each night has)."""
    import random

    from sqlalchemy import func, update

    from hotline.hotels.models import Reservation

    async with ctx.read() as session:
        made_up = Reservation.number < str(DEMO_FIRST_NUMBER + 1_000_000)  # not the real ones from 60000001
        if int(await session.scalar(select(func.count(Reservation.id)).where(made_up)) or 0) > 0:
            return 0
        types = (await session.execute(select(RoomType.id, RoomType.hotel_id, RoomType.capacity))).all()
        plans = {h: p for p, h in (await session.execute(select(RatePlan.id, RatePlan.hotel_id))).all()}
        prices = {(rt, d): (p, left) for rt, d, p, left in (await session.execute(
            select(Inventory.room_type_id, Inventory.day, Inventory.price,
                   Inventory.total - Inventory.sold - Inventory.held))).all()}  # fmt: skip
    rng = random.Random(seed)  # noqa: S311 - made-up data
    today, now = utcnow().date(), utcnow()
    names = [
        "张伟",
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
    ]
    rows: list[dict[str, object]] = []
    taken: dict[tuple[int, date], int] = {}
    for n in range(count):
        room_type_id, hotel_id, _ = rng.choice(types)
        arrival = today + timedelta(days=rng.randrange(-60, 90))
        nights = [arrival + timedelta(days=k) for k in range(rng.choice((1, 1, 2, 2, 3, 5)))]
        if arrival >= today and any(
            (room_type_id, d) not in prices
            or prices[(room_type_id, d)][1] - taken.get((room_type_id, d), 0) < 1
            for d in nights
        ):
            continue  # the demo's future never oversells either
        price_of = {d: prices.get((room_type_id, d), (Decimal(600), 0))[0] for d in nights}
        breakdown = [{"date": d.isoformat(), "price": str(price_of[d])} for d in nights]
        if arrival < today:
            status = rng.choice(("checked_out",) * 8 + ("cancelled", "no_show"))
        else:
            status = rng.choice(("confirmed",) * 9 + ("cancelled",))
        if arrival >= today and status == "confirmed":
            for d in nights:
                taken[(room_type_id, d)] = taken.get((room_type_id, d), 0) + 1
        created = now - timedelta(days=max(1, (today - arrival).days + rng.randrange(1, 30)))
        rows.append({
            "number": str(DEMO_FIRST_NUMBER + n), "hotel_id": hotel_id, "room_type_id": room_type_id,
            "rate_plan_id": plans[hotel_id], "guest_name": rng.choice(names),
            "guest_phone": f"139{rng.randrange(10**8):08d}", "rooms": 1, "guests": 1, "arrival": arrival,
            "departure": nights[-1] + timedelta(days=1), "expected_arrival": "18:00", "hold_until": now,
            "special_requests": "", "status": status, "nights": breakdown,
            "total": sum(price_of.values(), Decimal(0)), "currency": "CNY", "deposit": Decimal(0),
            "source": rng.choice(("phone",) * 6 + ("web", "walk-in", "pms")), "created_at": created,
        })  # fmt: skip
    async with ctx.write() as tx:
        await tx.session.execute(insert(Reservation), rows)
        for (room_type_id, day), sold in taken.items():
            await tx.session.execute(
                update(Inventory).where(Inventory.room_type_id == room_type_id, Inventory.day == day)
                .values(sold=Inventory.sold + sold)
            )  # fmt: skip
        tx.audit("demo.reservations_loaded", "reservation", None, after={"count": len(rows)})
    return len(rows)
