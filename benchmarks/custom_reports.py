"""Custom reports over a realistic year on PostgreSQL (issue 21: "a custom report over the year
under 3 s").

    eval "$(scripts/services.sh start)"
    uv run python benchmarks/reports_year.py --database-url "$URL"            # the year, once (~15 min)
    uv run python benchmarks/custom_reports.py --database-url "$URL" [--runs 5]

Measures, on the year `reports_year.py` wrote (~1,000,000 calls of 200 agents in 10 queues), a
custom report previewed through the app as a supervisor (`POST /api/reports/custom/preview`: the
query built from the choices, run off the loop with its time limit, the codes worded) over the
last 365 days: by month × queue with four measures, and by day with six. Median of `--runs`, after
one warm run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from hotline import domains
from hotline.api.app import create_app
from hotline.core.config import Settings

PASSWORD = "bench-reports"  # noqa: S105 - reports_year.py's throwaway supervisor in its own database
REPORTS: dict[str, dict[str, Any]] = {
    "a year by month × queue (calls, answered, abandoned, answer rate)": {
        "subject": "calls",
        "dimensions": ["month", "queue"],
        "measures": ["calls", "answered", "abandoned", "answer_rate"],
        "period": {"preset": "last_365_days"},
        "chart": "bar",
    },
    "a year by day (6 measures)": {
        "subject": "calls",
        "dimensions": ["day"],
        "measures": ["calls", "answered", "abandoned", "answer_rate", "service_level", "transfers"],
        "period": {"preset": "last_365_days"},
        "chart": "line",
    },
}


async def main(url: str, runs: int) -> None:
    domains.load_models()
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-custom-"))
    settings = Settings(
        database_url=url, environment="test", roles=["api"], frontend_dist=Path("/nonexistent"),
        log_level="ERROR", session_cache_seconds=0, audit_key_file=folder / "signing.key",
        audit_keyring_file=folder / "keyring.json", audit_checkpoint_file=folder / "checkpoints.jsonl",
    )  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as http:
            got = await http.post(
                "/api/auth/login", json={"username": "bench-supervisor", "password": PASSWORD}
            )
            assert got.status_code == 200, got.text
            print("| custom report | rows | median ms | all runs ms |")
            print("|---|---:|---:|---|")
            for name, definition in REPORTS.items():
                took: list[float] = []
                rows = 0
                for n in range(runs + 1):
                    began = time.perf_counter()
                    answer = await http.post("/api/reports/custom/preview", json=definition)
                    assert answer.status_code == 200, answer.text
                    if n:  # the first run warms the plan and the app's caches
                        took.append((time.perf_counter() - began) * 1000)
                    rows = len(answer.json()["rows"])
                runs_ms = " ".join(f"{x:.0f}" for x in took)
                print(f"| {name} | {rows} | {statistics.median(took):,.0f} | {runs_ms} |")
    load = os.getloadavg()
    print(f"median of {runs} runs; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=os.environ.get("HOTLINE_TEST_DATABASE_URL", ""))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url: the PostgreSQL database reports_year.py filled")
    asyncio.run(main(args.database_url, args.runs))
