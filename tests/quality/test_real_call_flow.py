"""A real call through QA, end to end: a caller rings the hotel line from a SIP phone, agent 001
answers on theirs and they talk; within 60 s of hang-up the call is in the library with its
automatic checks, sampling sees it with its figures, qa scores it, agent1 hears their own call and
appeals, and the admin's second review makes it final (issue 20's test)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.quality.reviews import plans
from hotline.quality.reviews.sampling import Rules, select
from tests.conftest import Users, assert_problem
from tests.contact.calls.test_controls import (  # noqa: F401 - fixtures: the served app's phones
    call_in,
    my_call,
    settings,
    until,
)
from tests.quality.speech import GREETING, REQUEST, WAIT, clip
from tests.quality.test_reviews_api import ids
from tests.voice.softphone import Softphone

Q = "/api/quality"
ANSWERS: dict[str, Any] = {
    "greeting": {"value": 1}, "verify": {"na": True}, "needs": {"value": 4}, "solution": {"value": 5},
    "record": {"value": 1}, "closing": {"value": 1}, "language": {"value": 4}, "no_forbidden": {"value": 1},
}  # fmt: skip


async def test_a_real_call_is_recorded_checked_sampled_scored_appealed_and_made_final(
    seeded: Context,
    users: Users,
    app: object,
    phones: Callable[[str], Awaitable[Softphone]],
) -> None:
    people = await ids(seeded)
    qa, agent1, agent2, admin = (
        await users("qa"),
        await users("agent1"),
        await users("agent2"),
        await users("admin"),
    )
    phone1 = await phones("1001")
    caller = await call_in(phones, agent1, app)
    live = await my_call(agent1)
    assert live is not None
    call_id = str(live["call_id"])
    # turns in Mandarin (espeak-ng): the agent greets, the caller asks, the agent answers
    await phone1.send_audio(clip(GREETING).samples.tolist())
    await caller.send_audio(clip(REQUEST).samples.tolist())
    await phone1.send_audio(clip(WAIT).samples.tolist())
    await asyncio.sleep(0.5)
    caller.send(caller.in_dialog("BYE", cseq=2))
    hung_up = utcnow()

    async def checked() -> dict[str, Any] | None:
        found = await qa.get(f"{Q}/recordings", params={"call_id": call_id})
        assert found.status_code == 200, found.text
        rows = [r for r in found.json()["items"] if r["checks"]]
        return rows[0] if rows else None

    await until(checked, 60)  # in the library with its checks within 60 s of hang-up
    row = await checked()
    assert row is not None and (utcnow() - hung_up).total_seconds() < 60
    assert row["agent_id"] == people["agent1"] and row["queue"] == "hotel" and row["number"] == "139****2222"
    assert row["checks"]["agent_talk"] > 0 and row["checks"]["caller_talk"] > 0

    # sampling sees the call with what the checks found, and a plan of one per agent picks it
    found = await plans.candidates(seeded, hung_up - timedelta(hours=1), utcnow() + timedelta(minutes=1))
    facts = next(c for c in found if c.call_id == call_id)
    assert facts.agent_id == people["agent1"] and facts.longest_silence == row["checks"]["longest_silence"]
    assert call_id in {p.call.call_id for p in select(found, Rules(per_agent=5), seed=1)}

    # agent1 may not hear it yet (nobody evaluated them on it); qa assigns it, scores it
    assert_problem(await agent1.post(f"{Q}/recordings/{row['id']}/play"), 403, "permission-denied")
    card = (await qa.get(f"{Q}/scorecards")).json()[0]
    made = await qa.post(f"{Q}/evaluations", json={
        "call_id": call_id, "agent_id": people["agent1"], "evaluator_id": people["qa"],
        "scorecard_id": card["id"], "queue": "hotel", "seconds": round(row["seconds"]),
    })  # fmt: skip
    assert made.status_code == 201, made.text
    move = f"{Q}/evaluations/{made.json()['id']}/moves"
    assert (await qa.post(move, json={"action": "start"})).json()["status"] == "in_progress"
    scored = (
        await qa.post(move, json={"action": "submit", "answers": ANSWERS, "coaching": "结束前复述需求"})
    ).json()
    assert scored["status"] == "scored"
    library = (await qa.get(f"{Q}/recordings", params={"call_id": call_id})).json()["items"][0]
    assert library["qa_score"] == float(scored["score"])

    # agent1 hears their own call and appeals; agent2 hears nothing of it
    assert (await agent1.post(f"{Q}/recordings/{row['id']}/play")).status_code == 200
    refused = await agent2.post(f"{Q}/recordings/{row['id']}/play")
    assert refused.status_code == 403, refused.text
    mine = f"{Q}/my/evaluations/{made.json()['id']}/moves"
    appealed = (await agent1.post(mine, json={"action": "appeal", "reason": "我复述了客户的需求"})).json()
    assert appealed["status"] == "appealed"
    final = (await admin.post(move, json={"action": "uphold", "reason": "复听：未复述"})).json()
    assert (final["status"], final["outcome"]) == ("final", "upheld")
    assert [s["action"] for s in final["steps"]] == ["assign", "start", "submit", "appeal", "uphold"]
