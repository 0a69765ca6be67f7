"""A real Hotline server for a browser benchmark: a new SQLite database in `folder`, migrated and
loaded with the demo data, then `hotline serve` (API, web UI from frontend/dist, voice engine) on
free ports, as tests/e2e/conftest.py starts one for the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port  # noqa: E402


def start_server(
    folder: Path,
    extra: dict[str, str] | None = None,
    *,
    log: Path | None = None,
    prepare: Callable[[dict[str, str]], None] | None = None,
) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    """The server's process, its base URL and its environment (`HOTLINE_SIP_PORT` says where its
    SIP listens); `extra` adds or overrides settings; `log` takes what the server prints;
    `prepare` adds data to the demo's (given the environment) before the server starts."""
    if not (ROOT / "frontend" / "dist" / "index.html").is_file():
        raise SystemExit("the web UI is not built: run `make frontend`")
    port = free_port()
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'hotline.db'}",
        "HOTLINE_RECORDINGS_DIR": str(folder / "recordings"),
        "HOTLINE_AUDIT_KEY_FILE": str(folder / "audit" / "signing.key"),
        "HOTLINE_AUDIT_KEYRING_FILE": str(folder / "audit" / "keyring.json"),
        "HOTLINE_AUDIT_CHECKPOINT_FILE": str(folder / "audit" / "checkpoints.jsonl"),
        "HOTLINE_PORT": str(port),
        "HOTLINE_SIP_PORT": str(free_port()),
        "HOTLINE_LOG_LEVEL": "WARNING",
        **(extra or {}),
    }
    env.pop("HOTLINE_TEST_DATABASE_URL", None)
    subprocess.run(["hotline", "db", "upgrade"], env=env, check=True, cwd=ROOT)
    subprocess.run(["hotline", "demo-data"], env=env, check=True, cwd=ROOT, capture_output=True)
    if prepare is not None:
        prepare(env)
    with open(log or os.devnull, "ab") as output:  # the child keeps its own copy
        process = subprocess.Popen(
            ["hotline", "serve", "--no-migrate"], env=env, cwd=ROOT,
            stdout=output if log else None, stderr=output if log else None,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url, env
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.terminate()
            raise SystemExit("the server did not become ready")
        time.sleep(0.2)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)
