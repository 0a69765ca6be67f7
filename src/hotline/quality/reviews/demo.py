"""The demo's quality reviews: seed 003's 服务质检评分表 published, a weekly sampling plan, and
agent1 (陈晓)'s evaluations in every state of the flow — to score, being scored, waiting for the
agent, appealed, acknowledged, changed on appeal — with comments pinned to moments, a closed
calibration session, good and bad examples in the call library and a training playlist, so the
QA screens and the agent's own page have something to show. Idempotent."""

# ruff: noqa: E501 - the demo's Chinese sentences are as long as they are

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context
from hotline.core.permissions import permissions_for
from hotline.quality.recordings import service as recordings
from hotline.quality.reviews import calibration, evaluations, library, plans, scorecards
from hotline.quality.reviews.models import Evaluation, Scorecard
from hotline.quality.reviews.schemas import (
    AnswerIn,
    CalibrationIn,
    CalibrationScoreIn,
    CommentIn,
    EvaluationIn,
    EvaluationMoveIn,
    LibraryIn,
    PlanIn,
    PlaylistIn,
    ScorecardIn,
)

SERVICE_CARD = {
    "name": "服务质检评分表",
    "description": "呼叫中心服务质检标准（种子003 质检部工作流程）：开场、身份核实、需求分析、解决方案、结束语、服务用语规范。"
    "使用禁用语的通话整通记 0 分。",
    "sections": [
        {"title": "开场", "items": [
            {"key": "greeting", "text": "问候语并报工号", "weight": 10,
             "guidance": "接通后说“您好，英冠酒店（工号）为您服务！”，工号清楚。"},
        ]},
        {"title": "身份核实", "items": [
            {"key": "verify", "text": "核实客户身份", "weight": 10, "allow_na": True,
             "guidance": "涉及订单、积分、退款时核对会员号或预订人姓名与手机后四位；单纯咨询不适用。"},
        ]},
        {"title": "需求分析", "items": [
            {"key": "needs", "text": "准确理解并复述客户需求", "kind": "scale", "max": 5, "weight": 20,
             "guidance": "5：主动追问入住日期、人数、预算并复述确认；3：基本理解；0：答非所问。"},
        ]},
        {"title": "解决方案", "items": [
            {"key": "solution", "text": "给出正确、完整的解决方案", "kind": "scale", "max": 5, "weight": 30,
             "guidance": "房价、政策、取消规则与知识库一致；无房时主动推荐其他门店或日期。"},
            {"key": "record", "text": "系统记录完整（订单/工单/小结）", "weight": 10},
        ]},
        {"title": "结束语", "items": [
            {"key": "closing", "text": "询问其他需求并使用结束语", "weight": 10,
             "guidance": "“请问您还有什么问题吗？”“谢谢来电，再见。”"},
        ]},
        {"title": "服务用语规范", "items": [
            {"key": "language", "text": "语气亲切、语速适中、使用服务用语", "kind": "scale", "max": 5, "weight": 10},
            {"key": "no_forbidden", "text": "未使用禁用语", "weight": 1, "auto_fail": True,
             "guidance": "禁用语如“不知道”“不归我管”“你自己看”“没办法”。出现任何一句整通记 0 分。"},
        ]},
    ],
}  # fmt: skip
GOOD = {
    "greeting": 1,
    "verify": 1,
    "needs": 5,
    "solution": 4,
    "record": 1,
    "closing": 1,
    "language": 5,
    "no_forbidden": 1,
}
FLOW = (
    # call id, minutes ago the call was, seconds, queue, where its evaluation stands
    ("demo-qa-1", 60 * 24 * 1, 212, "hotel", "assigned"),
    ("demo-qa-2", 60 * 24 * 2, 348, "hotel", "in_progress"),
    ("demo-qa-3", 60 * 24 * 3, 265, "travel", "scored"),
    ("demo-qa-4", 60 * 24 * 5, 1090, "hotel", "appealed"),
    ("demo-qa-5", 60 * 24 * 8, 190, "hotel", "acknowledged"),
    ("demo-qa-6", 60 * 24 * 9, 421, "travel", "changed"),
)


def _person(user_id: int, username: str, roles: tuple[str, ...], name: str) -> Actor:
    return Actor(user_id, username, frozenset(roles), permissions_for(set(roles)), name)


def _answers(**change: int | None) -> dict[str, AnswerIn]:
    values = {**GOOD, **change}
    return {key: AnswerIn(value=value, na=value is None) for key, value in values.items()}


async def score_recordings(ctx: Context) -> None:
    """The scores of the demo's evaluations on the demo's recordings, indexed after them (a real
    call is indexed seconds after hang-up, long before anyone scores it)."""
    async with ctx.write() as tx:
        scored = await tx.session.execute(
            select(Evaluation.call_id, Evaluation.agent_id, Evaluation.score).where(
                Evaluation.score.is_not(None)
            )
        )
        for call_id, agent_id, score in scored.all():
            await recordings.note_qa_score(
                tx.session, call_id, agent_id, None if score is None else float(score)
            )


