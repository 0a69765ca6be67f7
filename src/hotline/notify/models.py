"""Notifications as stored: templates (versioned, approved), rules, the outbox of messages,
customers' opt-outs, the gateway settings, and conversations with customers (their SMS replies
and the agents' answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base
from hotline.core.privacy import Kind, personal


class Template(Audited, Base):
    """One version of a template. Editing makes a new draft version; a supervisor approves it and
    it goes live, the version before it retires. Every version is kept."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int]
    channel: Mapped[str] = mapped_column(String(8))
    """sms | email"""
    topic: Mapped[str] = mapped_column(String(40))
    """Whose variables it may use: hotels.reservation, crm.customer, …"""
    purpose: Mapped[str] = mapped_column(String(12), default="service")
    """service (transactional: always sent) | marketing (quiet hours and opt-outs apply)"""
    name: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    """draft | pending | live | retired | rejected"""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(300), default="")


class Rule(Audited, Base):
    """When to send which template: on an event (`hotels.reservation:confirmed`), or on a
    schedule relative to a date (`hotels.arrival`, 1 day before, at 17:00), with conditions."""

    __tablename__ = "message_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    template_code: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(60))
    """An event and occasion (`hotels.reservation:confirmed`) or a date source (`hotels.arrival`)"""
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """For date sources: {"days": -1, "at": "17:00", "timezone": "Asia/Shanghai"}"""
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Field → allowed values, e.g. {"tier": ["gold", "platinum"], "hotel_code": ["SH-BUND"]}"""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """One message to one recipient, a row before it is sent. The idempotency key — rule,
    recipient, object and occasion — is unique: a message is never queued twice."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_due", "status", "next_attempt_at"), Index("ix_messages_ref", "ref"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("message_rules.id", ondelete="SET NULL"))
    template_code: Mapped[str] = mapped_column(String(40))
    template_version: Mapped[int]
    purpose: Mapped[str] = mapped_column(String(12))
    ref: Mapped[str] = mapped_column(String(80), default="")
    """What it is about, e.g. reservation:60000001"""
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    """queued | sending | sent | delivered | failed | suppressed | unknown"""
    reason: Mapped[str] = mapped_column(String(300), default="")
    """Why it was held, suppressed or failed (quiet hours, opt-out, gateway error…)"""
    gateway: Mapped[str] = mapped_column(String(12), default="")
    gateway_ref: Mapped[str] = mapped_column(String(80), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class OptOut(Audited, Base):
    """A customer who asked for no marketing messages on a channel (service messages — the
    confirmation of their own booking — still go). A reply TD/退订 also keeps the number it came
    from (`address`, E.164): a number in no customer's file is opted out by itself, and marketing
    to that number is held back whoever's file it later lands in."""

    __tablename__ = "message_opt_outs"
    __table_args__ = (UniqueConstraint("customer_id", "channel"), UniqueConstraint("address", "channel"))
    __personal__ = personal(address=Kind.PHONE)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(254), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(String(200), default="")


class GatewaySetting(Audited, Base):
    """How a channel is delivered: `log` (kept and shown, for `make run`), `smtp`, `kannel`,
    `wechat` (an official account: its callbacks bring customers' messages, its API the answers)."""

    __tablename__ = "message_gateways"
    __audit_redact__ = frozenset(
        {"secret", "config.dlr_key", "config.mo_token", "config.token", "config.encoding_aes_key"}
    )

    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="log")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """host, port, username, sender, starttls (smtp); url, username, smsc, dlr_base (kannel)"""
    secret: Mapped[str] = mapped_column(String(200), default="")
    """The password; never sent back by the API."""


class StaffNotice(Base):
    """An in-app message to one member of staff (N5): a workflow step for them, a mention."""

    __tablename__ = "staff_notices"
    __table_args__ = (Index("ix_staff_notices_user", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    """approval | conflict | assignment | dispatch | sla | mention | …"""
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000), default="")
    link: Mapped[str] = mapped_column(String(200), default="")
    """Where it opens in the web UI, e.g. /reservations?number=60000001"""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class Conversation(Audited, Base):
    """A thread with one customer on one channel: their SMS replies, WeChat messages or web chat,
    and the agents' answers. One open conversation per channel and address; a message after it is
    closed opens a new one."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index(
            "uq_conversations_open", "channel", "address", unique=True,
            sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'"),
        ),
        Index("ix_conversations_listing", "status", "last_message_at"),
        Index("ix_conversations_created_at", "created_at"),
    )  # fmt: skip
    __personal__ = personal(address=Kind.PHONE)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    """sms | wechat | web"""
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    address: Mapped[str] = mapped_column(String(254))
    """The customer's number (E.164), or their id on the channel (OpenID, web visitor)"""
    status: Mapped[str] = mapped_column(String(8), default="open")
    """open | closed (conversations.CLOSE is the only move)"""
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    queue: Mapped[str | None] = mapped_column(String(64))
    """The ACD queue it waits in or was served from (contact/chat_desk.py); None until routed"""
    priority: Mapped[int] = mapped_column(default=0, server_default="0")
    """The customer's tier's priority, as a call's"""
    queued_at: Mapped[datetime | None]
    """When it entered its queue: its place in line (kept across transfers)"""
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    """The agent who has it now (None: waiting, or never routed)"""
    assigned_at: Mapped[datetime | None]
    first_assigned_at: Mapped[datetime | None]
    """When the ACD first gave it to an agent (a transfer keeps it): the end of its wait"""
    disposition: Mapped[str | None] = mapped_column(String(16))
    """The wrap-up the agent gave on closing: a call's disposition code (contact/chat_wrapup.py)"""
    wrap_note: Mapped[str] = mapped_column(String(300), default="", server_default="")


