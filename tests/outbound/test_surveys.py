"""Surveys (B4) in one store, however answered: the return visit's questionnaire sent by SMS as a
one-time link to a page that needs no sign-in (answered once, checked all at once, refused when
expired), and the IVR's post-call key collected with the agent, queue and hotel of its call; each
answer on the customer's file, in the campaign's results and in the surveys report."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from hotline.contact.models import ContactEvent
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import FieldProblems, InvalidInput
from hotline.crm.models import TimelineEntry
from hotline.notify.models import Message
from hotline.outbound.models import SurveyLink, SurveyResponse
from hotline.outbound.surveys import check_answers, collect_ivr
from tests.conftest import Users, assert_problem

ZHANG = "+8613800138000"


def _since_yesterday() -> dict[str, str]:
    """Yesterday and today as the reports count days (the site's, Asia/Shanghai): the answers of a
    few minutes ago whatever the hour the suite runs at; the demo's are two days old or more."""
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    return {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()}


async def _campaign(client: httpx.AsyncClient, code: str = "stay-return") -> dict[str, object]:
    found: dict[str, object] = next(
        c for c in (await client.get("/api/outbound/campaigns")).json() if c["code"] == code
    )
    return found


async def _token_sent_to(ctx: Context, phone: str) -> str:
    async with ctx.read() as session:
        body = await session.scalar(
            select(Message.body).where(Message.key.like("survey-link:%"), Message.recipient == phone)
        )
    assert body is not None
    found = re.search(r"/s/([A-Za-z0-9_-]+)", body)
    assert found is not None, body
    return found.group(1)


async def test_a_survey_sent_by_sms_is_answered_once_and_reaches_the_file_results_and_reports(
    users: Users, seeded: Context, app: object
) -> None:
    supervisor = await users("supervisor")
    campaign = await _campaign(supervisor)
    url = f"/api/outbound/campaigns/{campaign['id']}"
    sent = await supervisor.post(f"{url}/survey-links", json={})
    assert sent.status_code == 200, sent.text
    assert (sent.json()["sent"], sent.json()["skipped"]) == (10, 0)  # the ten return-visit numbers
    again = (await supervisor.post(f"{url}/survey-links", json={})).json()
    assert (again["sent"], again["skipped"]) == (0, 10)  # a link is open for each: no second SMS
    async with seeded.read() as session:
        texts = await session.scalar(select(func.count()).where(Message.key.like("survey-link:%")))
        hashes = list(await session.scalars(select(SurveyLink.token_hash)))
    assert texts == 10 and len(set(hashes)) == 10

    token = await _token_sent_to(seeded, ZHANG)
    assert token not in hashes  # only the hash is kept
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://test",
        headers={"Accept-Language": "zh-CN"},
    ) as customer:  # no sign-in
        page = await customer.get(f"/api/outbound/surveys/{token}")
        assert page.status_code == 200, page.text
        shown = page.json()
        assert shown["title"] == "离店回访" and [q["key"] for q in shown["questions"]] == [
            "overall", "again", "liked", "advice",
        ]  # fmt: skip
        assert "138" not in page.text and "张伟" not in page.text  # nothing about the person

        wrong = await customer.post(
            f"/api/outbound/surveys/{token}/answers", json={"answers": {"liked": ["房间", "泳池"]}}
        )
        problem = assert_problem(wrong, 422, "invalid-input")
        assert {e["field"] for e in problem["errors"]} == {
            "body.answers.liked", "body.answers.overall", "body.answers.again",
        }  # fmt: skip
        assert all("\u4e00" <= e["message"][0] <= "\u9fff" for e in problem["errors"])
        async with seeded.read() as session:
            assert (
                await session.scalar(select(func.count()).where(SurveyResponse.channel == "sms")) == 2
            )  # demo

        answers = {"overall": 4, "again": True, "liked": ["早餐", "位置交通"], "advice": "希望延迟退房"}
        done = await customer.post(f"/api/outbound/surveys/{token}/answers", json={"answers": answers})
        assert done.status_code == 204, done.text
        twice = await customer.post(f"/api/outbound/surveys/{token}/answers", json={"answers": answers})
        assert_problem(twice, 409, "conflict")
        assert twice.json()["reason"] == "survey-link-answered"
        assert (await customer.get(f"/api/outbound/surveys/{token}")).status_code == 409

    async with seeded.read() as session:
        stored = (
            await session.scalars(
                select(SurveyResponse).where(
                    SurveyResponse.channel == "sms", SurveyResponse.source.like("link:%")
                )
            )
        ).all()
        assert len(stored) == 1
        response = stored[0]
        assert (response.score, response.hotel, response.answers) == (4, "杭州西湖店", answers)
        assert response.customer_id is not None and response.agent_id is not None  # 张伟, his agent
        entry = await session.scalar(
            select(TimelineEntry).where(TimelineEntry.ref == f"survey:{response.id}")
        )
    assert entry is not None and entry.customer_id == response.customer_id
    assert entry.title == "短信问卷：离店回访，评分 4/5" and "希望延迟退房" in entry.detail

    results = (await supervisor.get(f"{url}/survey-results")).json()
    assert (results["links_sent"], results["links_answered"], results["links_expired"]) == (10, 1, 0)
    assert results["by_channel"] == {"phone": 3, "sms": 3}  # the demo's five and this one
    overall = next(q for q in results["questions"] if q["key"] == "overall")
    assert overall["answered"] == 6 and overall["average"] == round((5 + 4 + 3 + 5 + 4 + 4) / 6, 2)
    liked = next(q for q in results["questions"] if q["key"] == "liked")
    assert liked["counts"]["位置交通"] == 3 and liked["counts"]["早餐"] == 3

    report = (await supervisor.get("/api/reports/surveys", params=_since_yesterday())).json()
    channels = {r["label"]: r["surveys"] for r in report["rows"] if r["dimension"] == "channel"}
    assert channels.get("短信问卷") == 1  # this answer; the demo's are days old


