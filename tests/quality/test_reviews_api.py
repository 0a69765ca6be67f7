"""Quality reviews through the API as QA, the agents and their supervisor use them: the demo's
scorecard and agent1's evaluations in every state, a versioned edit, the whole flow with an
appeal, sampling a week of calls, blind calibration, the call library and the figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.contact.models import ContactEvent
from hotline.core.audit import AuditEntry
from hotline.core.clock import utcnow
from hotline.core.context import Context
from tests.conftest import Users, assert_problem

Q = "/api/quality"


async def ids(ctx: Context) -> dict[str, int]:
    from hotline.admin import directory

    return {p.username: p.id for p in (await directory.staff(ctx)).values()}


async def test_the_demo_gives_qa_and_agent1_evaluations_in_every_state(seeded: Context, users: Users) -> None:
    qa, agent1, agent2 = await users("qa"), await users("agent1"), await users("agent2")
    cards = (await qa.get(f"{Q}/scorecards")).json()
    assert [(c["name"], c["status"], c["version"]) for c in cards] == [("服务质检评分表", "published", 1)]
    items = {i["key"]: i for s in cards[0]["sections"] for i in s["items"]}
    assert items["no_forbidden"]["auto_fail"] and items["verify"]["allow_na"] and items["needs"]["max"] == 5
    page = (await qa.get(f"{Q}/evaluations", params={"limit": 50})).json()
    assert page["total"] == 6
    assert sorted((e["status"], e["outcome"]) for e in page["items"]) == sorted(
        [("assigned", None), ("in_progress", None), ("scored", None), ("appealed", None),
         ("final", "acknowledged"), ("final", "changed")]
    )  # fmt: skip
    assert {e["agent_name"] for e in page["items"]} == {"001 陈晓"}
    changed = next(e for e in page["items"] if e["outcome"] == "changed")
    assert (changed["first_score"], changed["score"]) == ("0.00", "94.06")

    mine = (await agent1.get(f"{Q}/my/evaluations")).json()
    assert sorted(e["status"] for e in mine["items"]) == ["appealed", "final", "final", "scored"]
    scored = next(e for e in mine["items"] if e["status"] == "scored")
    own = (await agent1.get(f"{Q}/my/evaluations/{scored['id']}")).json()
    assert own["actions"] == ["acknowledge", "appeal"] and own["coaching"]
    assert [c["text"] for c in own["comments"]] == [
        "开场问候清楚，报了工号。"
    ]  # the internal one stays with QA
    as_qa = (await qa.get(f"{Q}/evaluations/{scored['id']}")).json()
    assert len(as_qa["comments"]) == 2 and as_qa["actions"] == []
    assert [c["at_second"] for c in as_qa["comments"]] == ["3.0", "96.0"]
    unscored = next(e for e in page["items"] if e["status"] == "assigned")
    assert (await agent1.get(f"{Q}/my/evaluations/{unscored['id']}")).status_code == 404
    assert (await agent2.get(f"{Q}/my/evaluations/{scored['id']}")).status_code == 404
    assert (await agent2.get(f"{Q}/my/evaluations")).json()["total"] == 0
    assert (await agent1.get(f"{Q}/evaluations")).status_code == 403


async def test_editing_a_published_scorecard_makes_a_version_and_evaluations_keep_theirs(
    seeded: Context, users: Users
) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    card = (await supervisor.get(f"{Q}/scorecards")).json()[0]
    assert card["in_use"] == 6
    form = {k: card[k] for k in ("name", "description", "sections")}
    form["sections"][0]["items"][0]["weight"] = 15
    assert (await agent.put(f"{Q}/scorecards/{card['id']}", json=form)).status_code == 403
    draft = (await supervisor.put(f"{Q}/scorecards/{card['id']}", json=form)).json()
    assert (draft["id"] != card["id"], draft["version"], draft["status"]) == (True, 2, "draft")
    again = (await supervisor.put(f"{Q}/scorecards/{card['id']}", json=form)).json()
    assert again["id"] == draft["id"]  # the family's one draft, not a third version
    published = (await supervisor.post(f"{Q}/scorecards/{draft['id']}/publish")).json()
    assert published["status"] == "published"
    versions = (await supervisor.get(f"{Q}/scorecards", params={"every_version": True})).json()
    assert [(v["version"], v["status"]) for v in versions] == [(1, "retired"), (2, "published")]
    old = (await supervisor.get(f"{Q}/evaluations")).json()["items"][0]
    assert (old["scorecard_id"], old["scorecard_version"]) == (card["id"], 1)
    assert_problem(await supervisor.put(f"{Q}/scorecards/{card['id']}", json=form), 409, "scorecard-frozen")
    twice = {**form, "sections": [{"title": "A", "items": [form["sections"][0]["items"][0]] * 2}]}
    assert_problem(await supervisor.post(f"{Q}/scorecards", json=twice), 422, "scorecard-invalid",
                   "body.sections.0.items.1.key")  # fmt: skip
    scale_fail = {"key": "x", "text": "x", "kind": "scale", "max": 5, "weight": 1, "auto_fail": True}
    bad = {**form, "sections": [{"title": "A", "items": [scale_fail]}]}
    assert_problem(await supervisor.post(f"{Q}/scorecards", json=bad), 422, "validation-failed")
    bad_key = {
        **form,
        "sections": [{"title": "A", "items": [{**scale_fail, "key": "Bad Key", "auto_fail": False}]}],
    }
    assert_problem(await supervisor.post(f"{Q}/scorecards", json=bad_key), 422, "validation-failed",
                   "body.sections.0.items.0.key")  # fmt: skip


async def test_a_call_scored_appealed_and_reviewed_by_someone_else(seeded: Context, users: Users) -> None:
    people = await ids(seeded)
    qa, admin, agent2, agent1 = (
        await users("qa"),
        await users("admin"),
        await users("agent2"),
        await users("agent1"),
    )
    card = (await qa.get(f"{Q}/scorecards")).json()[0]
    call = {"call_id": "call-77", "agent_id": people["agent2"], "evaluator_id": people["qa"],
            "scorecard_id": card["id"], "queue": "hotel", "seconds": 200}  # fmt: skip
    assert_problem(await qa.post(f"{Q}/evaluations", json={**call, "evaluator_id": people["agent1"]}), 409,
                   "evaluation-refused")  # an agent does not score  # fmt: skip
    scorers = (await qa.get(f"{Q}/evaluators")).json()  # whom a screen offers to name
    assert sorted(e["user_id"] for e in scorers) == sorted([people["qa"], people["admin"]])
    assert all(e["name"] for e in scorers)
    assert (await agent1.get(f"{Q}/evaluators")).status_code == 403
    made = (await qa.post(f"{Q}/evaluations", json=call)).json()
    assert made["status"] == "assigned" and made["actions"] == ["start", "reassign"] and made["due_at"]
    eid = made["id"]
    assert (await agent2.get(f"{Q}/my/evaluations/{eid}")).status_code == 404  # not scored yet
    move = f"{Q}/evaluations/{eid}/moves"
    assert_problem(await qa.post(move, json={"action": "submit"}), 409, "evaluation-refused")  # start first
    assert (await qa.post(move, json={"action": "start"})).json()["status"] == "in_progress"
    pinned = {"text": "第12秒未报工号", "at_second": 12.5, "item_key": "greeting"}
    comment = await qa.post(f"{Q}/evaluations/{eid}/comments", json=pinned)
    assert comment.status_code == 201 and comment.json()["at_second"] == "12.5"
    nowhere = {"text": "x", "item_key": "nope"}
    assert_problem(await qa.post(f"{Q}/evaluations/{eid}/comments", json=nowhere), 422,
                   "answers-invalid", "body.item_key")  # fmt: skip
    answers: dict[str, Any] = {
        "greeting": {"value": 0}, "verify": {"na": True}, "needs": {"value": 4}, "solution": {"value": 5},
        "record": {"value": 1}, "closing": {"value": 1}, "language": {"value": 4},
        "no_forbidden": {"value": 1},
    }  # fmt: skip
    short = {k: v for k, v in answers.items() if k != "closing"}
    saved = (await qa.post(move, json={"action": "save", "answers": {"needs": {"value": 4}}})).json()
    assert (saved["status"], saved["score"], saved["draft_score"]) == ("in_progress", None, "80.00")
    saved = (await qa.post(move, json={"action": "save", "answers": short})).json()
    assert saved["draft_score"] == "80.25"  # (0 + 16 + 30 + 10 + 8 + 1) / 81: what the screen shows live
    assert_problem(await qa.post(move, json={"action": "submit", "answers": short}), 422, "answers-invalid",
                   "body.answers.closing")  # fmt: skip
    several = {**short, "needs": {"value": 9}, "greeting": {"na": True}, "tone": {"value": 1}}
    refused = await qa.post(move, json={"action": "submit", "answers": several})
    assert_problem(refused, 422, "answers-invalid")  # every item the form must mark, at once
    assert {(e["field"], e["type"]) for e in refused.json()["errors"]} == {
        ("body.answers.closing", "answer-every-item"), ("body.answers.needs", "item-value-range"),
        ("body.answers.greeting", "item-always-applies"), ("body.answers.tone", "scorecard-no-item"),
    }  # fmt: skip
    over = {**answers, "needs": {"value": 6}}
    assert_problem(await qa.post(move, json={"action": "submit", "answers": over}), 422, "answers-invalid",
                   "body.answers.needs")  # fmt: skip
    scored = (
        await qa.post(move, json={"action": "submit", "answers": answers, "coaching": "记得报工号"})
    ).json()
    # (0·10 + 4/5·20 + 30 + 10 + 10 + 4/5·10 + 1) / 91: the identity check (10) not applicable
    assert (scored["status"], scored["score"], scored["auto_failed"]) == ("scored", "82.42", False)
    own = (await agent2.get(f"{Q}/my/evaluations/{eid}")).json()
    assert own["score"] == "82.42" and own["coaching"] == "记得报工号"
    mine = f"{Q}/my/evaluations/{eid}/moves"
    assert_problem(
        await agent2.post(mine, json={"action": "appeal"}), 409, "evaluation-refused", "body.reason"
    )
    assert_problem(
        await agent2.post(mine, json={"action": "submit", "answers": answers}), 409, "evaluation-refused"
    )
    assert (
        await agent1.post(f"{Q}/my/evaluations/{eid}/moves", json={"action": "acknowledge"})
    ).status_code == 404
    appealed = (await agent2.post(mine, json={"action": "appeal", "reason": "第3秒报了工号"})).json()
    assert appealed["status"] == "appealed" and appealed["actions"] == []
    refused = await qa.post(move, json={"action": "uphold"})
    assert assert_problem(refused, 409, "evaluation-refused")["reason"] == "second-review-by-another"
    final = (await admin.post(move, json={"action": "uphold", "reason": "复听：未报工号"})).json()
    assert (final["status"], final["outcome"], final["reviewer_id"], final["due_at"]) == (
        "final", "upheld", people["admin"], None)  # fmt: skip
    assert [s["action"] for s in final["steps"]] == ["assign", "start", "submit", "appeal", "uphold"]
    assert_problem(await admin.post(move, json={"action": "change", "answers": answers, "reason": "x"}), 409,
                   "evaluation-refused")  # fmt: skip
    assert_problem(
        await agent2.post(mine, json={"action": "appeal", "reason": "再申诉"}), 409, "evaluation-refused"
    )
    assert_problem(
        await qa.post(f"{Q}/evaluations/{eid}/comments", json={"text": "x"}), 409, "evaluation-refused"
    )
    async with seeded.read() as session:
        audited = set(
            await session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "qa_evaluations"))
        )
    assert audited >= {"qa_evaluations.create", "qa_evaluations.update"}


async def test_overdue_steps_show_and_a_silent_agent_is_closed_by_the_job(
    seeded: Context, users: Users
) -> None:
    from hotline.quality.reviews import evaluations
    from hotline.quality.reviews.models import Evaluation

    qa = await users("qa")
    none = {"score_days": 0, "acknowledge_days": 3, "review_days": 5}
    assert_problem(await qa.put(f"{Q}/deadlines", json=none), 422, "validation-failed", "body.score_days")
    assert (
        await qa.put(f"{Q}/deadlines", json={"score_days": 2, "acknowledge_days": 1, "review_days": 4})
    ).json()["acknowledge_days"] == 1
    async with seeded.write() as tx:
        for row in await tx.session.scalars(
            select(Evaluation).where(Evaluation.status.in_(("scored", "assigned")))
        ):
            row.due_at = utcnow() - timedelta(hours=1)
    late = (await qa.get(f"{Q}/evaluations", params={"overdue": True})).json()
    assert sorted(e["status"] for e in late["items"]) == ["assigned", "scored"] and all(
        e["overdue"] for e in late["items"]
    )
    assert await evaluations.close_overdue(seeded) == 1
    closed = (await qa.get(f"{Q}/evaluations", params={"status": "final"})).json()["items"]
    assert sorted(e["outcome"] for e in closed) == ["acknowledged", "changed", "closed"]


def call_lines(
    call_id: str, agent: int, at: datetime, seconds: int, queue: str = "hotel", **extra: Any
) -> list[ContactEvent]:
    lines = [
        ContactEvent(at=at - timedelta(seconds=5), kind="queued", call_id=call_id, queue=queue),
        ContactEvent(at=at, kind="answered", call_id=call_id, queue=queue, agent_id=agent),
        ContactEvent(
            at=at + timedelta(seconds=seconds), kind="ended", call_id=call_id, queue=queue, agent_id=agent
        ),
    ]
    if extra.get("complaint"):
        lines.append(ContactEvent(at=at + timedelta(seconds=seconds + 30), kind="wrapped", call_id=call_id,
                                  agent_id=agent, detail="投诉: 房间有异味"))  # fmt: skip
    if extra.get("survey"):
        lines.append(ContactEvent(at=at + timedelta(seconds=seconds + 5), kind="survey", call_id=call_id,
                                  agent_id=agent, detail=str(extra["survey"])))  # fmt: skip
    return lines


async def test_a_plan_samples_last_week_spread_over_its_evaluators_and_never_twice(
    seeded: Context, users: Users
) -> None:
    people = await ids(seeded)
    qa, agent = await users("qa"), await users("agent1")
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()  # weeks are the centre's weeks
    monday = today - timedelta(days=today.weekday() + 7)
    start = datetime(monday.year, monday.month, monday.day, 10, tzinfo=UTC)
    async with seeded.write() as tx:
        for n in range(12):
            for who in ("agent2", "agent3"):
                tx.session.add_all(
                    call_lines(f"w-{who}-{n}", people[who], start + timedelta(hours=n), 60 + 40 * n)
                )
        tx.session.add_all(call_lines("w-complaint", people["agent4"], start, 100, complaint=True))
        tx.session.add_all(call_lines("w-long", people["agent4"], start + timedelta(hours=1), 1000))
        tx.session.add_all(call_lines("w-survey", people["agent4"], start + timedelta(hours=2), 90, survey=1))
    family = (await qa.get(f"{Q}/scorecards")).json()[0]["family"]
    plan = {"name": "周抽检", "scorecard_family": family, "per_agent": 4,
            "evaluators": [people["qa"], people["admin"]],
            "agents": [people["agent2"], people["agent3"], people["agent4"]]}  # fmt: skip
    assert (await agent.post(f"{Q}/plans", json=plan)).status_code == 403
    assert_problem(await qa.post(f"{Q}/plans", json={**plan, "evaluators": [people["agent1"]]}), 409,
                   "evaluation-refused", "body.evaluators.0")  # fmt: skip
    assert_problem(await qa.post(f"{Q}/plans", json={**plan, "bands": [600, 60]}), 422, "validation-failed")
    made = (await qa.post(f"{Q}/plans", json=plan)).json()
    assert made["always"] == {
        "complaint": True,
        "long_seconds": 900,
        "survey_at_most": 2,
        "forbidden_hit": True,
        "silence_at_least": None,
        "overtalk_at_least": None,
    }
    run = (
        await qa.post(f"{Q}/plans/{made['id']}/run", json={"week": str(monday + timedelta(days=3))})
    ).json()
    assert run["week"] == str(monday) and run["candidates"] == 27
    assert run["by_reason"] == {"sample": 8, "complaint": 1, "long": 1, "survey": 1}
    assert sorted(run["by_evaluator"].values()) == [5, 6]  # spread over both
    page = (await qa.get(f"{Q}/evaluations", params={"limit": 200})).json()["items"]
    sampled = [e for e in page if e["plan_id"] == made["id"]]
    assert len({e["call_id"] for e in sampled}) == 11 and {e["status"] for e in sampled} == {"assigned"}
    assert next(e for e in sampled if e["call_id"] == "w-long")["seconds"] == 1000
    again = (await qa.post(f"{Q}/plans/{made['id']}/run", json={"week": str(monday)})).json()
    assert again["by_reason"] == {"sample": 8}  # the rest of agent2's and agent3's calls, none twice
    everything = (await qa.get(f"{Q}/evaluations", params={"limit": 200})).json()["items"]
    planned = [e["call_id"] for e in everything if e["plan_id"] == made["id"]]
    assert len(planned) == len(set(planned)) == 19
    assert_problem(await qa.post(f"{Q}/plans/{made['id']}/run", json={"week": str(today)}), 409,
                   "evaluation-refused", "body.week")  # fmt: skip
    shown = next(p for p in (await qa.get(f"{Q}/plans")).json() if p["id"] == made["id"])
    last = shown["last_run"]  # the screen tells what the latest run picked, and who ran it
    assert (last["week"], last["candidates"], last["by_reason"]) == (str(monday), 27, {"sample": 8})
    assert last["ran_by"] == people["qa"] and last["ran_at"]
    assert set(shown["names"]) == {str(people[u]) for u in ("qa", "admin", "agent2", "agent3", "agent4")}
    long = (await qa.get(f"{Q}/long-calls", params={"month": str(monday)})).json()
    assert "w-long" in [c["call_id"] for c in long] and all(c["seconds"] > 900 for c in long)
    assert next(c for c in long if c["call_id"] == "w-long")["evaluation_id"] is not None


async def test_the_evaluators_to_choose_from_are_those_who_may_score(seeded: Context, users: Users) -> None:
    people = await ids(seeded)
    qa, agent = await users("qa"), await users("agent1")
    choices = (await qa.get(f"{Q}/evaluators")).json()
    assert {c["user_id"] for c in choices} == {people["qa"], people["admin"]}
    assert all(c["name"] for c in choices)
    assert (await agent.get(f"{Q}/evaluators")).status_code == 403


async def test_calibration_is_blind_until_closed_then_keeps_the_spread(seeded: Context, users: Users) -> None:
    people = await ids(seeded)
    qa, admin, supervisor = await users("qa"), await users("admin"), await users("supervisor")
    card = (await qa.get(f"{Q}/scorecards")).json()[0]
    done = (await qa.get(f"{Q}/calibrations")).json()
    assert done[0]["status"] == "closed" and done[0]["result"]["overall"]["spread"] is not None
    body = {"title": "校准", "call_id": "demo-qa-3", "scorecard_id": card["id"],
            "evaluators": [people["qa"], people["admin"]], "target_spread": 10}  # fmt: skip
    assert_problem(await qa.post(f"{Q}/calibrations", json={**body, "evaluators": [people["qa"]]}), 422,
                   "validation-failed", "body.evaluators")  # fmt: skip
    session = (await supervisor.post(f"{Q}/calibrations", json=body)).json()
    sid = session["id"]
    full: dict[str, Any] = {
        k: {"value": 1} for k in ("greeting", "verify", "record", "closing", "no_forbidden")
    }
    mine = {**full, "needs": {"value": 5}, "solution": {"value": 5}, "language": {"value": 5}}
    theirs = {**full, "needs": {"value": 3}, "solution": {"value": 5}, "language": {"value": 5}}
    assert_problem(await supervisor.post(f"{Q}/calibrations/{sid}/scores", json={"answers": mine}), 403,
                   "permission-denied")  # fmt: skip
    seen = (await qa.post(f"{Q}/calibrations/{sid}/scores", json={"answers": mine})).json()
    assert (
        seen["submitted"] == [people["qa"]] and seen["mine"]["needs"]["value"] == 5 and seen["result"] is None
    )
    assert_problem(await qa.post(f"{Q}/calibrations/{sid}/close"), 409, "calibration-refused")  # one alone
    by_admin = (await admin.post(f"{Q}/calibrations/{sid}/scores", json={"answers": theirs})).json()
    assert by_admin["mine"]["needs"]["value"] == 3  # each sees their own answers only
    assert_problem(await qa.get(f"{Q}/calibrations/{sid}/answers"), 409, "calibration-refused")
    closed = (await qa.post(f"{Q}/calibrations/{sid}/close")).json()
    result = closed["result"]
    needs = next(i for i in result["items"] if i["key"] == "needs")
    assert (needs["low"], needs["high"], needs["spread"], needs["agreed"]) == (
        "60.00",
        "100.00",
        "40.00",
        False,
    )
    assert result["overall"]["spread"] == "7.92" and result["overall"]["agreed"] and not result["agreed"]
    answers = (await qa.get(f"{Q}/calibrations/{sid}/answers")).json()
    assert answers[str(people["admin"])]["needs"]["value"] == 3
    assert_problem(await admin.post(f"{Q}/calibrations/{sid}/scores", json={"answers": theirs}), 409,
                   "calibration-refused")  # fmt: skip


async def test_the_call_library_playlists_and_figures(seeded: Context, users: Users) -> None:
    people = await ids(seeded)
    qa, agent1, supervisor = await users("qa"), await users("agent1"), await users("supervisor")
    good = (await qa.get(f"{Q}/library", params={"kind": "good"})).json()
    assert [e["title"] for e in good] == ["标准开场与预订复述"] and good[0]["agent_name"] == "001 陈晓"
    example = {
        "call_id": "demo-qa-6",
        "kind": "good",
        "title": "化解投诉",
        "tags": ["投诉"],
        "recording_ids": [3],
    }
    made = (await qa.post(f"{Q}/library", json=example)).json()
    assert made["recording_ids"] == [3]
    assert_problem(await qa.post(f"{Q}/library", json={"call_id": "x y", "kind": "good", "title": "t"}), 422,
                   "validation-failed", "body.call_id")  # fmt: skip
    assert [e["id"] for e in (await qa.get(f"{Q}/library", params={"tag": "投诉"})).json()] == [made["id"]]
    playlist = (await qa.get(f"{Q}/playlists")).json()[0]
    order = [made["id"], *(e["id"] for e in playlist["entries"])]
    reorder = {"title": playlist["title"], "topic": "服务用语", "entries": order}
    edited = (await qa.put(f"{Q}/playlists/{playlist['id']}", json=reorder)).json()
    assert [e["id"] for e in edited["entries"]] == order
    assert_problem(await qa.put(f"{Q}/playlists/{playlist['id']}", json={"title": "t", "topic": "t",
                                                                         "entries": [order[0], 999999]}), 404,
                   "review-not-found", "body.entries.1")  # fmt: skip
    assert [p["title"] for p in (await agent1.get(f"{Q}/my/playlists")).json()] == ["新员工入职：电话礼仪"]
    assert (
        await agent1.post(f"{Q}/library", json={"call_id": "x", "kind": "bad", "title": "t"})
    ).status_code == 403
    assert (await qa.delete(f"{Q}/library/{made['id']}")).status_code == 204
    assert [e["id"] for e in (await qa.get(f"{Q}/playlists/{playlist['id']}")).json()["entries"]] == order[1:]

    period = {
        "from": (utcnow() - timedelta(days=30)).isoformat(),
        "to": (utcnow() + timedelta(days=1)).isoformat(),
    }
    figures = (await supervisor.get(f"{Q}/figures/agents", params=period)).json()
    # 93.41 (scored), 72.28 (appealed), 93.41 (acknowledged), 94.06 (changed on appeal: won)
    assert figures == [
        {"agent_id": people["agent1"], "agent_name": "001 陈晓", "evaluations": 4,
         "average": "88.29", "auto_fails": 0, "appeals": 2, "appeals_won": 1, "appeals_lost": 0,
         "appeals_open": 1, "calls_checked": 0, "silences": 0, "overtalks": 0, "forbidden_hits": 0}
    ]  # fmt: skip
    assert (await agent1.get(f"{Q}/my/figures", params=period)).json() == figures
    assert (await agent1.get(f"{Q}/figures/agents", params=period)).status_code == 403
    vague = {"from": "yesterday", "to": period["to"]}
    assert_problem(await supervisor.get(f"{Q}/figures/agents", params=vague),
                   422, "validation-failed", "query.from")  # fmt: skip
