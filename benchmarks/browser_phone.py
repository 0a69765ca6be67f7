"""The browser phone's latencies (issue 23's benchmark): click to ringing, answer to first audio.

    make frontend && uv run python benchmarks/browser_phone.py --runs 3 --calls 7

Each run starts a real server (benchmarks/served.py: SQLite, demo data, `hotline serve` with its
voice engine) and Debian's Chromium (Playwright, headless) with a fake microphone saying 1 kHz,
as tests/e2e/test_browser_phone.py launches it (its `launch_with_microphone`, `Caller` and
`WATCH` serve here); agent1, whose demo phone is the browser, signs in and opens 坐席工作台, where
the browser phone registers over SIP over WebSocket. Then `--calls` calls of each kind, one after the other:

1. Click to ringing, click-to-dial: agent1 types 1006 (a demo extension with no agent, registered
   by a scripted SIP phone, tests/voice/softphone.py) in the softphone panel and clicks 拨号
   (`phone-dial`). The server rings the agent's own browser phone with `Answer-Mode: Auto`
   (RFC 5373), the browser answers by itself, and the server calls 1006. Measured from the click
   (a capture listener in the page, before the app's handler) to 1006's INVITE arriving at the
   scripted phone, with its steps: the agent leg's INVITE arriving on the page's WebSocket, the
   call's peer connection made (the answer begins, with the microphone the phone opened as the
   INVITE rang), the browser's 200 OK leaving. 1006 answers; agent1 hangs up (`phone-hang-up`;
   a call out has no wrap-up) and is ready again.
2. Click to ringing, an incoming call: 李娜's scripted phone (`Caller`, over the demo trunk) calls
   4008001000 and presses 2 a second after the welcome starts (the hotel queue). Measured from the
   keypress (the first key packet sent) to the ringing banner (`phone-incoming`) drawn in the page,
   with its steps: the INVITE arriving on the page's WebSocket, the banner in the DOM (a
   MutationObserver), the next animation frame (drawn).
3. Answer to first audio: half a second after the banner, agent1 clicks 接听 (`phone-answer`);
   measured to (i) the browser's first inbound RTP packet and first sound (the peer connection's
   `inbound-rtp` stats, packetsReceived > 0 and audioLevel > 0, read every 10 ms in the page) and
   (ii) the caller's first packet of the agent's voice (mostly 1 kHz; until then the caller has
   the queue's hold line and the notice); with its steps: the peer connection made (the phone
   opened the microphone while the call rang), the 200 OK leaving, connected (ICE and DTLS), the
   first packet. The hotel flow as shipped says the recording notice to caller and agent before
   it bridges them, so this is done twice: with the notice, then (the flow
   republished through the API without it) with none, which is the browser's own media path.
   Then agent1 hangs up, saves the wrap-up (`desk-wrap-save`), is ready again, and the caller
   leaves the survey (BYE).

All times are the wall clock: the page's `performance.now()` (converted at read-out with the page's
`Date.now()`) and `time.time()` in the scripted phones' thread, on one machine. Reported: median
and p95 (nearest rank) of each measure over all calls of all runs, each run's median, and the
floors of issue 23: click to ringing p95 < 1.5 s, answer to first audio < 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import httpx
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from served import start_server, stop_server  # benchmarks/served.py
from tests.e2e.conftest import sign_in
from tests.e2e.test_browser_phone import (
    AGENT_TONE,
    CALLER_TONE,
    WATCH,
    Caller,
    launch_with_microphone,
    write_tone,
)
from tests.voice.audio import tone_share
from tests.voice.softphone import Softphone

from hotline.voice.media.g711 import tone, ulaw_decode, ulaw_encode
from hotline.voice.rtp.packet import RtpPacket

CALLED = ("1006", "sip1006")  # a demo extension with no agent: nobody's desk rings for it
SECOND_OF_TONE = ulaw_encode(tone(CALLER_TONE, 1000))
RING_OUT, RING_IN, AUDIO = (
    "click to ringing, click-to-dial",
    "click to ringing, incoming",
    "answer to first audio",
)
FLOORS = {RING_OUT: 1500.0, RING_IN: 1500.0, AUDIO: 500.0}  # ms, issue 23 (p95 for ringing)

# What the page notes, in its own performance.now() milliseconds: clicks on 拨号 and 接听 (capture
# phase, before the app's handlers); SIP INVITEs arriving on the phone's WebSocket and 200 OKs to
# an INVITE leaving it; a peer connection made and connected (ICE and DTLS); the
# ringing banner's arrival in the DOM and the frame after; and from 接听 on the first inbound RTP
# packet and the first sound of the call's peer connection.
PROBE = """
(() => {
  const marks = (window.__marks = {})
  const mark = (name) => (marks[name] ??= []).push(performance.now())
  const isOk = (data) => data.startsWith('SIP/2.0 200') && /\\r\\nCSeq: *\\d+ INVITE\\r\\n/i.test(data)
  const Socket = window.WebSocket
  window.WebSocket = class extends Socket {
    constructor(url, protocols) {
      super(url, protocols)
      this.addEventListener('message', (e) => {
        if (typeof e.data === 'string' && e.data.startsWith('INVITE ')) mark('invite-in')
      })
    }
    send(data) {
      if (typeof data === 'string' && isOk(data)) mark('ok-out')
      return super.send(data)
    }
  }
  const Peer = window.RTCPeerConnection
  window.RTCPeerConnection = class extends Peer {
    constructor(...args) {
      super(...args)
      mark('peer')
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected') mark('connected')
      })
    }
  }
  let ringing = false
  new MutationObserver(() => {
    const now = document.querySelector('[data-testid="phone-incoming"]') !== null
    if (now && !ringing) {
      mark('banner')
      requestAnimationFrame(() => mark('banner-drawn'))
    }
    ringing = now
  }).observe(document, { childList: true, subtree: true })
  function listen() {
    const started = performance.now()
    let packets = false, sound = false, busy = false
    const timer = setInterval(async () => {
      if ((packets && sound) || performance.now() - started > 60000) return clearInterval(timer)
      const peer = (window.__peers ?? []).findLast((p) => p.signalingState !== 'closed')
      if (!peer || busy) return
      busy = true
      try {
        for (const s of (await peer.getStats()).values()) {
          if (s.type !== 'inbound-rtp' || s.kind !== 'audio') continue
          if (!packets && s.packetsReceived > 0) { packets = true; mark('rtp-in') }
          if (!sound && s.audioLevel > 0) { sound = true; mark('sound-in') }
        }
      } finally { busy = false }
    }, 10)
  }
  window.addEventListener('click', (e) => {
    const button = e.target instanceof Element ? e.target.closest('[data-testid]') : null
    const id = button?.getAttribute('data-testid')
    if (id === 'phone-dial' || id === 'phone-answer') mark('click:' + id)
    if (id === 'phone-answer') listen()
  }, true)
})()
"""
MARKS = "() => ({ marks: window.__marks, offset: Date.now() - performance.now() })"


class Marks:
    """The page's marks as wall-clock seconds, converted with the page's clock as it is now."""

    def __init__(self, page: Page) -> None:
        read = page.evaluate(MARKS)
        self.times = {name: [(t + read["offset"]) / 1000 for t in ts] for name, ts in read["marks"].items()}

    def last(self, name: str) -> float:
        return float(self.times[name][-1])

    def after(self, name: str, since: float | None) -> float | None:
        """The first `name` at or after `since`."""
        if since is None:
            return None
        return next((t for t in self.times.get(name, []) if t >= since), None)


@dataclass
class Figures:
    """Milliseconds per measure, one value a call, in the order first measured."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, start: float | None, end: float | None) -> None:
        if start is not None and end is not None:
            self.values.setdefault(name, []).append((end - start) * 1000)

    def steps(self, title: str, points: list[tuple[str, float | None]]) -> None:
        """The whole (first point to last) and each step between two points."""
        self.add(f"{title}: {points[0][0]} → {points[-1][0]}", points[0][1], points[-1][1])
        for (was, start), (now, end) in itertools.pairwise(points):
            self.add(f"{title}:   {was} → {now}", start, end)


