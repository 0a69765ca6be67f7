"""Call scripts (D2): what to say, stage by stage, for each class of caller — seed 000's booking
call as shipped, edited by supervisors (knowledge.write). The desktop shows the script of the
caller on the line, with their name and title filled in."""

from __future__ import annotations

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.knowledge.models import CallScript
from hotline.knowledge.schemas import CallerClass, ScriptIn, ScriptOut, Stage

BOOKING = [
    ("订房需求", ["{name}{title}，请问您要预订哪里的客房呢？", "（问清城市或酒店名称；所选酒店满房时推荐同城其他分店）"]),  # noqa: E501
    ("入住人", ["请问是您本人入住还是帮朋友预订？", "（帮朋友预订：请客人提供入住者的姓名和联系电话）"]),
    ("到店时间", ["请问您（或您的朋友）预计什么时间到达酒店呢？",
              "由于房源比较紧张，我们会把您预订的房间保留到XX点，如果有情况变动，麻烦您及时通知我们。"]),
    ("其他联系方式", ["{name}{title}，除了您现在使用的电话外，能不能留一个其它的电话号码以方便我们及时与您联络？",  # noqa: E501
                "请问您留的电话哪一个比较容易找到您呢？"]),
    ("结束", ["您的预订已经受理，我们会尽快通知您的，谢谢来电，再见。"]),
]  # fmt: skip
SHIPPED: dict[str, list[tuple[str, list[str]]]] = {
    "known": BOOKING,
    "known_customer_new_number": [
        ("核实身份", ["您好，请问您的会员号码是多少？", "（不记得会员号：问全名，同名时核对生日或登记地址）"]),  # noqa: E501
        ("登记新号码", ["{name}{title}，您这次使用的电话从未在我们系统里登记过，请问您这个号码需要在我们系统里登记吗？"  # noqa: E501
                   "这样您下次用这个号码打过来，我们可以知道是您了。"]),
        *BOOKING,
    ],
    "unknown": [
        ("会员号", ["您好，请问您的会员号码是多少？"]),
        ("姓名", ["请问您的全名？", "（系统有同名客户时，根据生日或登记地址与客人核对）"]),
        ("建立档案", ["{title}，我们要先登记一下您的资料，以便能给您做预订服务，请您提供您的身份证号码、联系电话（手机、办公电话）、"  # noqa: E501
                  "电子邮件地址、住址等资料好吗？"]),
        *BOOKING,
    ],
}  # fmt: skip


def _shipped(caller_class: str) -> list[Stage]:
    return [Stage(title=title, lines=lines) for title, lines in SHIPPED[caller_class]]


async def get(ctx: Context, caller_class: CallerClass) -> ScriptOut:
    ctx.require(Permission.KNOWLEDGE_READ)
    async with ctx.read() as session:
        stored = await session.get(CallScript, caller_class)
    if stored is None:
        return ScriptOut(caller_class=caller_class, stages=_shipped(caller_class), shipped=True)
    return ScriptOut(
        caller_class=caller_class, stages=[Stage.model_validate(s) for s in stored.stages], shipped=False
    )


async def save(ctx: Context, caller_class: CallerClass, data: ScriptIn) -> ScriptOut:
    ctx.require(Permission.KNOWLEDGE_WRITE)
    stages = [s.model_dump() for s in data.stages]
    async with ctx.write() as tx:
        stored = await tx.session.get(CallScript, caller_class)
        if stored is None:
            tx.session.add(CallScript(caller_class=caller_class, stages=stages, updated_by=ctx.actor.user_id))
        else:
            stored.stages, stored.updated_by = stages, ctx.actor.user_id
    return await get(ctx, caller_class)
