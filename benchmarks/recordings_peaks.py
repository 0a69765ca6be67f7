"""Waveform peaks of a 60-minute call: computed once, then served (issue 20's benchmark).

    uv run python benchmarks/recordings_peaks.py

Writes a 60-minute two-channel call as the recorder does (8 kHz, 16-bit: a.wav, b.wav, mix.wav,
the demo's synthesised turns), indexes it, and times (1) computing its peaks (`media.compute_peaks`,
what the compute worker runs on the first play) and (2) serving them: `GET /api/quality/media/
{token}` through the app (token check, the recording's row, the stored JSON), one request at a
time. Median of `--runs` runs; floor: peaks served in under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from hotline import domains
from hotline.api.app import create_app
from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.db import Database
from hotline.core.migrate import upgrade
from hotline.quality.recordings import media
from hotline.quality.recordings.demo import write_call
from hotline.quality.recordings.models import Recording


async def main(runs: int, requests: int) -> None:
    domains.load_models()
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-peaks-"))
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    db = Database(url)
    await upgrade(db)
    mix = write_call(folder / "recordings" / "long-call", 3600, 1)
    async with db.write() as session:
        row = Recording(source_line=1, call_id="long-call", part=1, kind="call", started_at=utcnow(),
                        seconds=3600.0, direction="inbound", channels=2, path="long-call/mix.wav",
                        node="bench", indexed_at=utcnow())  # fmt: skip
        session.add(row)
        await session.flush()
        recording_id = row.id
    await db.dispose()
    computed = []
    for _ in range(runs):
        started = time.perf_counter()
        media.compute_peaks(str(mix))
        computed.append((time.perf_counter() - started) * 1000)
    size = media.peaks_file(mix).stat().st_size
    settings = Settings(
        database_url=url, environment="test", roles=["api"], frontend_dist=Path("/nonexistent"),
        recordings_dir=folder / "recordings", log_level="WARNING", compute_warm=False,
    )  # fmt: skip
    app = create_app(settings)
    served: list[float] = []
    async with app.router.lifespan_context(app):
        from hotline.core.context import Actor, Context
        from hotline.core.events import InProcessBus

        ctx = Context(settings, Database(url), InProcessBus(), Actor.system("benchmark"))
        key = await media.media_key(ctx)
        link = media.link(key, recording_id, "peaks", "play", media.expiry())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for _ in range(runs):
                took = []
                for _ in range(requests):
                    started = time.perf_counter()
                    response = await http.get(link)
                    assert response.status_code == 200 and len(response.content) == size
                    took.append((time.perf_counter() - started) * 1000)
                served.append(statistics.median(took))
        await ctx.db.dispose()
    print(f"60-minute two-channel call, peaks JSON {size / 1e6:.2f} MB, median of {runs} runs")
    print("| step | ms |")
    print("|---|---:|")
    print(f"| compute the peaks (once, in a worker) | {statistics.median(computed):.0f} |")
    serve = statistics.median(served)
    print(f"| serve them (GET /api/quality/media/{{token}}, median of {requests}) | {serve:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.requests))
