"""IVR flows: the shipped flows are valid, bad flows are refused node by node, and the hotel flow
of seed 000 runs end to end on the simulated driver (virtual time)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.contact.calls.direct import Agent, RingGroups
from hotline.contact.ivr.flow import Flow, Speech, load_shipped, parse
from hotline.contact.ivr.interpreter import FlowServices, PacedSilence, render, run_flow, spoken
from hotline.voice.control import EndReason, Leg
from hotline.voice.simulated import SimPhone, SimulatedVoice, run_virtual


class Transcript(PacedSilence):
    """Keeps what the caller was told."""

    def __init__(self) -> None:
        self.said: list[str] = []

    async def audio(self, speech: Speech, variables: Mapping[str, Any]) -> bytes:
        self.said.append(render(speech.text or "", variables))
        return await super().audio(speech, variables)


def test_the_shipped_flows_are_valid() -> None:
    hotel, travel = load_shipped("hotel"), load_shipped("travel")
    assert hotel.nodes["welcome"].say.text == "您好，欢迎致电英冠酒店集团，查询订单请按1，人工服务请按2。"  # type: ignore[union-attr]
    assert "{agent.work_number}号服务员" in (hotel.nodes["to_agent"].announce.text or "")  # type: ignore[union-attr]
    assert set(travel.nodes["main"].options) == {"1", "2", "3", "4", "5", "6", "7", "9", "0"}  # type: ignore[union-attr]
    assert travel.nodes["main"].options["7"] == "ask_member"  # type: ignore[union-attr]  # the order enquiry


def test_a_bad_flow_gets_every_problem_at_its_node() -> None:
    flow, problems = parse(
        {
            "name": "broken",
            "start": "hello",
            "nodes": {
                "hello": {
                    "type": "menu",
                    "say": {"text": "按1"},
                    "options": {"1": "nowhere"},
                    "on_fail": "bye",
                },
                "bye": {"type": "hangup"},
                "lonely": {"type": "play", "say": {"text": "{bad name}"}, "next": "bye"},
                "oops": {"type": "teleport"},
            },
        }
    )
    assert flow is None and [p.node for p in problems] == ["oops"]  # the unknown type first
    flow, problems = parse(
        {
            "name": "broken",
            "start": "hello",
            "nodes": {
                "hello": {
                    "type": "menu",
                    "say": {"text": "按1"},
                    "options": {"1": "nowhere"},
                    "on_fail": "bye",
                },
                "bye": {"type": "hangup"},
                "lonely": {"type": "play", "say": {"text": "{bad name}"}, "next": "bye"},
                "look": {
                    "type": "lookup",
                    "function": "no.such",
                    "result": "x",
                    "next": "bye",
                    "on_empty": "bye",
                },
            },
        },
        functions=frozenset({"orders.latest_for_member"}),
    )
    found = {(p.node, p.field) for p in problems}
    assert ("hello", "options.1") in found  # goes to a node that does not exist
    assert ("lonely", "say") in found and ("lonely", None) in found  # bad template, unreachable
    assert ("look", "function") in found


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=20,
    )
)
def test_the_flow_parser_never_raises(data: object) -> None:
    flow, problems = parse(data)
    assert flow is not None or problems


def test_values_are_read_out_the_chinese_way() -> None:
    assert spoken("8800123", "digits") == "八八零零一二三"
    assert spoken("268.50", "money") == "268元5角"
    assert spoken(date(2026, 12, 24)) == "2026年12月24日"
    assert render(
        "会员{member_number|digits}，{order.status}", {"member_number": "12", "order": {"status": "已确认"}}
    ) == ("会员一二，已确认")


MEMBERS = {"8800123": "13800138000"}
"""The member numbers the fake lookups know, each with the member's own phone."""


async def member(variables: Mapping[str, Any]) -> dict[str, str] | None:
    """`crm.member` in these tests."""
    return (
        {"member_number": variables["member_number"]} if variables.get("member_number") in MEMBERS else None
    )


async def verify_caller(variables: Mapping[str, Any]) -> dict[str, str] | None:
    """`orders.verify_caller` / `travel.verify_caller` in these tests: the member's own phone, or
    8000 keyed (the real rule, with the database, is tested in tests/crm/test_verification.py)."""
    if MEMBERS.get(variables.get("member_number", "")) == variables.get("caller"):
        return {"by": "number"}
    return {"by": "second-factor"} if variables.get("verify_digits") == "8000" else None


