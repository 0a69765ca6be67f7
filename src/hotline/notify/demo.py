"""Demo conversations (ARCHITECTURE.md demo conventions): 张伟 answered his booking
confirmation by SMS and agent1 replied; another number replied TD and is opted out; a WeChat
follower of the hotel's official account, not yet linked to a customer, sends a photo of a room,
asks about it and waits for an answer; a company's travel manager asks the hotels' 微信客服
(WeCom) about a group rate after sending the group's list (chat_media_demo.py); a visitor of the
hotels' site asks in the web chat about a family room and sends a photo of the room she saw
(chat_files.py) — that site accepts member tokens signed with `WEB_MEMBER_SECRET`; the canned
phrases (常用语) agents answer chats with (two offered on tickets too); three weeks of closed
conversations with their wrap-ups and ratings for the chat report (notify/chat_demo.py)."""

from __future__ import annotations

import struct
import zlib

from sqlalchemy import select

from hotline.admin import auth
from hotline.admin.models import User
from hotline.core.context import Actor, Context
from hotline.notify import (
    canned,
    chat_demo,
    chat_files,
    chat_identity,
    chat_media_demo,
    conversations,
    webchat,
    wecom_channel,
)
from hotline.notify.chat_identity_schemas import ChatSiteIn
from hotline.notify.models import ConversationMessage
from hotline.notify.schemas import ChatStartIn
from hotline.notify.wecom import FROM_CUSTOMER, KfMessage

ZHANG = "13800138000"
ZHANG_ASKS = "收到，谢谢！请问可以加一张婴儿床吗？"
AGENT_ANSWERS = "张先生您好，已为您备注加婴儿床，免费提供，入住时前台会为您准备好。"
OPTED_OUT = "13700137000"
"""A number in no customer's file that replied TD to a greeting"""
WECHAT_FOLLOWER = "oHtlDemo_WeChatFollower_0001"
"""The demo WeChat customer's OpenID (28 characters, like WeChat's)"""
WECOM_CUSTOMER = "wmHtlDemo_WeComCustomer_TravelMgr"
"""The demo WeCom customer's external_userid (no run of digits: the personal-data walk reads those
as phones), and the 客服账号 they wrote to"""
WECOM_KF = "wkHtlDemo_Yingguan_Service_00001"
WECOM_ASKS = "您好，我们公司下周在杭州开会，想订 12 间房，有协议价吗？"
WEB_SITE = "yingguan-hotels"
"""The site key of the demo's widget (docs/channels.md shows its script tag)"""
WEB_MEMBER_SECRET = "demo-only-yingguan-hotels-member-token-secret-2026"  # noqa: S105 - demo only, documented
"""The demo site's member-token secret (HS256), so docs/channels.md can sign a member token; a
real site's is set by an administrator and never shown back"""
WECHAT_ASKS = "你好，请问上海店这个周六还有大床房吗？大概几点可以入住？"
CANNED = [
    (
        "greeting",
        "开场问候",
        "{客户称呼}您好，这里是英冠酒店旅游服务中心，很高兴为您服务，请问有什么可以帮您？",
    ),
    ("greeting", "稍等片刻", "{客户称呼}请稍等，我马上为您查询，大约需要一两分钟。"),
    (
        "booking",
        "入住退房时间",
        "我们各门店的入住时间为当天14:00以后，退房时间为次日12:00以前；如需提前入住或延迟退房，可为您备注，视当天房态安排。",
    ),
    (
        "booking",
        "预订需要的信息",
        "为您预订需要以下信息：入住门店、入住和离店日期、房型及间数、入住人姓名和手机号码。",
    ),
    ("booking", "取消政策", "预订可在入住日前一天18:00前免费取消；之后取消或未入住，将收取首晚房费。"),
    (
        "travel",
        "旅游线路咨询",
        "我们有多条精选线路，可按出发日期、人数和预算为您推荐；方便留下您的手机号码，由旅游顾问给您回电吗？",
    ),
    (
        "travel",
        "出行证件提醒",
        "出行前请确认身份证件在有效期内；出境线路需护照有效期在6个月以上，并按要求办理签证。",
    ),
    (
        "complaint",
        "致歉并记录",
        "{客户称呼}非常抱歉给您带来不便，您反映的问题我已详细记录，将转交相关部门处理，并在24小时内给您答复。",
    ),
    ("complaint", "处理进度", "您的问题正在处理中，我们已安排专人跟进，有进展会第一时间通知您。"),
    ("closing", "结束语", "感谢您的咨询，祝您生活愉快！如有其他问题，欢迎随时联系我们。"),
]
"""(category, title, text): the demo's 常用语, in each category's order"""
FOR_BOTH = {"处理进度", "结束语"}
"""Phrases offered on tickets too (the ticket's result told to the customer)."""


