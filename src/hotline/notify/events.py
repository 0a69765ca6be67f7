"""What notify tells the rest, and what its own templates may say: an SMS to a customer in a
conversation (an agent's reply, the confirmation of a TD/退订 opt-out); and that a conversation
moved, for the open lists and threads to reload."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from hotline.core.events import Event
from hotline.core.topics import register_topic


@register_topic
class ConversationNotice(Event):
    """An SMS sent in a conversation with a customer (notify.conversations)."""

    name = "notify.conversation"

    occasion: Literal["reply", "opted_out", "transcript", "chat_code"]
    ref: str = Field(description="conversation:<id>", examples=["conversation:1"])
    customer_id: int | None = Field(default=None, examples=[1])
    phone: str = Field(default="", description="客户号码", examples=["13800138000"])
    email: str = Field(default="", description="邮箱（不用）", examples=[""])
    customer_name: str = Field(
        default="", description="客户姓名（号码不在客户档案中时为空）", examples=["张伟"]
    )
    text: str = Field(
        default="",
        description="坐席回复的内容（聊天记录邮件：整段聊天记录）",
        examples=["您好，已为您改到明天入住。"],
    )
    code: str = Field(default="", description="在线客服的短信验证码", examples=["382910"])


class ConversationChanged(Event):
    """A conversation moved (a message in or out, linked, closed): pushed on the `conversations`
    feed for open lists and threads to reload (no personal data in it); not durable."""

    name: ClassVar[str] = "notify.conversation_changed"
    feed: ClassVar[str] = "conversations"
    conversation_id: int
    channel: str
    action: Literal["received", "replied", "linked", "closed", "typing", "read", "assigned", "transferred"]


class ChatWindowMoved(Event):
    """Something only a web chat visitor's window shows moved — an agent typing, an agent's thread
    showing their messages (已读): it wakes the window's long poll (chat_waits.py) without
    reloading every agent's list; not durable, on no feed."""

    name: ClassVar[str] = "notify.chat_window_moved"
    conversation_id: int
