"""The reservation's and the group block's lifecycles (hotels/state.py): the table is the only
way a state changes, the API sends the actions open now, and the extra rules hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.context import Actor, Context
from hotline.core.errors import HotlineError, InvalidTransition
from hotline.core.permissions import Permission
from hotline.hotels import state
from tests.conftest import Users
from tests.hotels.test_reservations import ids, stay

AGENT = Actor(3, "agent1", frozenset({"agent"}), frozenset({Permission.BOOKINGS_WRITE}))
JOB = Actor.system("jobs")
TODAY = date(2026, 12, 5)
NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
ACTORS = st.sampled_from([AGENT, JOB])
ACTIONS = st.sampled_from([*state.RESERVATION.actions, "fly"])


def take(status: str, action: str, actor: Actor, *, arrival: date = TODAY, held: datetime = NOW) -> str:
    if action == "modify":
        return state.modify_step(status, actor).after
    return state.step(status, action, actor, today=TODAY, arrival=arrival, now=NOW, hold_until=held).after


@given(
    st.booleans(),
    st.booleans(),
    st.lists(st.tuples(ACTIONS, ACTORS), max_size=15),
)
def test_every_sequence_of_steps_stays_in_the_table(
    has_rooms: bool, confirm: bool, moves: list[tuple[str, Actor]]
) -> None:
    status = state.initial(has_rooms=has_rooms, confirm=confirm)
    for action, actor in moves:
        allowed = state.RESERVATION.allowed(status, state.who(actor))
        try:
            after = take(status, action, actor)
        except HotlineError:
            assert action not in allowed
            continue
        assert action in allowed
        assert after in state.RESERVATION.reachable(status) | {status}
        if status == "conflict" and after != "conflict":
            assert after in ("confirmed", "cancelled")  # a conflict is resolved or cancelled, never more
        status = after
    assert status in state.STATES


def test_the_extra_rules_check_in_on_arrival_and_no_show_only_after_the_hold() -> None:
    with pytest.raises(InvalidTransition, match="on or after the arrival date"):
        take("confirmed", "check_in", AGENT, arrival=TODAY + timedelta(days=1))
    with pytest.raises(InvalidTransition, match="still held"):
        take("confirmed", "no_show", AGENT, held=NOW + timedelta(hours=1))
    assert take("conflict", "modify", AGENT) == "confirmed"  # rooms found: the conflict is resolved
    assert take("tentative", "modify", AGENT) == "tentative"
    assert "mark_late" not in state.RESERVATION.allowed("confirmed", state.who(AGENT))  # the sweep's
    assert "late_outcome" not in state.RESERVATION.allowed("confirmed", state.who(JOB))  # a person's


def test_a_group_is_released_by_the_job_and_cancelled_by_people() -> None:
    assert state.GROUP.allowed("held", state.who(AGENT)) == ["rooming", "cancel"]
    assert state.GROUP.apply("held", "release", state.who(JOB)).after == "released"
    assert state.GROUP.allowed("cancelled", state.who(AGENT)) == []


async def test_the_api_sends_the_actions_open_now_for_the_reader(seeded: Context, users: Users) -> None:
    agent, finance = await users("agent1"), await users("finance")
    booking = {
        **await ids(seeded),
        **stay(0, 1),
        "guest_name": "陈晨",
        "guest_phone": "13600001111",
        "rooms": 1,
        "guests": 1,
        "confirm": False,
    }
    made = (await agent.post("/api/reservations", json=booking)).json()
    assert made["status"] == "tentative" and made["actions"] == ["confirm", "cancel", "modify"]
    url = f"/api/reservations/{made['id']}"
    confirmed = (await agent.post(f"{url}/transition", json={"action": "confirm"})).json()
    assert confirmed["actions"] == ["check_in", "no_show", "cancel", "modify", "late_outcome"]
    assert (await finance.get(url)).json()["reservation"]["actions"] == []  # may read, may not change
    checked_in = (await agent.post(f"{url}/transition", json={"action": "check_in"})).json()
    assert checked_in["actions"] == ["check_out"]
    detail = (await agent.get(url)).json()
    assert [(c["action"], c["before"], c["after"]) for c in detail["changes"]] == [
        ("book", "", "tentative"),
        ("confirm", "tentative", "confirmed"),
        ("check_in", "confirmed", "checked_in"),
    ]
