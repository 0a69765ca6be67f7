"""The desktop survives a reload and a new sign-in mid-call (issue 17): SIPp calls the hotel line
as 张伟, baresip is agent 003's phone and answers, and the pop, the script stage and the wrap-up
the queue requires come back from the server within 2 s — not from events the page happened to
hear. The wrap-up is asked for until written, and written once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_routing import agent3_phone, sipp_call, wait_for_phone
from tests.interop.test_sipp_register import SCENARIOS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("baresip") is None or shutil.which("sipp") is None, reason="make test installs them"
    ),
]

BACK_WITHIN = 2_000  # ms: the pop is back this soon after a reload or a sign-in


@contextmanager
def wrap_up_required(server: str) -> Iterator[None]:
    """The hotel queue requires a wrap-up while the block runs (set back after, for other tests)."""
    with httpx.Client(base_url=server) as supervisor:
        assert supervisor.post(
            "/api/auth/login", json={"username": "supervisor", "password": "hotline-demo"}
        ).is_success
        hotel = next(q for q in supervisor.get("/api/routing/queues").json() if q["name"] == "hotel")
        kept = {k: v for k, v in hotel.items() if k not in ("id", "name", "live")}
        assert supervisor.put("/api/routing/queues/hotel", json={**kept, "wrap_required": True}).is_success
        try:
            yield
        finally:
            supervisor.put("/api/routing/queues/hotel", json=kept)


def long_call(tmp_path: Path) -> Path:
    """张伟 presses 2 and stays on the line 30 s (time to reload and to sign in again)."""
    scenario = tmp_path / "call_long.xml"
    agent_call = (SCENARIOS / "call_agent.xml").read_text(encoding="iso-8859-1")
    scenario.write_text(agent_call.replace('<pause milliseconds="22000"/>', '<pause milliseconds="30000"/>'),
                        encoding="iso-8859-1")  # fmt: skip
    return scenario


def zhang_pops_at_the_second_stage(page: Page) -> None:
    """The pop of 张伟's call, with the agent moved on to the script's second stage."""
    pop = page.get_by_test_id("desk-pop")
    expect(pop).to_contain_text("张伟 先生", timeout=30_000)
    expect(pop).to_contain_text("138****8000")
    script = page.get_by_test_id("desk-script")
    expect(script).to_contain_text("张伟先生，请问您要预订哪里的客房呢")
    page.get_by_test_id("desk-next").click()
    expect(script).to_contain_text("请问是您本人入住还是帮朋友预订")


def the_pop_is_back(page: Page) -> None:
    pop = page.get_by_test_id("desk-pop")
    expect(pop).to_contain_text("张伟 先生", timeout=BACK_WITHIN)
    expect(pop).to_contain_text("88000001", timeout=BACK_WITHIN)
    expect(pop).to_contain_text("欢迎词 → 人工服务", timeout=BACK_WITHIN)
    expect(page.get_by_test_id("desk-script")).to_contain_text(
        "请问是您本人入住还是帮朋友预订", timeout=BACK_WITHIN
    )
    expect(page.get_by_test_id("desk-wrap-required")).to_be_visible(timeout=BACK_WITHIN)


def wrap_up_once(page: Page) -> None:
    call_id = page.get_by_test_id("desk-pop").get_attribute("data-call-id")
    page.get_by_test_id("desk-wrap").get_by_text("咨询").click()
    page.get_by_test_id("desk-wrap-note").fill("问早餐时间")
    page.get_by_test_id("desk-wrap-save").click()
    expect(page.get_by_test_id("desk-wrapped")).to_be_visible()
    expect(page.get_by_test_id("agent-state-tag")).to_have_text("就绪", timeout=10_000)
    again = page.request.post(f"/api/routing/calls/{call_id}/wrap-up", data={"disposition": "other"})
    assert again.status == 409, again.text()  # once
    page.reload()  # nothing owed: the desk waits for the next call, this one a click away
    expect(page.get_by_test_id("desk-idle")).to_be_visible(timeout=BACK_WITHIN)
    earlier = page.locator(f'[data-testid="desk-earlier-call"][data-call-id="{call_id}"]')
    expect(earlier).to_contain_text("张伟 先生")
    expect(earlier).not_to_contain_text("待小结")
    earlier.click()
    expect(page.get_by_test_id("desk-wrapped")).to_be_visible()  # not asked again
    expect(page.get_by_test_id("desk-wrap")).to_have_count(0)


def test_a_reload_mid_call_brings_the_pop_back_and_the_wrap_up_is_still_asked_for(
    page: Page, server: str, sip_port: int, tmp_path: Path
) -> None:
    with agent3_phone(tmp_path, sip_port), wrap_up_required(server):
        sign_in(page, "agent3")
        page.get_by_test_id("nav-desktop").click()
        expect(page.get_by_test_id("desk-idle")).to_contain_text("等待来电", timeout=15_000)
        wait_for_phone(page)
        caller = sipp_call(tmp_path, sip_port, long_call(tmp_path))
        zhang_pops_at_the_second_stage(page)
        expect(page.get_by_test_id("phone-mode")).to_have_text("通话中", timeout=30_000)

        page.reload()  # mid-call
        the_pop_is_back(page)
        expect(page.get_by_test_id("desk-call-state")).to_have_text("通话中")
        expect(page.get_by_test_id("phone-mode")).to_have_text("通话中")

        assert caller.wait(timeout=60) == 0  # 张伟 hangs up
        expect(page.get_by_test_id("desk-call-state")).to_have_text("已挂机", timeout=10_000)
        expect(page.get_by_test_id("agent-state-tag")).to_have_text("话后整理")
        page.reload()  # after the call: the wrap-up the queue requires is still asked for
        the_pop_is_back(page)
        wrap_up_once(page)


def test_signing_out_and_in_mid_call_brings_the_pop_back_and_the_wrap_up_is_still_asked_for(
    page: Page, server: str, sip_port: int, tmp_path: Path
) -> None:
    with agent3_phone(tmp_path, sip_port), wrap_up_required(server):
        sign_in(page, "agent3")
        page.get_by_test_id("nav-desktop").click()
        expect(page.get_by_test_id("desk-idle")).to_contain_text("等待来电", timeout=15_000)
        wait_for_phone(page)
        caller = sipp_call(tmp_path, sip_port, long_call(tmp_path))
        zhang_pops_at_the_second_stage(page)
        expect(page.get_by_test_id("phone-mode")).to_have_text("通话中", timeout=30_000)

        page.get_by_test_id("user-menu").click()
        page.get_by_test_id("logout").click()
        page.get_by_test_id("login-username").wait_for()
        sign_in(page, "agent3")  # mid-call, the header says 通话中 …
        expect(page.get_by_test_id("agent-state-tag")).to_have_text("通话中")
        page.get_by_test_id("nav-desktop").click()
        the_pop_is_back(page)  # … and the desktop has the call again

        assert caller.wait(timeout=60) == 0
        page.get_by_test_id("user-menu").click()
        page.get_by_test_id("logout").click()
        page.get_by_test_id("login-username").wait_for()
        sign_in(page, "agent3")
        page.get_by_test_id("nav-desktop").click()
        the_pop_is_back(page)
        expect(page.get_by_test_id("desk-call-state")).to_have_text("已挂机")
        wrap_up_once(page)