def identity_lookups(**more: Any) -> dict[str, Any]:
    checks = {
        "crm.member": member,
        "orders.verify_caller": verify_caller,
        "travel.verify_caller": verify_caller,
    }
    return checks | more


def test_the_hotel_flow_reads_the_order_then_reaches_agent_003_who_is_announced() -> None:
    async def latest_order(variables: Mapping[str, Any]) -> dict[str, str] | None:
        if variables.get("member_number") == "8800123":
            return {"hotel": "英冠酒店上海外滩店", "arrival": "2026年12月24日", "status": "已确认"}
        return None

    transcript = Transcript()
    voice: SimulatedVoice

    async def application(leg: Leg) -> None:
        services = FlowServices(
            voice=transcript,
            transfers=RingGroups(voice, transcript, {"hotel": [Agent("1001", "001"), Agent("1003", "003")]}),
            lookups=identity_lookups(**{"orders.latest_for_member": latest_order}),
        )
        await run_flow(load_shipped("hotel"), leg, services)

    voice = SimulatedVoice(application, phones={"1003": SimPhone(answer_after=3)})  # 1001 is not logged in

    async def scenario() -> Leg:
        caller = voice.call_in("13800138000", "4008001000", entry="hotel", keys="18800123#2", talks_for=60)
        await caller.ended.wait()
        await asyncio.sleep(1)
        return caller

    caller = run_virtual(scenario())
    run = caller.variables["flow_run"]
    assert run.path == [
        "welcome", "ask_member", "check_member", "check_caller", "find_order", "read_order", "after_enquiry",
        "to_agent",
    ]  # fmt: skip
    assert "您最近的订单，英冠酒店上海外滩店，入住日期2026年12月24日，订单状态：已确认。" in transcript.said
    assert transcript.said[-1].endswith("下面由003号服务员为您服务。")
    assert voice.phones["1003"].rung == 1  # 1001 is not logged in: skipped
    assert caller.cdr.bridged_at is not None and caller.cdr.end_reason is EndReason.CALLER_HUNG_UP


def test_a_verified_member_without_a_booking_hears_so_and_nobody_free_means_a_voicemail_offer() -> None:
    transcript = Transcript()

    async def application(leg: Leg) -> None:
        services = FlowServices(
            voice=transcript,
            transfers=RingGroups(voice, transcript, {"hotel": [Agent("1001", "001")]}),
            lookups=identity_lookups(
                **{"orders.latest_for_member": lambda variables: asyncio.sleep(0, result=None)}
            ),
        )
        await run_flow(load_shipped("hotel"), leg, services)

    voice = SimulatedVoice(application, phones={"1001": SimPhone(busy=True)})

    async def scenario() -> Leg:
        caller = voice.call_in("13800138000", "4008001000", keys="18800123#2")
        await caller.ended.wait()
        return caller

    caller = run_virtual(scenario())
    run = caller.variables["flow_run"]
    expected = [
        "welcome",
        "ask_member",
        "check_member",
        "check_caller",
        "find_order",
        "no_order",
        "after_enquiry",
    ]
    assert run.path == [*expected, "to_agent", "all_busy", "goodbye"]
    assert "会员号码八八零零一二三没有查到订单。" in transcript.said


