"""The recordings library in a browser: the qa login finds 张伟's calls under 质检 → 录音库, plays one
from a moment it typed and opens the link to a moment it copied; an agent has no library; a
supervisor downloads the WAV; a recorded call plays from the call list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

PLAYING_PAST = "([audio, at]) => audio.currentTime > at"


def field(page: Page, testid: str) -> Locator:
    """The input of an Element Plus input (the test id may sit on it or around it)."""
    return page.locator(f"input[data-testid='{testid}'], [data-testid='{testid}'] input").first


def open_library(page: Page, username: str) -> None:
    sign_in(page, username)
    expect(page.get_by_test_id("menu-group-quality")).to_contain_text("质检")
    page.get_by_test_id("nav-recordings").click()
    expect(page.get_by_test_id("recordings-table").locator("tbody tr").first).to_be_visible()


def open_first(page: Page) -> None:
    page.get_by_test_id("recordings-table").locator("tbody tr").first.click()
    expect(page.get_by_test_id("player")).to_have_attribute("data-state", "ready")


def test_qa_finds_zhang_weis_call_and_plays_it_from_a_moment_and_from_a_link(page: Page) -> None:
    open_library(page, "qa")
    field(page, "recordings-number").fill("13800138000")
    page.get_by_test_id("recordings-go").click()
    numbers = page.get_by_test_id("recordings-table").get_by_test_id("recording-number")
    # the demo's five calls (two of them under review) and a voicemail from his phone, and any call
    # other browser tests made from his phone since
    rows = page.get_by_test_id("recordings-table").locator("tbody tr")
    expect(rows.filter(has_not_text=re.compile(r"138\*+8000"))).to_have_count(0)  # the search answered
    expect(numbers.nth(5)).to_be_visible()
    for number in numbers.all():
        expect(number).to_have_text(re.compile(r"^138\*+8000$"))  # qa sees numbers masked
    expect(page.get_by_test_id("recordings-table")).to_contain_text("张伟")

    page.get_by_test_id("recordings-table").locator("tbody tr", has_text="预订成功").first.click()
    player = page.get_by_test_id("player")
    expect(player).to_have_attribute("data-state", "ready")
    expect(player).to_contain_text("客户")
    expect(player).to_contain_text("坐席")
    expect(page.get_by_test_id("player-download")).to_have_count(0)  # qa listens, may not download

    field(page, "player-jump").fill("0:40")
    page.get_by_test_id("player-jump-go").click()
    expect(page.get_by_test_id("player-time")).to_contain_text("0:40 /")
    page.get_by_test_id("player-play").click()
    audio = page.get_by_test_id("player-audio").element_handle()
    page.wait_for_function(PLAYING_PAST, arg=[audio, 41.0], timeout=10_000)
    page.keyboard.press("Space")  # pauses
    page.wait_for_function("audio => audio.paused", arg=audio)

    field(page, "player-jump").fill("52")
    page.get_by_test_id("player-jump-go").click()
    page.get_by_test_id("player-link").click()
    link = field(page, "player-link-text").input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/recordings\?id=\d+&t=52", link), link

    page.goto(link)
    expect(page.get_by_test_id("player")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("player-time")).to_contain_text("0:52 /")
    page.get_by_test_id("player-play").click()
    audio = page.get_by_test_id("player-audio").element_handle()
    page.wait_for_function(PLAYING_PAST, arg=[audio, 53.0], timeout=10_000)


def test_an_agent_has_no_recordings_library(page: Page) -> None:
    sign_in(page, "agent1")
    expect(page.get_by_test_id("nav-calls")).to_be_visible()
    expect(page.get_by_test_id("menu-group-quality")).to_contain_text("质检")  # only 我的质检 in it
    expect(page.get_by_test_id("nav-recordings")).to_have_count(0)
    page.goto("/recordings")
    expect(page).to_have_url(re.compile(r"/forbidden"))


def test_a_supervisor_downloads_the_wav(page: Page, tmp_path: Path) -> None:
    open_library(page, "supervisor")
    open_first(page)
    with page.expect_download() as started:
        page.get_by_test_id("player-download").click()
    download = started.value
    assert download.suggested_filename.endswith(".wav")
    assert "13800138000" not in download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    head = saved.read_bytes()[:12]
    assert head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def test_a_recorded_call_plays_from_the_call_list(page: Page) -> None:
    sign_in(page, "supervisor")
    page.get_by_test_id("nav-calls").click()
    recorded = (
        page.get_by_test_id("calls-table").locator("tbody tr", has=page.locator("[title=已录音]")).first
    )
    recorded.click()
    expect(page.get_by_test_id("call-recordings").get_by_test_id("player")).to_have_attribute(
        "data-state", "ready"
    )


@pytest.mark.parametrize("username", ["supervisor", "agent1"])  # agent1: no library, but may read the ticket
def test_a_voicemail_ticket_plays_the_message_instead_of_showing_a_file(page: Page, username: str) -> None:
    sign_in(page, username)
    page.get_by_test_id("nav-tickets").click()
    page.get_by_test_id("ticket-tab-all").click()
    # the demo recordings' voicemail (not the demo tickets' made-up ones): its title names the caller
    rows = page.get_by_test_id("tickets-table").locator(
        "tbody tr", has_text=re.compile(r"语音留言回电 1\d{2}\*{4}\d{4}")
    )
    for _ in range(12):  # a voicemail becomes a ticket by the job that runs every minute
        field(page, "ticket-q").fill("语音留言")
        page.get_by_test_id("ticket-search").click()
        page.wait_for_load_state("networkidle")
        if rows.count():
            break
        page.wait_for_timeout(10_000)
    rows.first.click()
    player = page.get_by_test_id("call-recordings").get_by_test_id("player")
    expect(player).to_have_attribute("data-state", "ready")
    expect(player).to_contain_text("留言")
    expect(page.get_by_test_id("ticket-page")).not_to_contain_text(".wav")


REGIONS = """() => [...document.querySelector('[data-testid=player] .hl-player-wave > div').shadowRoot
    .querySelectorAll('[part~=region]')].length"""


def test_the_silences_the_checks_found_are_drawn_on_the_waveform(page: Page) -> None:
    open_library(page, "qa")
    checked = page.get_by_test_id("recordings-table").locator("tbody tr", has_text="静音 1 次 · 抢话 0 次")
    for _ in range(12):  # the demo calls are checked by a worker after indexing
        if checked.count():
            break
        page.wait_for_timeout(10_000)
        page.get_by_test_id("recordings-go").click()
        page.wait_for_load_state("networkidle")
    checked.first.click()
    expect(page.get_by_test_id("player")).to_have_attribute("data-state", "ready")
    # one silence found (a demo call's hold, or a browser test's call where nobody spoke), no overtalk
    expect(page.get_by_test_id("recording-facts")).to_contain_text("静音1 次")
    expect(page.get_by_test_id("recording-facts")).to_contain_text("抢话0 次")
    page.wait_for_function(f"({REGIONS})() === 1")
