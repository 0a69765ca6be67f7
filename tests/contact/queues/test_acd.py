"""The ACD's decisions: sticky agent while its step lasts, then skills, priorities ahead of entry
time, each strategy, and a reason a supervisor can read."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.contact.queues.acd import Entry, FreeAgent, QueueConfig, Step, Strategy, dispatch

HOTEL = QueueConfig(
    "hotel",
    "hotel",
    steps=(Step(20, sticky=True), Step(60, min_level=3), Step(None)),
    strategy=Strategy.LONGEST_IDLE,
)


def agents() -> list[FreeAgent]:
    return [
        FreeAgent(1, "1001 (001)", {"hotel": 2}, idle_since=0),  # idle longest, junior
        FreeAgent(3, "1003 (003)", {"hotel": 4}, idle_since=50),
        FreeAgent(5, "1005 (005)", {"hotel": 3, "travel": 5}, idle_since=80),
    ]


def test_the_customers_last_agent_first_then_skill_then_anyone() -> None:
    entry = Entry("c1", "hotel", entered_at=100, customer="88", last_agent=5)
    (sticky,) = dispatch([entry], agents(), {"hotel": HOTEL}, now=105)
    assert sticky.agent_id == 5 and sticky.step == 1
    assert (
        str(sticky.reason)
        == "offered to 1005 (005): last agent of this customer, idle 25 s (step 1, 0–20 s, waited 5 s)"
    )

    busy_last = [a for a in agents() if a.agent_id != 5]  # the last agent is on another call
    assert dispatch([entry], busy_last, {"hotel": HOTEL}, now=110) == []  # the call waits for them…
    (skilled,) = dispatch([entry], busy_last, {"hotel": HOTEL}, now=125)  # …until step 1 expires
    assert skilled.agent_id == 3 and skilled.step == 2 and "skill hotel ≥ 3" in str(skilled.reason)
    (anyone,) = dispatch([entry], busy_last, {"hotel": HOTEL}, now=170)
    assert anyone.agent_id == 1 and anyone.step == 3  # longest idle of all


def test_vip_priority_goes_ahead_of_earlier_callers_and_each_agent_takes_one_call() -> None:
    anyone = QueueConfig("hotel", "hotel")
    waiting = [Entry("early", "hotel", 0), Entry("vip", "hotel", 50, priority=2), Entry("late", "hotel", 60)]
    decisions = dispatch(waiting, agents()[:2], {"hotel": anyone}, now=70)
    assert [(d.call_id, d.agent_id) for d in decisions] == [("vip", 1), ("early", 3)]


def test_each_strategy_picks_its_agent() -> None:
    entry = Entry("c", "hotel", 0)
    pick = {
        strategy: dispatch(
            [entry], agents(), {"hotel": QueueConfig("hotel", "hotel", strategy=strategy)}, 100
        )[0]
        for strategy in Strategy
    }
    assert pick[Strategy.LONGEST_IDLE].agent_id == 1
    assert pick[Strategy.SKILL_LEVEL_FIRST].agent_id == 3 and "highest hotel level (4)" in str(
        pick[Strategy.SKILL_LEVEL_FIRST].reason
    )
    crew = agents()
    crew[0].calls_taken, crew[1].calls_taken, crew[2].calls_taken = 9, 4, 7
    fewest = dispatch(
        [entry], crew, {"hotel": QueueConfig("hotel", "hotel", strategy=Strategy.FEWEST_CALLS)}, 100
    )
    assert fewest[0].agent_id == 3
    turns = QueueConfig("hotel", "hotel", strategy=Strategy.ROUND_ROBIN)
    order = [dispatch([entry], agents(), {"hotel": turns}, 100)[0].agent_id for _ in range(4)]
    assert order == [1, 3, 5, 1]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.floats(0, 100)), max_size=30),
    st.lists(st.tuples(st.integers(1, 5), st.floats(0, 100), st.booleans()), max_size=12),
)
def test_no_agent_gets_two_calls_and_no_call_two_agents(
    calls: list[tuple[int, float]], crew: list[tuple[int, float, bool]]
) -> None:
    entries = [Entry(f"c{n}", "hotel", at, priority) for n, (priority, at) in enumerate(calls)]
    free = [FreeAgent(n, str(n), {"hotel": level} if skilled else {"travel": level}, idle)
            for n, (level, idle, skilled) in enumerate(crew)]  # fmt: skip
    decisions = dispatch(entries, free, {"hotel": HOTEL}, now=200)
    assert len({d.agent_id for d in decisions}) == len(decisions) == len({d.call_id for d in decisions})
    skilled = {a.agent_id for a in free if "hotel" in a.skills}
    assert {d.agent_id for d in decisions} <= skilled
    assert len(decisions) == min(
        len(entries), len(skilled)
    )  # after the sticky step anyone skilled may take any


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.floats(0, 100), st.sampled_from([None, 1, 2])), max_size=25),
    st.integers(1, 5),
    st.sampled_from([1, 2]),
    st.floats(100, 200),
)
def test_the_incremental_router_decides_like_the_reference_when_an_agent_comes_free(
    calls: list[tuple[int, float, int | None]], level: int, agent_id: int, now: float
) -> None:
    from hotline.contact.queues.acd import Router

    entries = [
        Entry(f"c{n}", "hotel", at, priority, last_agent=last) for n, (priority, at, last) in enumerate(calls)
    ]
    router = Router({"hotel": HOTEL})
    for entry in sorted(entries, key=lambda e: e.entered_at):
        assert router.call_arrived(entry, entry.entered_at) is None  # nobody free yet
    agent = FreeAgent(agent_id, str(agent_id), {"hotel": level}, idle_since=now - 10)
    expected = dispatch(entries, [agent], {"hotel": HOTEL}, now)
    decided = router.agent_free(agent, now)
    assert (decided.call_id if decided else None) == (expected[0].call_id if expected else None)


def test_a_call_arriving_goes_to_the_longest_idle_free_agent_with_the_level_its_step_needs() -> None:
    from hotline.contact.queues.acd import Router

    router = Router({"hotel": HOTEL})
    for agent in agents():
        assert router.agent_free(agent, 90) is None  # nothing waiting: they wait in the pool
    sticky = router.call_arrived(Entry("c1", "hotel", 100, last_agent=5), 100)
    assert sticky is not None and sticky.agent_id == 5  # the customer's last agent, while free
    late = router.call_arrived(Entry("c2", "hotel", 60, last_agent=9), 100)  # waited 40 s: step 2, level ≥ 3
    assert late is not None and late.agent_id == 3
    assert router.call_arrived(Entry("c3", "hotel", 100, last_agent=9), 100) is None  # sticky to someone busy
