"""XLSX export of 1,000,000 rows through the real job path (issue 21's benchmark).

    uv run python benchmarks/exports.py --rows 1000000 --runs 3 [--format xlsx|csv]

The rows come from a realistic generator, not the database: a subject registered here
(`bench.calls`) yields pages of call records as the call-record export will (id, start time as an
aware UTC datetime, caller's phone — masked, as an agent sees it — queue, agent, direction, wait
and talk seconds, outcome, disposition, survey score: 11 columns, Chinese text). Everything else is
the product's: `service.start_export` records the job in a migrated SQLite database, the node's
`ExportRunner` runs it, `runner.produce` feeds the writer process (exports/writer.py) through its
pipe and the workbook is written by exports/xlsx.py, streamed into the zip a page at a time.

Reported per run: rows/s from the job's start to the file being closed, and the writer process's
peak resident memory (its own `ru_maxrss`); the median of `--runs` runs. Floor: ≥ 50,000 rows/s
and < 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert

from hotline import domains
from hotline.admin.models import User
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.events import InProcessBus
from hotline.core.migrate import upgrade
from hotline.core.permissions import Permission
from hotline.core.privacy import Kind
from hotline.exports import service
from hotline.exports.runner import ExportRunner
from hotline.exports.schemas import ExportIn
from hotline.exports.subjects import Column, Row, subject

QUEUES = ("酒店预订", "旅游线路", "会员服务", "投诉建议", "English line")
AGENTS = ("王芳", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵强", "黄丽")
OUTCOMES = ("answered", "abandoned", "voicemail", "callback")
START = datetime(2026, 1, 1, tzinfo=UTC)


class Count(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: int = 1_000_000


def _page(first: int, size: int) -> list[Row]:
    return [
        (n, START + timedelta(seconds=n * 31), f"+86139{n % 100_000_000:08d}", QUEUES[n % 5], AGENTS[n % 8],
         "inbound" if n % 4 else "outbound", n % 97, 30 + n % 611, OUTCOMES[n % 4],
         "预订成功" if n % 3 else "咨询", 1 + n % 5)
        for n in range(first, first + size)
    ]  # fmt: skip


class Calls:
    def __init__(self, rows: int) -> None:
        self.rows = rows

    async def count(self, ctx: Context) -> int:
        return self.rows

    async def pages(self, ctx: Context, size: int) -> AsyncIterator[list[Row]]:
        for first in range(0, self.rows, size):
            yield _page(first, min(size, self.rows - first))
            await asyncio.sleep(0)  # as a database read would give the loop back


COLUMNS = (
    Column("id", "编号", "Id", "int"), Column("started_at", "开始时间", "Started", "datetime", width=20),
    Column("caller", "主叫号码", "Caller", personal=Kind.PHONE), Column("queue", "队列", "Queue"),
    Column("agent", "坐席", "Agent"), Column("direction", "方向", "Direction"),
    Column("wait", "等待秒数", "Wait s", "int"), Column("talk", "通话秒数", "Talk s", "int"),
    Column("outcome", "结果", "Outcome"), Column("disposition", "小结", "Disposition"),
    Column("score", "满意度", "Score", "int"),
)  # fmt: skip


@subject("bench.calls", Permission.REPORTS_READ, Count, ("通话记录", "Calls"), COLUMNS)
async def calls(ctx: Context, filters: Count) -> Calls:
    return Calls(filters.rows)


async def main(rows: int, runs: int, fmt: str) -> None:
    domains.load_models()
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-exports-"))
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    db = Database(url)
    await upgrade(db)
    async with db.write() as session:
        await session.execute(
            insert(User).values(id=1, username="bench", display_name="bench", password_hash="-")  # noqa: S106
        )
    settings = Settings(
        database_url=url, environment="test", roles=["api"], frontend_dist=Path("/nonexistent"),
        exports_dir=folder / "exports", log_level="WARNING", compute_warm=False, exports_max_rows=rows,
    )  # fmt: skip
    actor = Actor(1, "bench", permissions=frozenset({Permission.REPORTS_READ}))
    ctx = Context(settings, db, InProcessBus(), actor)
    runner = ExportRunner()
    results = []
    for run in range(runs):
        job = await service.start_export(
            ctx,
            ExportIn(subject="bench.calls", format=fmt, filters={"rows": rows}),
            runner,  # type: ignore[arg-type]
        )
        await runner.wait(job.id)
        done = await service.get_export(ctx, job.id)
        written = runner.last[job.id]
        assert done.status == "done" and done.rows_done == rows, done
        rate, rss = rows / written.seconds, written.max_rss_kib / 1024
        results.append((rate, rss, written.seconds, done.size or 0))
        print(f"run {run + 1}: {rows:,} rows in {written.seconds:.1f} s = {rate:,.0f} rows/s, "
              f"writer peak RSS {rss:.0f} MB, file {(done.size or 0) / 1e6:.1f} MB")  # fmt: skip
    await runner.stop()
    await db.dispose()
    rate = statistics.median(r[0] for r in results)
    rss = statistics.median(r[1] for r in results)
    print(f"median of {runs}: {rate:,.0f} rows/s, writer peak RSS {rss:.0f} MB ({fmt}, {rows:,} rows)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.runs, args.format))
