"""The order enquiries read a booking only to a verified caller (issue 17 item 7, seed 004), with
real calls: SIPp dials the demo numbers through the demo trunk and keys digits (SIP INFO), on the
demo data (张伟, 13800138000, member 88000001, booking phone …8000, ID number …1235)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.api.app import create_app, system_context
from hotline.contact.calls.records import recent_calls
from hotline.contact.models import ContactEvent
from hotline.contact.node import CallRouter
from hotline.core.audit import AuditEntry
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.voice.sip.server import SipServer
from tests.conftest import free_port, make_settings
from tests.interop.keyed import keyed_call

pytestmark = pytest.mark.skipif(
    shutil.which("sipp") is None, reason="needs sipp (make test installs sip-tester)"
)


async def dial(server: SipServer, number: str, caller: str, keys: str, tmp_path: Path) -> int:
    scenario = tmp_path / f"{caller}-{number}-{keys.replace('#', 'h').replace('*', 's')}.xml"
    scenario.write_text(keyed_call(caller, keys, listen_ms=12_000), encoding="iso-8859-1")
    process = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{server.port}", "-sf", str(scenario), "-s", number, "-m", "1",
        "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()), "-nostdin",
        "-timeout", "40s", "-timeout_error", cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(process.wait(), 60)


@pytest.fixture
async def hotline(
    seeded: Context, settings: Settings
) -> AsyncIterator[tuple[SipServer, CallRouter, Context]]:
    """`hotline serve` with the voice role on the demo data (what `make run` starts)."""
    app = create_app(make_settings(settings.database_url, roles=["api", "voice"], sip_port=free_port()))
    async with app.router.lifespan_context(app):
        state = app.state.hotline
        yield state.sip, state.router, system_context(state)


async def paths(ctx: Context, router: CallRouter) -> dict[str, list[str]]:
    """Each recent call's IVR path, by the calling number and the number dialled."""
    return {f"{c.caller}>{c.number}": [step.node for step in c.path] for c in await recent_calls(ctx, router)}


async def test_a_member_calling_from_his_own_number_hears_his_booking_on_both_lines(
    hotline: tuple[SipServer, CallRouter, Context], tmp_path: Path
) -> None:
    """张伟 calls from 13800138000, one of his numbers: verified without a second question, on the
    hotel line (1) and on the travel line (7)."""
    server, router, ctx = hotline
    codes = await asyncio.gather(
        dial(server, "4008001000", "13800138000", "188000001#", tmp_path),
        dial(server, "4008002000", "13800138000", "788000001#", tmp_path),
    )
    assert codes == [0, 0]
    found = await paths(ctx, router)
    hotel, travel = found["13800138000>4008001000"], found["13800138000>4008002000"]
    for path in (hotel, travel):
        assert path[path.index("check_caller") + 1 :][:2] == ["find_order", "read_order"], path
        assert "ask_digits" not in path


async def test_a_caller_from_another_number_is_asked_for_a_second_factor(
    hotline: tuple[SipServer, CallRouter, Context], tmp_path: Path
) -> None:
    """From a number that is not 张伟's: the last four digits of his booking phone let the caller
    hear the booking; four wrong digits send the call to an agent, logged and audited."""
    server, router, ctx = hotline
    codes = await asyncio.gather(
        dial(server, "4008001000", "13655550123", "188000001#8000", tmp_path),
        dial(server, "4008001000", "13655550124", "188000001#1111", tmp_path),
    )
    assert codes == [0, 0]
    found = await paths(ctx, router)
    right, wrong = found["13655550123>4008001000"], found["13655550124>4008001000"]
    assert right[right.index("check_caller") :][:5] == [
        "check_caller", "ask_digits", "check_digits", "find_order", "read_order"
    ]  # fmt: skip
    assert wrong[wrong.index("check_digits") :][:4] == [
        "check_digits", "log_not_verified", "not_verified", "to_agent"
    ]  # fmt: skip
    assert "read_order" not in wrong
    async with ctx.read() as session:
        logged = (
            await session.scalars(select(ContactEvent).where(ContactEvent.kind == "second_factor_failed"))
        ).all()
        audited = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "ivr.second_factor_failed")
                .order_by(AuditEntry.seq)
            )
        ).all()
    assert [e.detail for e in logged] == ["会员号码88000001的验证号码输入错误"]
    assert len(audited) == 1 and audited[0].after is not None
    assert audited[0].after["caller"] == "13655550124" and audited[0].entity_id == logged[0].call_id


async def test_three_wrong_member_numbers_in_one_call_go_to_an_agent_and_are_logged(
    hotline: tuple[SipServer, CallRouter, Context], tmp_path: Path
) -> None:
    """Member numbers are handed out in order, so a caller trying numbers is stopped at the third
    wrong one: to an agent, with the numbers tried in the call's log and the audit trail."""
    server, router, ctx = hotline
    code = await dial(server, "4008001000", "13655550125", "188999991#88999992#88999993#", tmp_path)
    assert code == 0
    path = (await paths(ctx, router))["13655550125>4008001000"]
    assert path.count("wrong_member") == 2 and path.count("check_member") == 3
    assert path[-3:] == ["log_wrong_members", "members_refused", "to_agent"]
    async with ctx.read() as session:
        logged = (
            await session.scalars(select(ContactEvent).where(ContactEvent.kind == "member_number_failed"))
        ).all()
        audited = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "ivr.member_number_failed")
                .order_by(AuditEntry.seq)
            )
        ).all()
    assert len(logged) == 1 and "88999991 88999992 88999993" in logged[0].detail
    assert logged[0].detail.startswith("一次来电中3次输入错误的会员号码")
    assert len(audited) == 1 and audited[0].after is not None and audited[0].after["flow"] == "hotel"


async def test_a_route_asked_about_on_the_travel_line_is_read_and_logged_as_an_enquiry(
    hotline: tuple[SipServer, CallRouter, Context], tmp_path: Path
) -> None:
    """1 then 2 on the travel line, over SIP: the Yunnan route is read from the catalogue and the
    call's log holds the enquiry the IVR report counts; 张伟's order enquiry counts for his hotel."""
    server, router, ctx = hotline
    codes = await asyncio.gather(
        dial(server, "4008002000", "13655550126", "12", tmp_path),
        dial(server, "4008001000", "13800138000", "188000001#", tmp_path),
    )
    assert codes == [0, 0]
    found = await paths(ctx, router)
    route = found["13655550126>4008002000"]
    assert route[route.index("routes") :][:4] == ["routes", "route_yn6", "find_route", "read_route"], route
    async with ctx.read() as session:
        asked = set(
            (await session.scalars(select(ContactEvent.detail).where(ContactEvent.kind == "enquiry"))).all()
        )
    assert asked == {"route:YN6", "hotel:HZ-XH"}
