"""Realistic made-up customers for the demo and the benchmarks: common Chinese names (so people of
the same name occur, as they do), valid resident IDs whose birthday and gender agree, mobile
numbers, a second phone for some, tiers and preferences. Deterministic for a seed; inserted in
bulk (1,000,000 rows take about a minute on SQLite)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.crm import identity, loyalty, timeline
from hotline.crm.models import Customer, CustomerPhone, PointsEntry, TimelineEntry

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_M = [
    "伟",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "杰",
    "涛",
    "明",
    "超",
    "刚",
    "平",
    "辉",
    "鹏",
    "华",
    "飞",
    "鑫",
    "波",
    "斌",
    "宇",
    "浩",
    "凯",
    "健",
    "俊",
    "帆",
    "帅",
    "旭",
    "宁",
    "龙",
    "林",
    "建华",
    "建国",
    "志强",
    "国强",
    "文博",
    "子轩",
    "浩然",
    "宇航",
    "俊杰",
    "明轩",
]
GIVEN_F = [
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "艳",
    "娟",
    "霞",
    "秀英",
    "桂英",
    "玲",
    "燕",
    "萍",
    "红",
    "婷",
    "雪",
    "琳",
    "欣",
    "颖",
    "倩",
    "洁",
    "慧",
    "晶",
    "佳",
    "雯",
    "梅",
    "莉",
    "丹",
    "秀兰",
    "玉兰",
    "淑珍",
    "欣怡",
    "梓涵",
    "诗涵",
    "雨涵",
    "子涵",
    "思琪",
    "晓燕",
    "丽娟",
    "海燕",
]
REGIONS = (
    ("110101", "北京", "东城区"), ("110105", "北京", "朝阳区"), ("310101", "上海", "黄浦区"),
    ("310104", "上海", "徐汇区"), ("440103", "广州", "荔湾区"), ("440305", "深圳", "南山区"),
    ("330102", "杭州", "上城区"), ("320102", "南京", "玄武区"), ("510104", "成都", "锦江区"),
    ("420102", "武汉", "江岸区"), ("610102", "西安", "新城区"), ("500103", "重庆", "渝中区"),
    ("350203", "厦门", "思明区"), ("370202", "青岛", "市南区"), ("530102", "昆明", "五华区"),
)  # fmt: skip
STREETS = [
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "长江路",
    "黄河路",
    "青年路",
    "文化路",
    "光明街",
    "迎宾大道",
]
MOBILE = [str(p) for p in (*range(130, 140), *range(150, 154), *range(155, 160), *range(180, 190), 177, 199)]
TIERS = ("standard",) * 14 + ("silver",) * 3 + ("gold",) * 2 + ("platinum",)
BEDS, ROOMS = ("大床", "双床", "无所谓"), ("高楼层", "安静房间", "无烟房", "近电梯")
INTERESTS = ("海岛", "亲子游", "自驾", "邮轮", "古镇", "美食", "滑雪", "温泉")

DEMO_CUSTOMER = {
    "name": "张伟", "title": "先生", "gender": "M", "id_type": "resident", "id_number": "310104198503121235",
    "birthday": date(1985, 3, 12), "email": "zhangwei@example.cn", "address": "上海市徐汇区衡山路 88 号",
    "city": "上海", "tier": "gold", "points": 12800, "tags": ["商务", "常住"],
    "preferences": {"bed": "大床", "room": "高楼层", "smoking": "无烟", "interests": "海岛, 美食"},
    "source": "phone", "notes": "演示客户：每月出差上海，偏好外滩店。",
}  # fmt: skip
DEMO_PHONE = "+8613800138000"


@cache
def _pinyin(name: str) -> tuple[str, str]:
    return identity.pinyin(name)


def customers(count: int, *, seed: int = 2026) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """`count` customers as column values, each with its phone numbers (E.164, never shared)."""
    rng = random.Random(seed)  # noqa: S311 - made-up data, not security
    used: set[str] = {DEMO_PHONE}
    ids: set[str] = {str(DEMO_CUSTOMER["id_number"])[:17]}
    today = utcnow().date()
    for _ in range(count):
        gender = rng.choice("MF")
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_M if gender == "M" else GIVEN_F)
        code, city, district = rng.choice(REGIONS)
        born = date(1950, 1, 1) + timedelta(days=rng.randrange((date(2004, 12, 31) - date(1950, 1, 1)).days))
        while True:  # ID numbers are unique: draw again on the rare clash
            sequence = rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
            first17 = f"{code}{born:%Y%m%d}{sequence:03d}"
            if first17 not in ids:
                ids.add(first17)
                break
        phones = []
        for _ in range(2 if rng.random() < 0.12 else 1):
            while (number := f"+86{rng.choice(MOBILE)}{rng.randrange(10**8):08d}") in used:
                pass
            used.add(number)
            phones.append(number)
        joined, initials = _pinyin(name)
        tier = rng.choice(TIERS)
        email = f"{joined}{rng.randrange(1000)}@example.cn" if rng.random() < 0.3 else None
        low, high = {
            "standard": (0, 3000),
            "silver": (3000, 10000),
            "gold": (10000, 30000),
            "platinum": (30000, 40000),
        }[tier]
        points = rng.randrange(low, high)  # the tier its last 12 months' points give
        likes = {"bed": rng.choice(BEDS), "room": rng.choice(ROOMS), "interests": rng.choice(INTERESTS)}
        row: dict[str, Any] = {
            "name": name, "name_pinyin": joined, "name_initials": initials,
            "title": "先生" if gender == "M" else rng.choice(("女士", "小姐")), "gender": gender,
            "id_type": "resident", "id_number": first17 + identity.resident_id_check_digit(first17),
            "birthday": born, "email": email, "city": city,
            "address": f"{city}市{district}{rng.choice(STREETS)}{rng.randrange(1, 400)}号",
            "tier": tier, "points": points, "tags": [], "notes": "", "preferences": likes,
            "source": rng.choice(("phone", "phone", "web", "walk-in")),
        }  # fmt: skip
        if (today - born).days < 18 * 365:
            row["title"] = ""
        yield row, phones


async def insert_customers(session: AsyncSession, count: int, *, seed: int = 2026, batch: int = 5000) -> int:
    """Bulk-insert made-up customers after the highest member number (no audit rows: the caller
    writes one entry for the load). Returns how many were inserted."""
    highest = await session.scalar(select(Customer.member_number).order_by(Customer.member_number.desc()))
    next_number = max(identity.FIRST_MEMBER_NUMBER + 1, int(highest) + 1 if highest else 0)
    highest_id = await session.scalar(select(Customer.id).order_by(Customer.id.desc())) or 0
    now, done = utcnow(), 0
    rows: list[dict[str, Any]] = []
    phones: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    for n, (row, numbers) in enumerate(customers(count, seed=seed)):
        customer_id = highest_id + n + 1
        stamp = {"created_at": now, "updated_at": now, "anonymised": False}
        rows.append(row | stamp | {"id": customer_id, "member_number": str(next_number + n)})
        phones += [
            {"customer_id": customer_id, "number": number, "label": "", "preferred": i == 0,
             "recognise": True, "created_at": now}
            for i, number in enumerate(numbers)
        ]  # fmt: skip
        if row["points"]:  # the balance is the ledger's sum: one opening line
            ledger.append(opening(customer_id, row["points"], now))
        if len(rows) >= batch:
            done += await _flush(session, rows, phones, ledger)
    return done + await _flush(session, rows, phones, ledger)


def opening(customer_id: int, points: int, now: datetime) -> dict[str, Any]:
    return {
        "customer_id": customer_id, "at": now, "kind": "adjust", "points": points, "remaining": points,
        "expires_at": now + loyalty.VALID_FOR, "reason": "开户积分（导入）", "ref": "",
    }  # fmt: skip


async def _flush(
    session: AsyncSession,
    rows: list[dict[str, Any]],
    phones: list[dict[str, Any]],
    ledger: list[dict[str, Any]],
) -> int:
    count = len(rows)
    if rows:
        await session.execute(insert(Customer), rows)
        await session.execute(insert(CustomerPhone), phones)
    if ledger:  # each ledger line with its timeline entry, as loyalty writes them
        await session.execute(insert(PointsEntry), ledger)
        lines = await session.scalars(
            select(PointsEntry).where(PointsEntry.customer_id.in_([line["customer_id"] for line in ledger]))
        )
        await session.execute(
            insert(TimelineEntry),
            [
                {c.key: getattr(entry, c.key) for c in TimelineEntry.__table__.columns if c.key != "id"}
                for entry in (timeline.points_line(line) for line in lines)
            ],
        )
    rows.clear()
    phones.clear()
    ledger.clear()
    return count
