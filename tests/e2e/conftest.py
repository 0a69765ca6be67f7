"""A real Hotline server (uvicorn, SQLite, demo data) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def no_loop_stalls() -> None:
    """Not here: the only event loop in this process is Playwright's, which a test holds whenever it
    waits for a SIPp caller or sleeps; the server under test runs in its own process."""


@pytest.fixture(scope="session")
def sip_port() -> int:
    """Where the server's SIP listens (UDP and TCP), for tests that call it with SIPp and baresip."""
    return free_port()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, sip_port: int) -> Iterator[str]:
    if not (ROOT / "frontend" / "dist" / "index.html").is_file():
        pytest.fail("the web UI is not built: run `make frontend`")
    port = free_port()
    folder = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'hotline.db'}",
        # the audit signing key and checkpoints of this server, not the checkout's var/
        "HOTLINE_AUDIT_KEY_FILE": str(folder / "audit" / "signing.key"),
        "HOTLINE_AUDIT_KEYRING_FILE": str(folder / "audit" / "keyring.json"),
        "HOTLINE_AUDIT_CHECKPOINT_FILE": str(folder / "audit" / "checkpoints.jsonl"),
        "HOTLINE_PORT": str(port),
        "HOTLINE_SIP_PORT": str(sip_port),
        "HOTLINE_LOG_LEVEL": "WARNING",
        # the tests sign the demo agents in and out of many short browser sessions and count on
        # them staying ready in between (tests/contact/calls/test_controls.py covers a closed desk)
        "HOTLINE_DESK_GRACE_SECONDS": "300",
        # every browser context signs in from 127.0.0.1 (tests/api/test_rate_limits.py proves the limit)
        "HOTLINE_RATE_LIMIT_LOGIN": "10000",
    }
    env.pop("HOTLINE_TEST_DATABASE_URL", None)
    subprocess.run(["hotline", "db", "upgrade"], env=env, check=True, cwd=ROOT)
    loaded = subprocess.run(["hotline", "demo-data"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert loaded.returncode == 0, f"hotline demo-data failed:\n{loaded.stdout}\n{loaded.stderr}"
    process = subprocess.Popen(["hotline", "serve", "--no-migrate"], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a busy two-core machine takes a while to import and start
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("the server did not become ready")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_ENV = {**os.environ, "TZ": "Asia/Shanghai"}
"""The agents' browsers are in China: the pages' "today" (a report's default day, a date picker)
is Shanghai's, as the server's is, whatever the machine running the tests says."""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=BROWSER_ENV)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server, viewport={"width": 1360, "height": 820}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page: Page, username: str, password: str = "hotline-demo") -> None:
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("nav-menu").wait_for()


@pytest.fixture
def session(browser: Browser, server: str) -> Iterator[Callable[[str], Page]]:
    """A fresh browser session per person of a flow (signed in in turn)."""
    contexts = []

    def open_as(username: str) -> Page:
        context = browser.new_context(
            base_url=server, viewport={"width": 1500, "height": 900}, locale="zh-CN"
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, username)
        return page

    yield open_as
    for context in contexts:
        context.close()


def field(page: Page | Locator, testid: str) -> Locator:
    """The input of an Element Plus input (the test id may sit on it or around it)."""
    return page.locator(f"input[data-testid='{testid}'], [data-testid='{testid}'] input").first


def choose(page: Page, testid: str, option: str) -> None:
    """Pick an option of an Element Plus select by its text."""
    page.get_by_test_id(testid).click()
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()
