"""A scheduler node for the multi-process test: `python -m tests.core.jobs_worker URL SECONDS OUT`.

With OUT given, the node says it is ready (`OUT.ready.<pid>`) and starts only once `OUT.go`
exists, so both nodes compete from the same instant however slowly each one started."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from hotline import domains
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.events import InProcessBus
from hotline.core.jobs import JobScheduler, job_handler
from tests.conftest import make_settings

OUT = sys.argv[3] if len(sys.argv) > 3 else os.devnull


@job_handler("test.record")
async def record(ctx: Context, payload: dict[str, Any]) -> None:
    await asyncio.sleep(0.01)  # long enough for the other node to try the same job
    with open(OUT, "a") as out:
        out.write(f"{payload['n']} {os.getpid()}\n")


async def main(url: str, seconds: float) -> None:
    domains.load_models()
    settings = make_settings(url)
    db = Database(url)
    ctx = Context(settings, db, InProcessBus(), Actor.system("worker"))
    if os.devnull != OUT:
        Path(f"{OUT}.ready.{os.getpid()}").touch()
        for _ in range(6000):  # a file from another process: polled, there is no event to await
            if Path(f"{OUT}.go").exists():
                break
            await asyncio.sleep(0.01)
    scheduler = JobScheduler(ctx, node_id=f"worker-{os.getpid()}", poll_seconds=0.05, batch=3)
    await scheduler.start()
    await asyncio.sleep(seconds)
    await scheduler.stop()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
