"""Recordings library search over 1,000,000 indexed recordings (issue 20's benchmark).

    eval "$(scripts/services.sh start)"
    uv run python benchmarks/recordings_search.py --database-url "$HOTLINE_TEST_DATABASE_URL"

Loads 1,000,000 made-up recordings (a year of calls: 120 agents, 8 queues, 200,000 callers, 4 %
voicemail, lengths spread like a contact centre's) once per database, then times the service call
`GET /api/quality/recordings` makes (`recordings.service.search`: the query, masking, names of
queues and customers) one at a time for each kind of search, as p50 / p99 over many calls; the
whole set is run `--runs` times and the median of each figure reported. Floor: p99 < 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import func, insert, select, text

from hotline import domains
from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.events import InProcessBus
from hotline.core.migrate import upgrade
from hotline.quality.recordings import service
from hotline.quality.recordings.indexer import reversed_digits
from hotline.quality.recordings.models import Recording

QUEUES = ("hotel", "travel", "vip", "complaints", "groups", "air", "train", "english")
DISPOSITIONS = ("booked", "enquiry", "complaint", "callback", "other", "")
AGENTS = 120
CALLERS = 200_000


def _number(n: int) -> str:
    return f"13{n % 10}{(n * 7919) % 10**8:08d}"


def _rows(start: int, count: int, rng: random.Random) -> list[dict[str, object]]:
    now = utcnow()
    rows = []
    for n in range(start, start + count):
        caller = rng.randrange(CALLERS)
        number = _number(caller)
        voicemail = rng.random() < 0.04
        dialled = rng.choice(("4008001000", "4008002000"))
        rows.append({
            "source_line": n + 1, "call_id": f"leg-{n:08x}", "part": 1 if rng.random() < 0.93 else 2,
            "kind": "voicemail" if voicemail else "call",
            "started_at": now - timedelta(seconds=rng.uniform(0, 365 * 86400)),
            "seconds": round(min(7200.0, rng.expovariate(1 / 240)), 1), "direction":
            "outbound" if rng.random() < 0.15 else "inbound", "queue": rng.choice(QUEUES),
            "agent_id": None if voicemail else rng.randrange(1, AGENTS + 1), "agent_name": "",
            "agent_number": "", "customer_id": caller + 1 if caller % 3 else None, "number": number,
            "number_rev": reversed_digits(number), "dialled": dialled,
            "dialled_rev": reversed_digits(dialled),
            "disposition": rng.choice(DISPOSITIONS), "survey_score": rng.choice((None, 1, 2, 3, 4, 5)),
            "channels": 1 if voicemail else 2, "node": "bench", "path": f"leg-{n:08x}/mix.wav",
            "legal_hold": rng.random() < 0.001, "hold_reason": "", "indexed_at": now,
            # what the automatic checks found: dead air of a few seconds, rarely a minute
            "longest_silence": None if voicemail else round(rng.expovariate(1 / 6), 1),
            "overtalk_seconds": None if voicemail else round(rng.expovariate(1 / 3), 1),
            "talk_ratio": None if voicemail else round(rng.uniform(0.2, 0.85), 3),
        })  # fmt: skip
    return rows


async def timed(name: str, calls: list[Callable[[], Awaitable[object]]]) -> tuple[str, float, float]:
    for call in calls[:20]:  # warm the caches
        await call()
    took = []
    for call in calls:
        started = time.perf_counter()
        await call()
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return name, statistics.median(took), took[max(0, int(len(took) * 0.99) - 1)]


async def main(url: str, count: int, samples: int, runs: int) -> None:
    domains.load_models()
    db = Database(url)
    await upgrade(db)
    ctx = Context(Settings(database_url=url), db, InProcessBus(), Actor.system("benchmark"))
    async with db.read() as session:
        have = int(await session.scalar(select(func.count(Recording.id))) or 0)
    if have < count:
        started, rng = time.perf_counter(), random.Random(have + 1)
        for start in range(have, count, 50_000):
            rows = _rows(start, min(50_000, count - start), rng)
            async with db.write() as session:
                if url.startswith("postgresql"):  # COPY: a million rows in a minute, not a quarter hour
                    raw = (await (await session.connection()).get_raw_connection()).driver_connection
                    columns = list(rows[0])
                    records = [tuple(row[c] for c in columns) for row in rows]
                    await raw.copy_records_to_table("recordings", records=records, columns=columns)
                else:
                    await session.execute(insert(Recording), rows)
        if url.startswith("postgresql"):
            async with db.write() as session:
                await session.execute(text("ANALYZE recordings"))
        print(f"loaded {count - have:,} recordings in {time.perf_counter() - started:.0f} s")
    if url.startswith("postgresql"):  # a set loaded before the check figures were columns
        async with db.write() as session:
            filled = await session.execute(
                text(
                    "UPDATE recordings SET longest_silence = round((-6 * ln(1 - random()))::numeric, 1),"
                    " overtalk_seconds = round((-3 * ln(1 - random()))::numeric, 1),"
                    " talk_ratio = 0.2 + 0.65 * random() WHERE kind = 'call' AND longest_silence IS NULL"
                )
            )
        if filled.rowcount:  # type: ignore[attr-defined]
            async with db.write() as session:
                await session.execute(text("ANALYZE recordings"))
            print(f"gave {filled.rowcount:,} recordings their check figures")  # type: ignore[attr-defined]
    rng = random.Random(7)
    now = utcnow()
    page = await service.search(ctx, service.Search(limit=50))
    assert page.next_cursor is not None
    cursors = [page.next_cursor]
    for _ in range(samples - 1):  # deep pages: a cursor from some way into the year
        at = now - timedelta(days=rng.uniform(1, 360))
        cursors.append(service.encode_cursor(at, 10**9))

    def search(**filters: object) -> Callable[[], Awaitable[object]]:
        return lambda: service.search(ctx, service.Search(**filters))  # type: ignore[arg-type]

    def week() -> dict[str, object]:
        since = now - timedelta(days=rng.uniform(7, 365))
        return {"since": since, "until": since + timedelta(days=7)}

    kinds: dict[str, Callable[[], dict[str, object]]] = {
        "newest 50, no filter": dict,
        "one agent": lambda: {"agent_id": rng.randrange(1, AGENTS + 1)},
        "one queue, a week": lambda: {"queue": rng.choice(QUEUES)} | week(),
        "one customer": lambda: {"customer_id": rng.randrange(1, CALLERS, 3) + 1},
        "whole number": lambda: {"number": _number(rng.randrange(CALLERS))},
        "last 4 digits": lambda: {"number": f"{rng.randrange(10**4):04d}"},
        "complaints over 15 min": lambda: {"disposition": "complaint", "min_seconds": 900},
        "voicemail, a week": lambda: {"kind": "voicemail"} | week(),
        "one call id": lambda: {"call_id": f"leg-{rng.randrange(count):08x}"},
        "legal hold": lambda: {"legal_hold": True},
        "dead air of 30 s or more": lambda: {"silence_at_least": 30},
        "dead air of 60 s or more": lambda: {"silence_at_least": 60},
        "overtalk of 20 s, a week": lambda: {"overtalk_at_least": 20} | week(),
        "agent talks > 70 %, one agent": lambda: {
            "agent_share_min": 70,
            "agent_id": rng.randrange(1, AGENTS + 1),
        },
        "a page deep in the year": lambda: {"cursor": rng.choice(cursors)},
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in kinds}
    for _ in range(runs):
        for name, make in kinds.items():
            _, p50, p99 = await timed(name, [search(**make()) for _ in range(samples)])
            results[name].append((p50, p99))
    print(
        f"{url.split('://')[0]}, {count:,} recordings, {samples} searches of each kind, median of {runs} runs"
    )
    print("| search | p50 ms | p99 ms |")
    print("|---|---:|---:|")
    for name, figures in results.items():
        p50 = statistics.median(f[0] for f in figures)
        p99 = statistics.median(f[1] for f in figures)
        print(f"| {name} | {p50:.1f} | {p99:.1f} |")
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="sqlite+aiosqlite:////tmp/hotline-bench-recordings.db")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.count, args.samples, args.runs))
