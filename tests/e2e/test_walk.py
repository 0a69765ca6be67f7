"""The walk: every demo role opens every page its menu shows, and nothing on screen is a raw code,
untranslated, a console error or a failed request.

What is on screen is every visible text node; text inside `data-i18n-free` (data people typed or
a flow's labels) is not checked. In English, Chinese in a table cell or a value of a description
is data (a customer's or a hotel's name) unless it sits in a tag or a button, which hold our words.

`make test` walks every role in zh-CN at 1366×768; `make walk` (HOTLINE_WALK=full) walks both
languages at 1366×768 and 1920×1080. Every finding of a role's walk is reported at once.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

ROLES = ("admin", "supervisor", "teamlead", "agent1", "planner", "frontdesk", "finance", "qa", "dept1")
FULL = os.environ.get("HOTLINE_WALK") == "full"
LOCALES = ("zh-CN", "en") if FULL else ("zh-CN",)
SIZES = ((1366, 768), (1920, 1080)) if FULL else ((1366, 768),)

ALLOWED_LATIN = {
    # brand and product names, units and protocol names a person reads as they are
    "Hotline", "IVR", "SIP", "SLA", "VIP", "API", "PMS", "SMS", "TTS", "UDP", "TCP", "IP", "ID", "Erlang",
    "SMTP", "Kannel", "OK", "AM", "PM", "RTP", "TLS", "CSV", "PDF", "Excel", "WebRTC", "English", "Email",
    "Wi", "Fi", "WiFi", "km", "kg", "ms", "s", "min", "B", "KB", "MB", "GB", "x",
}  # fmt: skip
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
DOTTED = re.compile(r"\b[a-z][a-z_]+\.[a-z][a-z_]+(?:[.:][a-z_]+)*\b")
COLON = re.compile(r"\b[a-z][a-z_]+:[a-z][a-z_-]+\b")
PATH = re.compile(r"(?:^|\s)(?:/[a-z0-9_.-]+){2,}|\b[\w-]+\.(?:wav|yaml|yml|py|json|log|mp3)\b")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
CJK = re.compile(r"[\u3400-\u9fff]")

VISIBLE_TEXT = """() => {
  const out = []
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\\s+/g, ' ').trim()
    const el = node.parentElement
    if (!text || !el || el.closest('script, style, noscript, [data-i18n-free]')) continue
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue
    const box = el.getBoundingClientRect()
    if (box.width === 0 || box.height === 0) continue
    const cell = el.closest('td, .el-descriptions__content, .el-input, .el-select')
    const data = !!cell && !el.closest('.el-tag, button')
    const where = el.closest('[data-testid]')?.getAttribute('data-testid') ?? el.tagName.toLowerCase()
    out.push({ text, data, where })
  }
  return out
}"""


@dataclass(frozen=True)
class Finding:
    role: str
    locale: str
    size: str
    page: str
    what: str
    text: str

    def __str__(self) -> str:
        where = f"{self.role} {self.locale} {self.size} /{self.page}"
        return f"{where} {self.what}: {self.text[:160]}"


def problems(text: str, data: bool, locale: str) -> Iterator[str]:
    """What is wrong with one visible text: raw identifiers, words not in the page's language."""
    if "@" in text:  # an e-mail address (masked): data
        return
    for pattern, what in (
        (SNAKE, "snake_case"),
        (DOTTED, "dotted code"),
        (COLON, "colon code"),
        (PATH, "path"),
    ):
        if found := pattern.search(text):
            yield f"raw {what} {found.group(0).strip()!r}"
    if locale == "zh-CN":
        words = [w for w in LATIN_WORD.findall(text) if w not in ALLOWED_LATIN and not w.isupper()]
        if words and not data:
            yield f"English in Chinese {words[:3]}"
        elif words and data and all(w.islower() for w in words):  # a code in a cell: confirmed, phone
            yield f"code in Chinese {words[:3]}"
    elif CJK.search(text) and not data:
        yield "Chinese in English"


def walk(page: Page, role: str, locale: str, size: str) -> list[Finding]:
    findings: list[Finding] = []
    current = ["login"]

    def note(what: str, text: str) -> None:
        findings.append(Finding(role, locale, size, current[0], what, text))

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith(
            "Failed to load resource"
        ):  # the response says
            note("console error", message.text)

    def response(answer: Response) -> None:
        if answer.status >= 400:
            note(f"HTTP {answer.status}", f"{answer.request.method} {answer.url}")

    def failed(request: Request) -> None:
        if "ERR_ABORTED" not in (request.failure or ""):  # a page left while it was loading
            note("request failed", f"{request.method} {request.url} {request.failure}")

    sign_in(page, role)  # the sign-in page asks who is signed in (401) before anyone is: not a finding
    page.on("console", console)
    page.on("pageerror", lambda error: note("page error", str(error)))
    page.on("response", response)
    page.on("requestfailed", failed)
    items = [
        (item.get_attribute("data-testid") or "").removeprefix("nav-")
        for item in page.get_by_test_id("nav-menu").locator("[data-testid^=nav-]").all()
    ]
    for name in items:
        current[0] = name
        before = page.evaluate("location.pathname")
        page.get_by_test_id(f"nav-{name}").click()
        with contextlib.suppress(PlaywrightTimeout):  # the page signed in to is the first entry's
            page.wait_for_function("before => location.pathname !== before", arg=before, timeout=3_000)
        with contextlib.suppress(PlaywrightTimeout):  # a page that polls may never idle: checked as it is
            page.wait_for_load_state("networkidle", timeout=5_000)
        page.wait_for_timeout(500)  # the page that was left fades out
        seen: set[str] = set()
        for shown in page.evaluate(VISIBLE_TEXT):
            if shown["text"] in seen:
                continue
            seen.add(shown["text"])
            for problem in problems(shown["text"], shown["data"], locale):
                note(problem, f"{shown['text']} ({shown['where']})")
    return findings


@pytest.fixture
def walker(browser: Browser, server: str, request: pytest.FixtureRequest) -> Iterator[tuple[Page, str, str]]:
    locale, (width, height) = request.param
    context = browser.new_context(base_url=server, viewport={"width": width, "height": height}, locale=locale)
    context.add_init_script(f"try {{ localStorage.setItem('hotline.locale', {locale!r}) }} catch {{}}")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page, locale, f"{width}x{height}"
    context.close()


@pytest.mark.parametrize(
    "walker",
    [(locale, size) for locale in LOCALES for size in SIZES],
    ids=[f"{locale}-{w}x{h}" for locale in LOCALES for w, h in SIZES],
    indirect=True,
)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_every_role_speaks_the_users_language(walker: tuple[Page, str, str], role: str) -> None:
    findings = walk(*walker[:1], role, *walker[1:])
    report = "\n".join(str(f) for f in findings)
    assert not findings, f"{len(findings)} findings:\n{report}"
