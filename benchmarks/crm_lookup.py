"""Caller identification and name search on 1,000,000 customers (issue 5's benchmark).

    uv run python benchmarks/crm_lookup.py                       # SQLite file in /tmp
    uv run python benchmarks/crm_lookup.py --database-url postgresql+asyncpg://…/db

Loads 1,000,000 made-up customers (crm.fake: common Chinese names, 12 % with a second phone)
once per database, then times the service calls an incoming call and an agent's search make —
`identify_caller(caller ID)` for known and unknown numbers, and `search(q)` for a full name, the
start of a name, full pinyin and pinyin initials — one at a time, as p50 / p99 over many calls.
Floors: caller ID p99 < 5 ms, name search p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select, text

from hotline import domains
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.events import InProcessBus
from hotline.core.migrate import upgrade
from hotline.crm import fake
from hotline.crm import service as crm
from hotline.crm.models import Customer, CustomerPhone


async def timed(name: str, calls: list[Callable[[], Awaitable[object]]]) -> tuple[str, float, float]:
    for call in calls[:50]:  # warm the caches
        await call()
    took = []
    for call in calls:
        started = time.perf_counter()
        await call()
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return name, statistics.median(took), took[int(len(took) * 0.99) - 1]


async def main(url: str, count: int, samples: int) -> None:
    domains.load_models()
    db = Database(url)
    await upgrade(db)
    ctx = Context(Settings(database_url=url), db, InProcessBus(), Actor.system("benchmark"))
    async with db.read() as session:
        have = int(await session.scalar(select(func.count(Customer.id))) or 0)
    if have < count:
        started = time.perf_counter()
        async with db.write() as session:
            await fake.insert_customers(session, count - have, seed=have + 1)
        print(f"loaded {count - have:,} customers in {time.perf_counter() - started:.0f} s")
        if url.startswith("postgresql"):
            async with db.write() as session:
                await session.execute(text("ANALYZE customers"))
                await session.execute(text("ANALYZE customer_phones"))
    rng = random.Random(7)
    async with db.read() as session:
        phones = list((await session.scalars(select(CustomerPhone.number).limit(200_000))).all())
        names = list((await session.scalars(select(Customer.name).limit(200_000))).all())
        pinyins = list((await session.scalars(select(Customer.name_pinyin).limit(200_000))).all())
    known = [p.removeprefix("+86") for p in rng.sample(phones, samples)]
    unknown = [f"1{rng.randrange(30, 99)}{rng.randrange(10**8):08d}" for _ in range(samples)]
    full = rng.sample(names, samples)
    starts = [name[:1] + name[1:2] for name in rng.sample(names, samples)]
    spelled = rng.sample(pinyins, samples)
    print(f"{url.split('://')[0]}, {count:,} customers, {samples:,} calls each")
    print("| lookup | p50 ms | p99 ms |")
    print("|---|---:|---:|")
    rows = [
        await timed("caller ID, known number", [lambda p=p: crm.identify_caller(ctx, p) for p in known]),
        await timed("caller ID, unknown number", [lambda p=p: crm.identify_caller(ctx, p) for p in unknown]),
        await timed("name search, full name", [lambda q=q: crm.search(ctx, q) for q in full]),
        await timed("name search, first two characters", [lambda q=q: crm.search(ctx, q) for q in starts]),
        await timed("pinyin search, full", [lambda q=q: crm.search(ctx, q) for q in spelled]),
    ]
    for name, p50, p99 in rows:
        print(f"| {name} | {p50:.2f} | {p99:.2f} |")
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="sqlite+aiosqlite:////tmp/hotline-crm-bench.db")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.customers, args.samples))
