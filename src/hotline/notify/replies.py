"""An agent's answer on a customer's channel — SMS, WeChat, WeCom — queued in the outbox with the
channel's reply template (`notify.reply.<channel>`): a text (conversations.reply) or a picture
(chat_files.agent_sends: its message carries the file, which the outbox hands to the gateway)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.context import Context
from hotline.core.errors import InvalidInput, InvalidTransition
from hotline.crm import directory as customers
from hotline.notify import defaults
from hotline.notify.events import ConversationNotice
from hotline.notify.models import Conversation, Message, WeComContact
from hotline.notify.outbox import enqueue, new_key

REPLY_TEMPLATES = {"sms": "notify.reply.sms", "wechat": "notify.reply.wechat", "wecom": "notify.reply.wecom"}


async def queue_answer(session: AsyncSession, conversation: Conversation, body: str, ctx: Context) -> Message:
    """The answer through the outbox, with the channel's reply template (`body` is its text)."""
    code = REPLY_TEMPLATES[conversation.channel]
    template = await defaults.installed(session, code)
    if template is None:
        raise InvalidInput(
            f"No live template {code}", field="body.body", reason="no-live-template",
            params={"template_code": code},
        )  # fmt: skip
    card = await customers.card(session, conversation.customer_id)
    values = ConversationNotice(
        occasion="reply", ref=f"conversation:{conversation.id}", customer_id=conversation.customer_id,
        phone=conversation.address, customer_name=card.name if card else "", text=body.strip(),
    ).model_dump()  # fmt: skip
    recipient = conversation.address
    if conversation.channel == "wecom":  # sent from the 客服账号 the customer last wrote to
        contact = await session.get(WeComContact, conversation.address)
        recipient = f"{contact.open_kfid if contact else ''}:{conversation.address}"
    sent = await enqueue(
        session, key=new_key(f"reply:{conversation.id}"), template=template, values=values,
        recipient=recipient, customer_id=conversation.customer_id, ref=values["ref"],
        created_by=ctx.actor.user_id,
    )  # fmt: skip
    if sent is None:  # a fresh random key is never seen before
        raise InvalidTransition("The message was queued already", reason="message-was-queued-already")
    return sent
