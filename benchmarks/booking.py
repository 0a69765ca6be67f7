"""Booking under load and availability search (issue 6's benchmark).

    uv run python benchmarks/booking.py --database-url postgresql+asyncpg://…/db   # PostgreSQL
    uv run python benchmarks/booking.py                                           # SQLite file

1. The last 100 rooms: one room type of one hotel has exactly 100 rooms for two nights; 200
   concurrent clients book one room each (two nights), again and again until they are told it is
   sold out. Reports bookings per second, how many were booked (must be 100) and oversold (must
   be 0), from the database afterwards.
2. Availability: 2,000 searches by city over the demo group (20 hotels, 3 room types, 4 rate plans,
   180 days of inventory), random stays of 1–7 nights within the 180 days; p50 / p99.
Each run starts from a fresh database. One process, one core.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import timedelta

from fresh_db import fresh  # benchmarks/fresh_db.py
from sqlalchemy import delete, func, select, update

from hotline import domains
from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.events import InProcessBus
from hotline.hotels import availability, demo, inventory
from hotline.hotels import booking as bookings
from hotline.hotels.models import Hotel, Inventory, RatePlan, Reservation, RoomType
from hotline.hotels.schemas import BookingIn


async def last_rooms(ctx: Context, clients: int) -> tuple[float, int, int, int]:
    async with ctx.read() as session:
        hotel_id = await session.scalar(select(Hotel.id).where(Hotel.code == "SH-BUND"))
        room_id = await session.scalar(
            select(RoomType.id).where(RoomType.hotel_id == hotel_id, RoomType.code == "K")
        )
        plan_id = await session.scalar(
            select(RatePlan.id).where(RatePlan.hotel_id == hotel_id, RatePlan.code == "RACK")
        )
    arrival = utcnow().date() + timedelta(days=30)
    nights = [arrival, arrival + timedelta(days=1)]
    async with ctx.db.write() as session:
        await session.execute(
            update(Inventory)
            .where(Inventory.room_type_id == room_id, Inventory.day.in_(nights))
            .values(total=100)
        )
    booking = BookingIn(
        hotel_id=hotel_id, room_type_id=room_id, rate_plan_id=plan_id, guest_name="压测",
        guest_phone="13900000000", rooms=1, guests=1, arrival=arrival, departure=arrival + timedelta(days=2),
    )  # fmt: skip
    attempts = 0

    async def client() -> int:
        nonlocal attempts
        booked = 0
        while True:
            attempts += 1
            try:
                await bookings.book(ctx, booking)
            except inventory.RoomsSoldOut:
                return booked
            booked += 1

    started = time.perf_counter()
    booked = sum(await asyncio.gather(*(client() for _ in range(clients))))
    elapsed = time.perf_counter() - started
    async with ctx.read() as session:
        stored = int(await session.scalar(select(func.count(Reservation.id))) or 0)
        oversold = int(
            await session.scalar(
                select(func.count(Inventory.id)).where(
                    Inventory.room_type_id == room_id, Inventory.sold > Inventory.total
                )
            )
            or 0
        )
    assert booked == stored
    async with ctx.db.write() as session:
        await session.execute(delete(Reservation))
    return booked / elapsed, stored, oversold, attempts


async def searches(ctx: Context, count: int) -> tuple[float, float]:
    rng = random.Random(3)
    cities = sorted({city for _, _, city, *_ in demo.HOTELS})
    today = utcnow().date()
    took = []
    for n in range(count + 50):
        arrival = today + timedelta(days=rng.randrange(0, 170))
        departure = arrival + timedelta(days=rng.randrange(1, 8))
        started = time.perf_counter()
        await availability.availability(ctx, arrival=arrival, departure=departure, rooms=1, guests=2,
                                   city=rng.choice(cities), tier="gold")  # fmt: skip
        if n >= 50:
            took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.99) - 1]


async def main(url: str, clients: int, runs: int) -> None:
    domains.load_models()
    print(f"{url.split('://')[0]}, {clients} clients, the last 100 rooms, {runs} runs")
    results = []
    for _ in range(runs):
        db = await fresh(url)
        ctx = Context(Settings(database_url=url), db, InProcessBus(), Actor.system("benchmark"))
        await demo.load(ctx)
        results.append(await last_rooms(ctx, clients))
        await db.dispose()
    for rate, stored, oversold, attempts in results:
        print(f"  {rate:,.0f} bookings/s, {stored} booked, {oversold} nights oversold, {attempts} attempts")
    print(f"median: {statistics.median(r[0] for r in results):,.0f} bookings/s")
    db = Database(url)
    ctx = Context(Settings(database_url=url), db, InProcessBus(), Actor.system("benchmark"))
    p50, p99 = await searches(ctx, 2000)
    print(f"availability by city, 20 hotels × 180 days: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="sqlite+aiosqlite:////tmp/hotline-booking-bench.db")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.clients, args.runs))