class ConversationMessage(Base):
    """One message of a conversation: in from the customer (with the gateway's id, unique, so a
    message the gateway delivers twice is kept once) or out from an agent or Hotline (with the
    outbox message that carries it)."""

    __tablename__ = "conversation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))
    """in | out"""
    body: Mapped[str] = mapped_column(Text)
    gateway_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    """The gateway's id of an incoming message, `kannel:<uuid>`"""
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    """The outbox message of an outgoing one"""
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatVisitor(Base):
    """Who is on the other side of a web chat (notify/webchat.py): what the pre-chat form said,
    where they came from, the hash of the token their browser holds, and the chat's live state
    (typing, read up to, the rating they gave at the end)."""

    __tablename__ = "chat_visitors"
    __personal__ = personal(phone=Kind.PHONE, email=Kind.EMAIL, verified_phone=Kind.PHONE)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the visitor's token: the token itself is only in their browser"""
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    topic: Mapped[str] = mapped_column(String(20), default="")
    """hotel | travel | complaint | other: what the pre-chat form's question was about"""
    site: Mapped[str] = mapped_column(String(80), default="")
    """Which site's widget: the site key of the script tag"""
    page: Mapped[str] = mapped_column(String(300), default="")
    """The page they started from"""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    visitor_read_id: Mapped[int] = mapped_column(default=0)
    """The last message the visitor's window showed (read receipts for the agent)"""
    agent_read_id: Mapped[int] = mapped_column(default=0)
    """The last message an agent's thread showed (read receipts for the visitor)"""
    visitor_typing_at: Mapped[datetime | None]
    agent_typing_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    """1–5 stars at the end"""
    rating_note: Mapped[str] = mapped_column(String(300), default="")
    ended_at: Mapped[datetime | None]
    # who the visitor proved to be (notify/chat_identity.py); the form's phone alone proves nothing
    verified_by: Mapped[str] = mapped_column(String(8), default="")
    """'' (not identified) | sms (a code sent to `verified_phone`) | member (the site's signed token)"""
    verified_phone: Mapped[str] = mapped_column(String(32), default="")
    member_id: Mapped[str] = mapped_column(String(64), default="")
    """The partner site's member id (`sub` of its token)"""
    verified_at: Mapped[datetime | None]


class ChatCode(Base):
    """An SMS code a web chat visitor asked for: only its hash is kept; valid 5 minutes, 5 wrong
    tries (notify/chat_identity.py). The rows of the last hour also cap the codes per number."""

    __tablename__ = "chat_codes"
    __table_args__ = (Index("ix_chat_codes_phone", "phone", "sent_at"),)
    __personal__ = personal(phone=Kind.PHONE)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(default=0)
    """Wrong codes given for it"""
    used_at: Mapped[datetime | None]


class ChatSite(Audited, Base):
    """A site that carries the chat widget (its `data-site` key), as an administrator set it up:
    the secret its member tokens are signed with (HS256) — never shown back, only whether set."""

    __tablename__ = "chat_sites"
    __audit_redact__ = frozenset({"member_secret"})

    site: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    member_secret: Mapped[str] = mapped_column(String(200), default="")


class ChatFile(Base):
    """The bytes of an image or PDF sent in a web chat, kept once however often it is sent (by
    SHA-256); `kind`, `media_type` and the size in pixels are what notify/filetypes.py read from
    the bytes, never what the sender declared (notify/chat_files.py)."""

    __tablename__ = "chat_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    """image | pdf"""
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationFile(Base):
    """A file a message of a web chat carries (one per message): the name it was sent under
    (shown, never used to decide its type) and the stored bytes."""

    __tablename__ = "conversation_files"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[int] = mapped_column(ForeignKey("chat_files.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))


class CannedPhrase(Audited, Base):
    """常用语 / 快捷回复: a phrase inserted with one click into a conversation's reply or a ticket's
    result or note (`used_in`), the one store of them (notify/canned.py). `{客户称呼}` becomes the
    customer's or visitor's name, `{number}` the ticket's number."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(String(1000))
    category: Mapped[str] = mapped_column(String(12), index=True)
    """greeting | booking | travel | complaint | closing | other"""
    used_in: Mapped[str] = mapped_column(String(13), default="conversations")
    """conversations | tickets | both"""
    ticket_type: Mapped[str] = mapped_column(String(32), default="")
    """Offered on tickets of this type only (its code; empty: on all)."""
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WeComCursor(Base):
    """How far the messages of one WeCom 客服账号 were read (`sync_msg`'s `next_cursor`): a
    restart, or a second node, goes on from here and reads nothing twice."""

    __tablename__ = "wecom_cursors"

    open_kfid: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(128), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeComContact(Base):
    """The 客服账号 a WeCom customer last wrote to: the one an agent's answer is sent from."""

    __tablename__ = "wecom_contacts"

    external_userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    open_kfid: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
