"""Demo outbound work: a running return-visit campaign after hotel stays, its numbers shared between
agent1 and agent2 (the demo customer 张伟 among them, linked to his file), a draft marketing
campaign for spring routes with consent on every number, one opt-out on the do-not-call list, the
survey-by-SMS template, and earlier return visits' answers by phone and SMS link."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.crm import directory as crm
from hotline.notify import defaults as notify_defaults
from hotline.outbound import assignment, campaigns, feeds
from hotline.outbound.events import TEMPLATES
from hotline.outbound.models import Campaign, DoNotCall, SurveyResponse, Target
from hotline.outbound.rules import normalise
from hotline.outbound.schemas import CampaignIn, Question, StatusIn, TargetAssignIn

RETURN_SCRIPT = (
    "{姓名}您好，我是英冠酒店的客服，感谢您入住我们{酒店}（{离店日期}离店）。"
    "想占用您一分钟，听听您对这次入住的感受：房间、早餐和前台服务您还满意吗？有什么需要我们改进的地方？"
)
GUESTS = (
    ("13800138000", "张伟", "杭州西湖店"),
    ("13912345678", "李娜", "杭州西湖店"),
    ("13711112222", "王芳", "上海外滩店"),
    ("13622223333", "刘洋", "上海外滩店"),
    ("13533334444", "陈静", "杭州西湖店"),
    ("13344445555", "杨磊", "北京王府井店"),
    ("18955556666", "赵敏", "北京王府井店"),
    ("18866667777", "黄强", "上海外滩店"),
    ("15977778888", "周婷", "杭州西湖店"),
    ("15888889999", "吴昊", "北京王府井店"),
)
PROSPECTS = (
    ("13012340001", "郑浩", "云南6日"),
    ("13112340002", "孙悦", "桂林4日"),
    ("13212340003", "马超", "九寨沟5日"),
    ("15012340004", "朱琳", "三亚5日"),
    ("15112340005", "胡杰", "云南6日"),
    ("15212340006", "林娟", "桂林4日"),
)
OPT_OUT = "13500135000"


async def load(ctx: Context) -> None:
    async with ctx.read() as session:
        if await session.scalar(select(Campaign.id).where(Campaign.code == "stay-return")):
            return
    people = {p.username: p.id for p in (await directory.staff(ctx)).values()}
    returns = await campaigns.save(
        ctx,
        CampaignIn(
            code="stay-return",
            name="离店回访",
            kind="service",
            purpose="return_visit",
            mode="preview",
            window_start="09:00",
            window_end="20:30",
            script=RETURN_SCRIPT,
            questionnaire=[
                Question(key="overall", text="您对这次入住总体满意吗？（1–5 分）", type="score"),
                Question(key="again", text="下次来还会选择我们吗？", type="yes_no"),
                Question(
                    key="liked",
                    text="您最满意的是哪些方面？（可多选）",
                    type="choices",
                    choices=["房间", "早餐", "前台服务", "位置交通"],
                    required=False,
                ),
                Question(key="advice", text="有什么需要我们改进的地方？", type="text", required=False),
            ],
            agent_ids=[people["agent1"], people["agent2"]],
        ),
    )
    spring = await campaigns.save(
        ctx,
        CampaignIn(
            code="spring-routes",
            name="春季线路推广",
            kind="marketing",
            purpose="marketing",
            mode="predictive",
            starts_on=feeds.today(),
            ends_on=feeds.today() + timedelta(days=30),
            agent_ids=[people["agent3"], people["agent4"], people["agent5"]],
        ),
    )
    today = utcnow()
    async with ctx.write() as tx:
        owners = await crm.cards_by_phone(tx.session, [_e164(n) for n, _, _ in GUESTS])
        for n, (number, name, hotel) in enumerate(GUESTS):
            phone = _e164(number)
            left = (today - timedelta(days=1 + n % 3)).date().isoformat()
            tx.session.add(
                Target(
                    campaign_id=returns.id,
                    phone=phone,
                    name=name,
                    customer_id=_owner(owners, phone),
                    fields={"酒店": hotel, "离店日期": left},
                )
            )
        consent = datetime(2026, 3, 1, 10, 0, tzinfo=today.tzinfo)
        for number, name, route in PROSPECTS:
            tx.session.add(
                Target(
                    campaign_id=spring.id,
                    phone=_e164(number),
                    name=name,
                    consent_source="官网注册",
                    consent_at=consent,
                    fields={"意向线路": route},
                )
            )
        tx.session.add(DoNotCall(phone=_e164(OPT_OUT), source="opt-out", note="客户来电要求不再推销"))
    await assignment.assign(ctx, returns.id, TargetAssignIn(how="evenly"))
    await campaigns.set_status(ctx, returns.id, StatusIn(status="running"))
    await notify_defaults.load(ctx, TEMPLATES, ())
    await _past_surveys(ctx, returns.id, people)


PAST_SURVEYS = (
    # channel, agent, hotel, days ago, score, again, liked, advice
    ("phone", "agent1", "杭州西湖店", 6, 5, True, ["房间", "早餐"], ""),
    ("phone", "agent1", "上海外滩店", 5, 4, True, ["位置交通"], "早餐品种可以再多一些"),
    ("phone", "agent2", "北京王府井店", 4, 3, False, ["位置交通"], "隔音一般，晚上有点吵"),
    ("sms", "agent2", "杭州西湖店", 3, 5, True, ["前台服务", "房间"], ""),
    ("sms", "agent1", "上海外滩店", 2, 4, True, ["早餐"], "停车位偏少"),
)


async def _past_surveys(ctx: Context, campaign_id: int, people: dict[str, int]) -> None:
    """Earlier return visits' answers, by phone and by SMS link, for the reports and 活动详情."""
    now = utcnow()
    async with ctx.write() as tx:
        for n, (channel, agent, hotel, days, score, again, liked, advice) in enumerate(PAST_SURVEYS):
            answers = {"overall": score, "again": again, "liked": liked} | (
                {"advice": advice} if advice else {}
            )
            tx.session.add(
                SurveyResponse(
                    source=f"demo:{n}", at=now - timedelta(days=days), channel=channel,
                    campaign_id=campaign_id, agent_id=people[agent], hotel=hotel, score=score,
                    answers=answers,
                )
            )  # fmt: skip


def _e164(number: str) -> str:
    found = normalise(number).e164
    if found is None:  # the demo's own numbers are all valid
        raise ValueError(number)
    return found


def _owner(owners: dict[str, crm.Card], phone: str) -> int | None:
    card = owners.get(phone)
    return card.id if card else None