class StampedPhone(Softphone):
    """The scripted phone, noting when each INVITE arrives (wall clock, before it is read)."""

    def __init__(self, *args: object, **kwargs: str) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.invited: list[float] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data.startswith(b"INVITE "):
            self.invited.append(time.time())
        super().datagram_received(data, addr)


class Called(Caller):
    """1006 on a scripted phone in a thread of its own: registered, answers every call."""

    def __init__(self, sip_port: int) -> None:
        super().__init__(sip_port)  # the phone's thread; the phone itself is 1006's
        self.phone.close()
        self.stamped = cast(StampedPhone, self.run(StampedPhone.open(*CALLED, sip_port)))
        self.phone = self.stamped
        assert self.run(self.phone.register()) == 200


class Customer(Caller):
    """李娜's scripted phone (`Caller`), calling once per measure; notes when she pressed 2 and
    what she received, in wall-clock time."""

    def call_and_press_two(self) -> float:
        """Call the hotel line, press 2 a second after the answer; when the key's first packet left."""
        reply = self.run(self.phone.dial("4008001000"))
        assert reply.status == 200, reply

        async def press_two() -> float:
            await asyncio.sleep(1)
            pressed = time.time()
            await self.phone.send_keys("2")
            return pressed

        pressed = self.run(press_two())
        self.talking = asyncio.run_coroutine_threadsafe(self.talk(), self.loop)
        return pressed

    async def talk(self) -> None:
        """Say 400 Hz until stopped, in 20 ms PCMU frames of one second of tone made once: making a
        long tone at once (`Softphone.send_tone`) holds this thread for seconds, which would
        hold back the packets it receives and is timing."""
        assert self.phone.remote_media is not None and self.phone.rtp.transport is not None
        ssrc, start = secrets.randbits(32), time.monotonic()
        for n in itertools.count():
            frame = SECOND_OF_TONE[160 * (n % 50) : 160 * (n % 50 + 1)]
            packet = RtpPacket(0, n % 65536, (160 * n) % 2**32, ssrc, frame, n == 0)
            self.phone.rtp.transport.sendto(bytes(packet), self.phone.remote_media)
            await asyncio.sleep(max(0.0, start + 0.02 * (n + 1) - time.monotonic()))

    def heard_agent(self, since: float) -> float | None:
        """When the first packet after `since` that is mostly the agent's 1 kHz arrived."""
        shift = time.time() - time.monotonic()
        for at, packet in list(self.phone.rtp.packets):
            mine = packet.payload_type == 0 and tone_share(ulaw_decode(packet.payload), AGENT_TONE) > 0.5
            if at + shift >= since and mine:
                return at + shift
        return None

    def hang_up(self) -> None:
        """Leave (the survey): BYE, and its answer taken before the next call."""
        if self.talking is not None:
            self.talking.cancel()

        async def bye() -> None:
            self.phone.send(self.phone.in_dialog("BYE", cseq=2))
            while (await asyncio.wait_for(self.phone.responses.get(), 5)).status < 200:
                pass

        self.run(bye())


