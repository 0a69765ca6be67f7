"""A 60-minute call's waveform drawn by the browser (issue 20's benchmark: under 1 s).

    uv run python benchmarks/recordings_waveform.py --runs 7

Starts a real server (SQLite, demo data, the built web UI: run `make frontend` first), writes a
60-minute two-channel call as the recorder does and indexes it, then signs in as `qa` in Debian's
Chromium (headless, software rendering) and opens the link to that recording (/recordings?id=N) once
per run, in a fresh tab. The player marks three user timings (RecordingPlayer.vue): peaks asked,
peaks received and parsed (the JSON of 10 min/max pairs a second per channel, 0.68 MB), and the
waveform drawn (wavesurfer.js's first `redrawcomplete`: both channels on their canvases). Reported:
received → drawn (what the issue calls drawing: bucketing the pairs and painting), asked → drawn
(with the fetch), at 1366×768 and 1920×1080; median of the runs after one warm-up that lets the
worker compute the peaks once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from served import start_server, stop_server  # benchmarks/served.py

CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
SIZES = [(1366, 768), (1920, 1080)]
DRAWN = """() => {
  const at = (name) => performance.getEntriesByName(name).at(-1)?.startTime
  const asked = at('hl-peaks-asked'), received = at('hl-peaks-received'), drawn = at('hl-waveform-drawn')
  return drawn === undefined ? null : { fetch: received - asked, draw: drawn - received, all: drawn - asked }
}"""


async def index_long_call(url: str, recordings: Path) -> int:
    """A 60-minute call on disk and in the library, as the indexer would have put it."""
    from hotline import domains
    from hotline.core.clock import utcnow
    from hotline.core.db import Database
    from hotline.quality.recordings.demo import write_call
    from hotline.quality.recordings.models import Recording

    domains.load_models()
    write_call(recordings / "bench-long-call", 3600, 1)
    db = Database(url)
    async with db.write() as session:
        row = Recording(source_line=10**9, call_id="bench-long-call", part=1, kind="call",
                        started_at=utcnow(),
                        seconds=3600.0, direction="inbound", channels=2, path="bench-long-call/mix.wav",
                        node=os.uname().nodename, indexed_at=utcnow())  # fmt: skip
        session.add(row)
        await session.flush()
        recording_id = row.id
    await db.dispose()
    return recording_id


def main(runs: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-waveform-"))
    process, url, env = start_server(folder)
    try:
        recording_id = asyncio.run(index_long_call(env["HOTLINE_DATABASE_URL"], folder / "recordings"))
        results: dict[tuple[int, int], list[dict[str, float]]] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            for width, height in SIZES:
                context = browser.new_context(
                    base_url=url, viewport={"width": width, "height": height}, locale="zh-CN"
                )
                page = context.new_page()
                page.goto("/login")
                page.get_by_test_id("login-username").fill("qa")
                page.get_by_test_id("login-password").fill("hotline-demo")
                page.get_by_test_id("login-submit").click()
                page.get_by_test_id("nav-menu").wait_for()
                page.close()
                taken = []
                for run in range(runs + 1):  # the first lets the worker compute the peaks
                    tab = context.new_page()
                    tab.goto(f"/recordings?id={recording_id}")
                    timing = tab.wait_for_function(DRAWN, timeout=60_000).json_value()
                    if run:
                        taken.append(timing)
                    tab.close()
                results[(width, height)] = taken
                context.close()
            browser.close()
    finally:
        stop_server(process)
    print(f"60-minute two-channel call, median of {runs} runs (after one warm-up), Chromium headless")
    print("| window | received → drawn | asked → drawn (with the fetch) | slowest drawn |")
    print("|---|---:|---:|---:|")
    for (width, height), taken in results.items():
        draw = statistics.median(t["draw"] for t in taken)
        whole = statistics.median(t["all"] for t in taken)
        print(
            f"| {width}×{height} | {draw:.0f} ms | {whole:.0f} ms | {max(t['draw'] for t in taken):.0f} ms |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    main(parser.parse_args().runs)