async def test_an_expired_unknown_or_malformed_link_is_refused_and_changes_nothing(
    users: Users, seeded: Context
) -> None:
    supervisor = await users("supervisor")
    campaign = await _campaign(supervisor)
    await supervisor.post(f"/api/outbound/campaigns/{campaign['id']}/survey-links", json={})
    token = await _token_sent_to(seeded, ZHANG)
    async with seeded.write() as tx:
        await tx.session.execute(update(SurveyLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    answers = {"answers": {"overall": 5, "again": True}}
    expired = await supervisor.post(f"/api/outbound/surveys/{token}/answers", json=answers)
    assert_problem(expired, 410, "gone")
    assert expired.json()["reason"] == "survey-link-expired"
    unknown = await supervisor.get(f"/api/outbound/surveys/{'x' * 24}")
    assert_problem(unknown, 404, "not-found")
    assert (await supervisor.get("/api/outbound/surveys/short")).status_code == 422
    async with seeded.read() as session:
        assert await session.scalar(select(func.count()).where(SurveyLink.answered_at.is_not(None))) == 0
    # sending again after expiry sends a fresh link (the old one cannot be answered any more)
    resent = (await supervisor.post(f"/api/outbound/campaigns/{campaign['id']}/survey-links", json={})).json()
    assert resent["sent"] == 10
    # a campaign without a questionnaire has nothing to send
    draft = await _campaign(supervisor, "spring-routes")
    refused = await supervisor.post(f"/api/outbound/campaigns/{draft['id']}/survey-links", json={})
    assert_problem(refused, 422, "invalid-input", "campaign_id")
    agent = await users("agent1")
    assert (
        await agent.post(f"/api/outbound/campaigns/{campaign['id']}/survey-links", json={})
    ).status_code == 403


async def test_the_ivr_post_call_key_becomes_a_response_with_its_agent_queue_hotel_and_caller(
    users: Users, seeded: Context
) -> None:
    supervisor = await users("supervisor")
    agent_id = next(
        a["user_id"]
        for a in (await supervisor.get("/api/routing/agents")).json()
        if a["username"] == "agent2"
    )
    at = utcnow() - timedelta(minutes=5)
    async with seeded.write() as tx:
        lines = [
            ContactEvent(
                at=at, kind="arrived", call_id="ivr-sv-1", queue="main", detail="13800138000 → 4008001000"
            ),
            ContactEvent(at=at, kind="enquiry", call_id="ivr-sv-1", detail="hotel:HZ-XH"),
            ContactEvent(at=at, kind="answered", call_id="ivr-sv-1", queue="hotel", agent_id=agent_id),
            ContactEvent(at=at, kind="survey", call_id="ivr-sv-1", agent_id=agent_id, detail="2"),
            ContactEvent(at=at, kind="survey", call_id="ivr-sv-2", detail=""),  # no valid key pressed
        ]  # fmt: skip
        tx.session.add_all(lines)
    before = await collect_ivr(seeded)  # the demo's own keys first, then ours
    assert before >= 1
    assert await collect_ivr(seeded) == 0  # collected once
    async with seeded.read() as session:
        mine = await session.scalar(
            select(SurveyResponse).where(
                SurveyResponse.call_id == "ivr-sv-1", SurveyResponse.channel == "ivr"
            )
        )
        assert await session.scalar(select(func.count()).where(SurveyResponse.call_id == "ivr-sv-2")) == 0
    assert mine is not None
    assert (mine.score, mine.agent_id, mine.queue) == (2, agent_id, "hotel")
    assert mine.hotel.endswith("西湖英冠酒店") or "西湖" in mine.hotel  # the hotel's name, not its code
    assert mine.customer_id is not None  # the caller is 张伟

    report = (await supervisor.get("/api/reports/surveys", params=_since_yesterday())).json()
    rows = {(r["dimension"], r["label"]): r for r in report["rows"]}
    assert rows["channel", "语音满意度"]["surveys"] >= 1
    assert rows["queue", "酒店预订"]["surveys"] >= 1
    assert any(d == "stay_hotel" and "西湖" in label for d, label in rows)


QUESTIONS = [
    {"key": "overall", "type": "score", "required": True},
    {"key": "again", "type": "yes_no", "required": True},
    {"key": "liked", "type": "choices", "choices": ["房间", "早餐"], "required": False},
    {"key": "which", "type": "choice", "choices": ["房间", "早餐"], "required": False},
    {"key": "advice", "type": "text", "required": False},
]
VALUES = st.one_of(
    st.integers(1, 5), st.booleans(), st.sampled_from(["房间", "早餐", "泳池", ""]),
    st.lists(st.sampled_from(["房间", "早餐", "泳池"]), min_size=1, max_size=3),
)  # fmt: skip


@given(st.dictionaries(st.sampled_from(["overall", "again", "liked", "which", "advice", "other"]), VALUES))
def test_an_answer_is_accepted_only_when_it_fits_its_question(answers: dict[str, object]) -> None:
    problems = FieldProblems()
    check_answers(QUESTIONS, answers, problems, complete=True)
    named = {p.field for p in problems.found}

    def fits(key: str, value: object) -> bool:
        kind = next((q for q in QUESTIONS if q["key"] == key), {}).get("type")
        if kind == "score":
            return isinstance(value, int) and not isinstance(value, bool)
        if kind == "yes_no":
            return isinstance(value, bool)
        if kind == "text":
            return isinstance(value, str)
        if kind == "choice":
            return value in ("房间", "早餐")
        if kind == "choices":
            return (
                isinstance(value, list) and len(set(value)) == len(value) and set(value) <= {"房间", "早餐"}
            )
        return False  # no such question

    expected = {f"body.answers.{k}" for k, v in answers.items() if not fits(k, v)}
    expected |= {f"body.answers.{k}" for k in ("overall", "again") if answers.get(k) in (None, "")}
    assert named == expected
    assert all(isinstance(p, InvalidInput) for p in problems.found)


async def test_two_sends_at_once_text_each_number_once(users: Users, seeded: Context) -> None:
    supervisor, admin = await users("supervisor"), await users("admin")
    campaign = await _campaign(supervisor)
    url = f"/api/outbound/campaigns/{campaign['id']}/survey-links"
    first, second = await asyncio.gather(supervisor.post(url, json={}), admin.post(url, json={}))
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert first.json()["sent"] + second.json()["sent"] == 10
    async with seeded.read() as session:
        assert await session.scalar(select(func.count()).where(Message.key.like("survey-link:%"))) == 10


async def test_an_agent_texts_the_survey_to_the_number_they_work_once(users: Users, seeded: Context) -> None:
    agent1, agent2 = await users("agent1"), await users("agent2")
    campaign = await _campaign(agent1)
    mine = (await agent1.get(f"/api/outbound/campaigns/{campaign['id']}/targets")).json()["items"]
    zhang = next(t for t in mine if t["name"] == "张伟")
    url = f"/api/outbound/targets/{zhang['id']}/survey-link"
    assert (await agent2.post(url)).status_code == 404  # not agent2's number
    sent = await agent1.post(url)
    assert sent.status_code == 200, sent.text
    assert (sent.json()["sent"], sent.json()["skipped"]) == (1, 0)
    assert (await agent1.post(url)).json()["sent"] == 0  # the link is open: no second SMS
    async with seeded.read() as session:
        link = await session.scalar(select(SurveyLink).where(SurveyLink.target_id == zhang["id"]))
        texts = await session.scalar(select(func.count()).where(Message.key == f"survey-link:{link.id}"))
    assert link is not None and texts == 1 and link.created_by == link.agent_id  # agent1's own number
