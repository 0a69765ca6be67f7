"""Demo conversations (ARCHITECTURE.md demo conventions): 张伟 answered his booking
confirmation by SMS and agent1 replied; another number replied TD and is opted out; a WeChat
follower of the hotel's official account, not yet linked to a customer, asks about a room and
waits for an answer; a visitor of the hotels' site asks in the web chat about a family room."""

from __future__ import annotations

from sqlalchemy import select

from hotline.admin import auth
from hotline.admin.models import User
from hotline.core.context import Context
from hotline.notify import conversations, webchat
from hotline.notify.models import ConversationMessage
from hotline.notify.schemas import ChatStartIn

ZHANG = "13800138000"
ZHANG_ASKS = "收到，谢谢！请问可以加一张婴儿床吗？"
AGENT_ANSWERS = "张先生您好，已为您备注加婴儿床，免费提供，入住时前台会为您准备好。"
OPTED_OUT = "13700137000"
"""A number in no customer's file that replied TD to a greeting"""
WECHAT_FOLLOWER = "oHtlDemo_WeChatFollower_0001"
"""The demo WeChat customer's OpenID (28 characters, like WeChat's)"""
WEB_SITE = "yingguan-hotels"
"""The site key of the demo's widget (docs/channels.md shows its script tag)"""
WECHAT_ASKS = "你好，请问上海店这个周六还有大床房吗？大概几点可以入住？"


async def load(ctx: Context) -> None:
    """Idempotent: each incoming message has a fixed gateway id."""
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
    await conversations.receive(
        ctx, conversations.Incoming(WECHAT_FOLLOWER, WECHAT_ASKS, "demo:3", channel="wechat")
    )
    await webchat.start(ctx, ChatStartIn(
        name="刘女士", topic="hotel", site=WEB_SITE, page="https://www.yingguan-hotels.cn/shanghai-bund",
        text="你好，下个月带两个孩子去上海，外滩店有亲子房吗？含早餐吗？",
    ))  # fmt: skip