async def load(ctx: Context) -> None:
    """Idempotent: each incoming message has a fixed gateway id."""
    await _canned(ctx)
    if not any(site.site == WEB_SITE for site in await chat_identity.sites(ctx)):
        site = ChatSiteIn(name="英冠酒店官网", member_secret=WEB_MEMBER_SECRET)
        await chat_identity.set_site(ctx, WEB_SITE, site)
    async with ctx.read() as session:
        agents = (
            await session.scalars(select(User.id).where(User.username.like("agent%")).order_by(User.username))
        ).all()
    await chat_demo.load(ctx, list(agents), ctx.settings.default_timezone)
    async with ctx.read() as session:
        if await session.scalar(
            select(ConversationMessage.id).where(ConversationMessage.gateway_id == "demo:1")
        ):
            return
        agent = await session.scalar(select(User).where(User.username == "agent1"))
    asked = await conversations.receive(ctx, conversations.Incoming(ZHANG, ZHANG_ASKS, "demo:1"))
    if agent is not None:
        await conversations.reply(
            ctx.as_actor(auth.actor_of(agent, "cli")), asked.conversation_id, AGENT_ANSWERS
        )
    await conversations.receive(ctx, conversations.Incoming(OPTED_OUT, "TD", "demo:2"))
    # the WeChat follower's photo and the WeCom manager's files come first, their questions last
    await chat_media_demo.load(ctx, WECHAT_FOLLOWER, demo_png(200, 150), WECOM_CUSTOMER, WECOM_KF)
    await conversations.receive(
        ctx, conversations.Incoming(WECHAT_FOLLOWER, WECHAT_ASKS, "demo:3", channel="wechat")
    )
    await wecom_channel.store(ctx, KfMessage(
        "demo:4", WECOM_KF, WECOM_CUSTOMER, 0, FROM_CUSTOMER, "text", WECOM_ASKS,
    ))  # fmt: skip
    started = await webchat.start(ctx, ChatStartIn(
        name="刘女士", topic="hotel", site=WEB_SITE, page="https://www.yingguan-hotels.cn/shanghai-bund",
        text="你好，下个月带两个孩子去上海，外滩店有亲子房吗？含早餐吗？",
    ))  # fmt: skip
    visitor = ctx.as_actor(Actor.system("notify:web"))
    await chat_files.visitor_sends(
        visitor, started.token, chat_files.Upload("网上看到的房间.png", demo_png())
    )


def demo_png(width: int = 240, height: int = 160) -> bytes:
    """A small picture for the demo chat (a sky over a river at dusk), made without an imaging
    library: a PNG is a signature and three chunks."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # no filter
        for x in range(width):
            river = y > height * 2 // 3
            rows += (
                bytes((40 + x // 4, 60 + y // 3, 150 - y // 2)) if not river else bytes((20, 40 + x // 8, 90))
            )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows)))
    return png + chunk(b"IEND", b"")


async def _canned(ctx: Context) -> None:
    """The phrases, once: none is added again by a later load (an editor's changes stay)."""
    phrases = [canned.Starting(category, title, text, "both" if title in FOR_BOTH else "conversations")
               for category, title, text in CANNED]  # fmt: skip
    async with ctx.write() as tx:
        await canned.add_defaults(tx.session, "conversations", phrases)