def test_the_travel_line_reads_an_order_to_another_phone_only_after_the_second_factor() -> None:
    """7 on the travel line: from a number that is not the member's, the order is read once the
    last four digits are right; wrong ones go to an agent, logged for the audit trail."""
    logged: list[tuple[str, str, bool]] = []

    async def latest_order(variables: Mapping[str, Any]) -> dict[str, str] | None:
        return {"route": "三亚五日游", "departs_on": "2027年02月06日", "status": "财务已审核"}

    def call(keys: str) -> tuple[list[str], list[str]]:
        transcript = Transcript()

        async def application(leg: Leg) -> None:
            services = FlowServices(
                voice=transcript, transfers=RingGroups(voice, transcript, {"travel": [Agent("1004", "004")]}),
                lookups=identity_lookups(**{"travel.latest_order": latest_order}),
                logged=lambda leg, event, detail, audit: logged.append((event, detail, audit)),
            )  # fmt: skip
            await run_flow(load_shipped("travel"), leg, services)

        voice = SimulatedVoice(application, phones={"1004": SimPhone(answer_after=2)})

        async def scenario() -> Leg:
            caller = voice.call_in("13911112222", "4008002000", entry="travel", keys=keys, talks_for=10)
            await caller.ended.wait()
            return caller

        return run_virtual(scenario()).variables["flow_run"].path, transcript.said

    path, said = call("78800123#8000")
    verified = ["check_caller", "ask_digits", "check_digits", "find_order", "read_order"]
    assert path[path.index("check_caller") :][:5] == verified
    assert "您最近的订单，三亚五日游，出发日期2027年02月06日，目前财务已审核。" in said and not logged
    path, said = call("78800123#1234")
    assert "read_order" not in path and path[-3:] == ["log_not_verified", "not_verified", "to_agent"]
    assert logged == [("second_factor_failed", "会员号码8800123的验证号码输入错误", True)]
    assert not any("三亚" in line for line in said)


def test_a_route_chosen_on_the_travel_line_is_read_from_the_catalogue_and_counted_as_an_enquiry() -> None:
    """1 then 2 on the travel line: the route's code is set, `travel.route` finds it, the caller
    hears its days, price and next departure, and the enquiry is reported for route:YN6 once; a
    node's own `about` counts too, and a lookup's malformed `about` is not passed on."""
    asked: list[tuple[str, str]] = []
    seen: list[str] = []

    async def route(variables: Mapping[str, Any]) -> dict[str, Any] | None:
        seen.append(str(variables.get("route_code")))
        return {"about": f"route:{variables['route_code']}", "name": "云南昆明大理丽江六日游", "days": "6",
                "price": Decimal("4280"), "departs_on": "2027年01月05日"}  # fmt: skip

    async def odd(variables: Mapping[str, Any]) -> dict[str, str]:
        return {"about": "route:../x"}

    def call(flow: Flow, keys: str) -> list[str]:
        transcript = Transcript()

        async def application(leg: Leg) -> None:
            services = FlowServices(
                voice=transcript, transfers=RingGroups(voice, transcript, {}),
                lookups={"travel.route": route, "odd.lookup": odd},
                asked=lambda leg_id, about: asked.append((leg_id, about)),
            )  # fmt: skip
            await run_flow(flow, leg, services)

        voice = SimulatedVoice(application)

        async def scenario() -> None:
            caller = voice.call_in("13911112222", "4008002000", entry="travel", keys=keys, talks_for=10)
            await caller.ended.wait()

        run_virtual(scenario())
        return transcript.said

    said = call(load_shipped("travel"), "12")
    assert seen == ["YN6"] and [about for _, about in asked] == ["route:YN6"]
    assert "云南昆明大理丽江六日游，行程6天，成人4280元起，最近一期出发日期2027年01月05日。" in said[2]
    asked.clear()
    flow, problems = parse(
        {
            "name": "tagged",
            "start": "info",
            "nodes": {
                "info": {"type": "play", "about": "hotel:SH-BUND", "say": {"text": "外滩店"}, "next": "odd"},
                "odd": {
                    "type": "lookup",
                    "function": "odd.lookup",
                    "result": "x",
                    "next": "bye",
                    "on_empty": "bye",
                },
                "bye": {"type": "hangup"},
            },
        }
    )
    assert flow is not None and not problems
    call(flow, "")
    assert [about for _, about in asked] == ["hotel:SH-BUND"]
    _, problems = parse({"name": "bad", "start": "a", "nodes": {"a": {"type": "hangup", "about": "room:1"}}})
    assert [(p.node, p.field) for p in problems] == [("a", "about")]


