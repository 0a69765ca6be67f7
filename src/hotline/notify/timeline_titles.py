"""How a customer's message is named on their timeline (crm's `timeline.add`): one wording for the
moment it arrives (conversations.py, webchat.py, chat_files.py) and for the catch-up after the
conversation is linked to the customer (conversation_timeline.py), so both write the same entry."""

from __future__ import annotations

CHANNEL_NAMES = {"sms": "短信", "wechat": "微信", "web": "在线客服", "wecom": "企业微信"}
FILE_LABELS = {"image": "图片", "pdf": "文件"}


def incoming(channel: str, file_kind: str | None = None) -> tuple[str, str]:
    """The timeline's kind and title of a message the customer sent on `channel` (with a file of
    `file_kind`, web chat)."""
    if channel == "web":
        return "chat", f"在线客服{FILE_LABELS[file_kind] if file_kind else '消息'}"
    if channel == "sms":
        return "sms", "短信回复"
    return channel, f"{CHANNEL_NAMES.get(channel, channel)}消息"