@contextmanager
def chromium(playwright: Playwright) -> Iterator[Browser]:
    """Chromium as tests/e2e/test_browser_phone.py launches agent1's (`launch_with_microphone`: the
    end-to-end tests' flags and time zone, a fake microphone saying 1 kHz, allowed without asking,
    sound without a click, ICE on loopback)."""
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-microphone-"))
    # it takes a browser only for its `browser_type`: Playwright's Chromium here
    launched = launch_with_microphone(
        cast(Browser, SimpleNamespace(browser_type=playwright.chromium)),
        write_tone(folder / "agent.wav", AGENT_TONE, 5),
    )
    try:
        yield launched
    finally:
        launched.close()


@contextmanager
def desktop(browser: Browser, url: str) -> Iterator[Page]:
    """agent1 on 坐席工作台, the browser phone registered, ready."""
    context = browser.new_context(base_url=url, viewport={"width": 1500, "height": 900}, locale="zh-CN")
    context.add_init_script(WATCH)
    context.add_init_script(PROBE)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        sign_in(page, "agent1")
        page.get_by_test_id("nav-desktop").click()
        expect(page.get_by_test_id("phone-link")).to_have_text("已连接")
        ready(page)
        yield page
    finally:
        context.close()


def ready(page: Page) -> None:
    """Wait until the server has agent1 ready with no call."""
    deadline = time.monotonic() + 30
    while (me := page.request.get("/api/routing/me").json())["state"] != "ready" or me["call_id"]:
        assert time.monotonic() < deadline, f"agent1 is not ready again: {me}"
        page.wait_for_timeout(100)


def hang_up(page: Page, *, wrap: bool) -> None:
    """The agent hangs up, saves the wrap-up of a queue's call and is ready again."""
    page.get_by_test_id("phone-hang-up").click()
    expect(page.get_by_test_id("softphone")).to_have_attribute("data-mode", "idle")
    if wrap:
        page.get_by_test_id("desk-wrap-save").click()
        expect(page.get_by_test_id("desk-wrapped")).to_be_visible()
    ready(page)


def dial_once(page: Page, called: Called, figures: Figures) -> None:
    rung = len(called.stamped.invited)
    page.get_by_test_id("phone-number").fill(CALLED[0])
    page.get_by_test_id("phone-dial").click()
    expect(page.get_by_test_id("phone-mode")).to_have_text("通话中")
    assert len(called.stamped.invited) > rung, "1006 was not rung"
    marks = Marks(page)
    clicked = marks.last("click:phone-dial")
    invite = marks.after("invite-in", clicked)
    figures.steps(RING_OUT, [
        ("click", clicked), ("INVITE in the page", invite), ("peer connection", marks.after("peer", invite)),
        ("200 OK out", marks.after("ok-out", invite)), ("1006 rings", called.stamped.invited[rung]),
    ])  # fmt: skip
    hang_up(page, wrap=False)


