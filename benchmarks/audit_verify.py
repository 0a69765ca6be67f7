"""How long `hotline audit verify` takes on a big log, and how long it holds the event loop.

    uv run python benchmarks/audit_verify.py --entries 200000 --runs 3 [--database-url postgresql://…]

Fills a fresh database with a valid chain of N entries (bulk inserts, one checkpoint every 500
entries), then runs the verification `--runs` times while a ticker measures the event loop's
longest stall. Prints the median.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text

from hotline import domains
from hotline.core import migrate
from hotline.core.audit import GENESIS, AuditEntry, link
from hotline.core.audit_keys import Keyring, SigningKey
from hotline.core.checkpoints import Checkpointer, CheckpointFile, Head
from hotline.core.clock import utcnow
from hotline.core.db import Base, Database
from hotline.core.trail import verify_trail


async def fill(db: Database, entries: int, file: CheckpointFile, key: SigningKey) -> None:
    signer = Checkpointer(file, key, interval_seconds=300, node="bench")
    start = utcnow() - timedelta(seconds=entries)
    prev, batch = GENESIS, []
    for seq in range(1, entries + 1):
        entry = AuditEntry(
            at=start + timedelta(seconds=seq), actor_id=1, actor_name="bench", action="customers.update",
            entity_type="customers", entity_id=str(seq % 5000), before={"name": "张伟", "tier": "silver"},
            after={"name": "张伟", "tier": "gold"}, ip="10.0.0.1", request_id=f"req-{seq}",
        )  # fmt: skip
        prev = link(entry, seq, prev)
        batch.append({c.key: getattr(entry, c.key) for c in AuditEntry.__table__.columns})
        if len(batch) == 5000 or seq == entries:
            async with db.write() as session:
                await session.execute(insert(AuditEntry), batch)
            batch = []
        if seq % 500 == 0 or seq == entries:
            async with db.read() as session:
                await signer.take(session, "interval", head=Head(seq, prev, entry.at), now=entry.at)


BATCH = 500


async def one_run(db: Database, lines: list[str], keyring: Keyring) -> tuple[float, float]:
    worst, stop = 0.0, asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - before - 0.005)

    tick = asyncio.create_task(ticker())
    began = time.perf_counter()
    async with db.read() as session:
        report = await verify_trail(session, lines, keyring, now=utcnow() + timedelta(days=3650), batch=BATCH)
    took = time.perf_counter() - began
    stop.set()
    await tick
    assert report.entries == report.head.seq, report.problems
    return took, worst


async def main(args: argparse.Namespace) -> None:
    global BATCH
    BATCH = args.batch
    domains.load_models()
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-audit-"))
    url = args.database_url or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    db = Database(url)
    if db.is_sqlite:
        sys.setswitchinterval(0.0005)  # as the app does on SQLite (api/app.py)
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await migrate.upgrade(db)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = SigningKey(Ed25519PrivateKey.generate())
    keyring = Keyring()
    keyring.add(key.public)
    file = CheckpointFile(folder / "checkpoints.jsonl")
    began = time.perf_counter()
    await fill(db, args.entries, file, key)
    print(
        f"filled {args.entries:,} entries in {time.perf_counter() - began:.1f} s ({db.engine.dialect.name})"
    )
    lines = file.lines()
    results = [await one_run(db, lines, keyring) for _ in range(args.runs)]
    took = statistics.median(r[0] for r in results)
    stall = statistics.median(r[1] for r in results)
    print(
        f"verify: median {took:.2f} s ({args.entries / took:,.0f} entries/s, {len(lines)} checkpoints); "
        f"longest event-loop stall median {stall * 1000:.0f} ms; runs {[round(r[0], 2) for r in results]}"
    )
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--batch", type=int, default=500)
    asyncio.run(main(parser.parse_args()))