def test_three_wrong_member_numbers_go_to_an_agent_with_the_numbers_logged() -> None:
    logged: list[tuple[str, str, bool]] = []
    transcript = Transcript()

    async def application(leg: Leg) -> None:
        services = FlowServices(
            voice=transcript, transfers=RingGroups(voice, transcript, {"hotel": [Agent("1001", "001")]}),
            lookups=identity_lookups(),
            logged=lambda leg, event, detail, audit: logged.append((event, detail, audit)),
        )  # fmt: skip
        await run_flow(load_shipped("hotel"), leg, services)

    voice = SimulatedVoice(application, phones={"1001": SimPhone(answer_after=2)})

    async def scenario() -> Leg:
        caller = voice.call_in("13911112222", "4008001000", keys="188000002#88000003#88000004#", talks_for=10)
        await caller.ended.wait()
        return caller

    run = run_virtual(scenario()).variables["flow_run"]
    assert run.path.count("wrong_member") == 2 and run.variables["wrong_members"] == 3
    assert run.path[-3:] == ["log_wrong_members", "members_refused", "to_agent"]
    assert logged == [
        ("member_number_failed", "一次来电中3次输入错误的会员号码： 88000002 88000003 88000004", True)
    ]


def test_a_flow_may_not_overwrite_the_calling_number() -> None:
    """The identity check trusts `caller`: no node may write it (nor `number`)."""
    _, problems = parse(
        {
            "name": "spoof",
            "start": "fake",
            "nodes": {
                "fake": {"type": "set", "variable": "caller", "value": "13800138000", "next": "count"},
                "count": {
                    "type": "count",
                    "variable": "number",
                    "limit": 2,
                    "next": "bye",
                    "on_limit": "bye",
                },
                "bye": {"type": "hangup"},
            },
        }
    )
    assert {(p.node, p.field) for p in problems} == {("fake", "variable"), ("count", "variable")}


def test_when_the_agent_hangs_up_first_the_caller_rates_the_call() -> None:
    """T8: the agent ends the call; the caller stays, hears the survey, presses 4, and the score
    is handed over with the agent who took the call."""
    transcript = Transcript()
    voice: SimulatedVoice
    scores: list[tuple[int | None, str]] = []

    async def application(leg: Leg) -> None:
        services = FlowServices(
            voice=transcript,
            transfers=RingGroups(voice, transcript, {"hotel": [Agent("1003", "003")]}),
            surveyed=lambda leg_id, score, variables: scores.append(
                (score, variables["agent"]["work_number"])
            ),
        )
        await run_flow(load_shipped("hotel"), leg, services)

    voice = SimulatedVoice(application, phones={"1003": SimPhone(answer_after=2, hangs_up_after=40)})

    async def scenario() -> Leg:
        caller = voice.call_in("13800138000", "4008001000", entry="hotel", keys="24", key_gap=1)
        await caller.ended.wait()
        return caller

    caller = run_virtual(scenario())
    assert caller.variables["flow_run"].path == ["welcome", "to_agent", "survey", "thanks"]
    assert scores == [(4, "003")]
    assert transcript.said[-1] == "感谢您的评价，再见。"


def test_a_voicemail_is_recorded_until_the_caller_presses_hash_and_handed_over(tmp_path: Path) -> None:
    """Nobody free: the caller leaves a message, ends it with #, and hears goodbye; the message
    (its file and length) is handed over for the callback task and, later, the ticket."""
    transcript = Transcript()
    messages: list[tuple[str, Path, float]] = []

    async def application(leg: Leg) -> None:
        services = FlowServices(
            voice=transcript,
            transfers=RingGroups(voice, transcript, {"hotel": [Agent("1001", "001")]}),
            record_to=tmp_path,
            voicemail=lambda leg, path, seconds: messages.append((leg.caller, path, seconds)),
        )
        await run_flow(load_shipped("hotel"), leg, services)

    voice = SimulatedVoice(application, phones={"1001": SimPhone(busy=True)})

    async def scenario() -> tuple[Leg, float]:
        caller = voice.call_in("13800138000", "4008001000", keys="2")
        await asyncio.sleep(25)  # the offer of a message, then speaking
        started = asyncio.get_running_loop().time()
        caller.key("#")
        await caller.ended.wait()
        return caller, started

    caller, _ = run_virtual(scenario())
    assert caller.variables["flow_run"].path == ["welcome", "to_agent", "all_busy", "goodbye"]
    ((who, path, seconds),) = messages
    assert (who, path) == ("13800138000", tmp_path / caller.id / "voicemail.wav")
    assert 5 < seconds < 25
    assert caller.variables["flow_run"].variables["voicemail"] == str(path)
    assert transcript.said[-1] == "谢谢您的来电，再见。"