async def load(ctx: Context) -> None:
    async with ctx.read() as session:
        if await session.scalar(select(Scorecard.id).limit(1)) is not None:
            return
    people = {p.username: p for p in (await directory.staff(ctx)).values()}
    if not {"qa", "agent1", "admin", "supervisor"} <= people.keys():
        return
    qa = ctx.as_actor(_person(people["qa"].id, "qa", ("qa",), people["qa"].name))
    admin = ctx.as_actor(_person(people["admin"].id, "admin", ("admin",), people["admin"].name))
    agent1 = ctx.as_actor(_person(people["agent1"].id, "agent1", ("agent",), people["agent1"].name))
    card = await scorecards.create(qa, ScorecardIn.model_validate(SERVICE_CARD))
    card = await scorecards.publish(qa, card.id)
    await plans.save(
        qa,
        PlanIn(name="每周服务抽检", scorecard_family=card.family, per_agent=5, evaluators=[people["qa"].id]),
    )
    now = utcnow()
    for call_id, ago, seconds, queue, stage in FLOW:
        made = await evaluations.assign(
            qa,
            EvaluationIn(
                call_id=call_id, agent_id=agent1.actor.user_id or 0, evaluator_id=people["qa"].id,
                scorecard_id=card.id, call_started_at=now - timedelta(minutes=ago), queue=queue, seconds=seconds,
            ),
        )  # fmt: skip
        if stage == "assigned":
            continue
        await evaluations.move(qa, made.id, EvaluationMoveIn(action="start"))
        await evaluations.comment(
            qa, made.id, CommentIn(text="开场问候清楚，报了工号。", at_second=3, item_key="greeting")
        )
        if stage == "in_progress":
            await evaluations.move(qa, made.id, EvaluationMoveIn(action="save", answers=_answers(needs=4)))
            continue
        if stage == "appealed":
            answers = _answers(verify=0, solution=2)
            coaching = "查询订单前先核对会员号或手机后四位；延迟退房规则请先查知识库。"
        elif stage == "changed":
            answers = _answers(no_forbidden=0)
            coaching = "注意服务用语：客户追问时不要说“没办法”。"
        else:
            answers, coaching = _answers(verify=None), "整体服务规范，继续保持。"
        await evaluations.comment(
            qa, made.id, CommentIn(text="此处停顿较长，可先致歉再查询。", at_second=96, internal=True)
        )
        await evaluations.move(
            qa, made.id, EvaluationMoveIn(action="submit", answers=answers, coaching=coaching)
        )
        if stage == "acknowledged":
            await evaluations.move(agent1, made.id, EvaluationMoveIn(action="acknowledge"), as_agent=True)
        elif stage in ("appealed", "changed"):
            reason = (
                "客户是老会员，来电号码已自动识别身份，无需再次核实。"
                if stage == "appealed"
                else "我说的是“没办法马上确认，稍后回电”，不是禁用语，请听第 2 分 05 秒。"
            )
            await evaluations.move(
                agent1, made.id, EvaluationMoveIn(action="appeal", reason=reason), as_agent=True
            )
        if stage == "changed":
            await evaluations.move(
                admin,
                made.id,
                EvaluationMoveIn(
                    action="change", answers=_answers(), reason="复听录音第 125 秒：原话为“没办法马上确认，稍后回电”，不属禁用语。"
                ),
            )  # fmt: skip
    meeting = await calibration.create(
        qa,
        CalibrationIn(
            title="11月校准：投诉来电", call_id="demo-qa-4", agent_id=agent1.actor.user_id,
            scorecard_id=card.id, evaluators=[people["qa"].id, people["admin"].id],
        ),
    )  # fmt: skip
    await calibration.submit(qa, meeting.id, CalibrationScoreIn(answers=_answers(verify=0, solution=2)))
    await calibration.submit(admin, meeting.id, CalibrationScoreIn(answers=_answers(verify=1, solution=3)))
    await calibration.close(qa, meeting.id)
    good = await library.add(
        qa,
        LibraryIn(
            call_id="demo-qa-5", agent_id=agent1.actor.user_id, kind="good", title="标准开场与预订复述",
            tags=["开场白", "预订"], note="开场、复述、结束语都是范例，可作新员工培训。",
        ),
    )  # fmt: skip
    bad = await library.add(
        qa,
        LibraryIn(
            call_id="demo-qa-4", agent_id=agent1.actor.user_id, kind="bad", title="未核实身份即查询订单",
            tags=["身份核实"], note="查询订单前须核对会员号或手机后四位。",
        ),
    )  # fmt: skip
    await library.save_playlist(
        qa, PlaylistIn(title="新员工入职：电话礼仪", topic="服务用语", entries=[good.id, bad.id])
    )