def incoming_once(page: Page, caller: Customer, figures: Figures, notice: str) -> None:
    pressed = caller.call_and_press_two()
    page.get_by_test_id("phone-incoming").wait_for()
    page.wait_for_timeout(500)  # the agent sees who calls, then answers
    page.get_by_test_id("phone-answer").click()
    expect(page.get_by_test_id("phone-mode")).to_have_text("通话中")
    deadline = time.monotonic() + 30
    while True:  # the agent's voice at the caller's, and the caller's sound in the page
        marks = Marks(page)
        clicked = marks.last("click:phone-answer")
        voice = caller.heard_agent(clicked)
        if (voice and marks.after("sound-in", clicked)) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    invite = marks.after("invite-in", pressed)
    banner = marks.after("banner", invite)
    figures.steps(RING_IN, [
        ("keypress", pressed), ("INVITE in the page", invite), ("banner in the DOM", banner),
        ("banner drawn", marks.after("banner-drawn", invite)),
    ])  # fmt: skip
    ok = marks.after("ok-out", clicked)
    figures.steps(f"{AUDIO}, {notice}, browser", [
        ("click", clicked), ("peer connection", marks.after("peer", clicked)), ("200 OK out", ok),
        ("connected", marks.after("connected", ok)), ("first packet", marks.after("rtp-in", clicked)),
    ])  # fmt: skip
    figures.add(f"{AUDIO}, {notice}, browser: click → first sound", clicked, marks.after("sound-in", clicked))
    figures.add(f"{AUDIO}, {notice}, caller: click → first packet of the agent", clicked, voice)
    hang_up(page, wrap=True)
    caller.hang_up()


def without_notice(url: str) -> None:
    """Publish the hotel flow with no recording notice before the agent (as a supervisor would)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post(
            "/api/auth/login", json={"username": "supervisor", "password": "hotline-demo"}
        ).raise_for_status()
        flow = http.get("/api/routing/flows/hotel/shipped").json()
        del flow["nodes"]["to_agent"]["announce"]
        http.put(
            "/api/routing/flows/hotel/draft", json={"definition": flow, "note": "benchmark: no notice"}
        ).raise_for_status()
        http.post("/api/routing/flows/hotel/publish").raise_for_status()
    time.sleep(1)  # the voice node reloads it on FlowPublished


def one_run(calls: int) -> tuple[Figures, int]:
    """A fresh server and browser, `calls` calls of each kind; the server's event-loop stalls."""
    figures = Figures()
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-phone-"))
    log = folder / "server.log"
    process, url, env = start_server(folder, {"HOTLINE_DESK_GRACE_SECONDS": "300"}, log=log)
    sip_port = int(env["HOTLINE_SIP_PORT"])
    try:
        with sync_playwright() as playwright, chromium(playwright) as browser:
            called, caller = Called(sip_port), Customer(sip_port)
            try:
                with desktop(browser, url) as page:
                    for _ in range(calls):
                        dial_once(page, called, figures)
                    for _ in range(calls):
                        incoming_once(page, caller, figures, "with the notice")
                    without_notice(url)
                    for _ in range(calls):
                        incoming_once(page, caller, figures, "no notice")
            finally:
                called.close()
                caller.close()
    finally:
        stop_server(process)
    return figures, log.read_text().count("event loop was blocked")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def main(runs: int, calls: int) -> None:
    expect.set_options(timeout=30_000)
    results: list[Figures] = []
    for n in range(runs):
        load = os.getloadavg()[0]
        figures, stalls = one_run(calls)
        results.append(figures)
        print(f"run {n + 1}: load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; "
              f"the server's event loop late by ≥ 100 ms {stalls} times")  # fmt: skip
    print(f"\n{runs} runs × {calls} calls of each kind: median, p95 (nearest rank), max over all calls")
    for name in dict.fromkeys(name for r in results for name in r.values):
        values = [v for r in results for v in r.values.get(name, [])]
        medians = "/".join(f"{statistics.median(r.values[name]):.0f}" for r in results if name in r.values)
        floor = next((f for measure, f in FLOORS.items() if name.startswith(measure)), None)
        versus = f"; p95 = {p95(values) / floor:.2f}× the floor" if floor and "   " not in name else ""
        print(f"  {name}: {statistics.median(values):.0f} / {p95(values):.0f} / {max(values):.0f} ms, "
              f"{len(values)} calls (run medians {medians}){versus}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=7, help="calls of each kind in a run")
    args = parser.parse_args()
    main(args.runs, args.calls)
