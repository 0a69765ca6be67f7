"""Tickets that arrive by themselves (T10, W2): voicemail messages from the contact event log,
e-mails when an IMAP inbox is configured, and the messages web visitors leave when no agent is
there to chat (issue 24, docs/channels.md).

Each item makes its ticket once: the ticket's unique `source_ref` (voicemail:<event id>,
email:<Message-ID>, web:<the visitor window's key>) is the guarantee; the sources read from a
cursor, which only saves re-reading.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import imaplib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr

import structlog
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.contact.calls import records
from hotline.core import privacy
from hotline.core.context import Context
from hotline.crm import directory as customers
from hotline.crm import service as crm
from hotline.tickets import commands
from hotline.tickets.models import IntakeCursor, Ticket
from hotline.tickets.schemas import LeaveMessageIn, MessageLeftOut, TicketIn

log = structlog.get_logger(__name__)
VOICEMAIL = re.compile(r"^\s*(?P<seconds>[0-9]+)\s*s:\s*(?P<path>.+?)\s*$")
COMPLAINT_WORDS = ("投诉", "complaint", "不满")


async def _cursor(ctx: Context, source: str) -> int:
    async with ctx.read() as session:
        row = await session.get(IntakeCursor, source)
        return row.position if row else 0


async def _advance(ctx: Context, source: str, position: int) -> None:
    async with ctx.write() as tx:
        row = await tx.session.get(IntakeCursor, source)
        if row is None:
            tx.session.add(IntakeCursor(source=source, position=position))
        elif position > row.position:
            row.position = position


async def _made(ctx: Context, source_ref: str) -> bool:
    return await _number_of(ctx, source_ref) is not None


async def _number_of(ctx: Context, source_ref: str) -> str | None:
    async with ctx.read() as session:
        return await session.scalar(select(Ticket.number).where(Ticket.source_ref == source_ref))


async def _create(ctx: Context, data: TicketIn, source_ref: str, attachment: str) -> bool:
    if await _made(ctx, source_ref):
        return False
    try:
        await commands.create(ctx, data, source_ref=source_ref, attachment=attachment, partial=True)
    except IntegrityError:  # another node made it meanwhile
        return False
    return True


async def voicemail(ctx: Context, *, batch: int = 200) -> int:
    """New voicemail lines of the contact event log become tickets with the recording attached:
    a complaint when the caller came through a complaint menu, else a callback (留言回电)."""
    after = await _cursor(ctx, "voicemail")
    made = 0
    for row in await records.voicemails(ctx, after=after, limit=batch):
        caller, dialled, path = row.caller, row.dialled, row.path
        match = VOICEMAIL.match(row.detail)
        seconds, recording = (match["seconds"], match["path"]) if match else ("?", row.detail)
        complaint = any("complaint" in node or "投诉" in node for node in path)
        customer_id = None
        if caller:
            found = await crm.identify_caller(ctx, caller)
            customer_id = found.customers[0].id if found.caller_class == "known" else None
        shown = privacy.mask_phone(caller) if caller else "未知号码"
        data = TicketIn(
            type_code="complaint" if complaint else "callback",
            # the title is free text seen on lists and timelines by every role: the number masked
            # (the ticket's phone field keeps it, shown as each role may see it)
            title=f"语音留言{'投诉' if complaint else '回电'} {shown}",
            content=f"{row.at:%Y-%m-%d %H:%M} 来电 {dialled} 留言 {seconds} 秒，请收听录音后回电。",
            customer_id=customer_id, phone=caller if caller and re.fullmatch(r"[+0-9 \-]*", caller) else "",
            call_id=row.call_id, source="voicemail",
        )  # fmt: skip
        if await _create(ctx, data, f"voicemail:{row.id}", recording):
            made += 1
        await _advance(ctx, "voicemail", row.id)
    return made


async def leave_message(ctx: Context, data: LeaveMessageIn) -> MessageLeftOut:
    """A web visitor's message, left when no agent was there to chat: a 留言回电 ticket from the web,
    the customer's when the phone is in a file; the same key again (a retry, a second click)
    answers the same ticket's number."""
    source_ref = f"web:{data.key}"
    made = await _number_of(ctx, source_ref)
    if made is not None:
        return MessageLeftOut(number=made)
    customer_id = None
    if data.phone:
        found = await crm.identify_caller(ctx, data.phone)
        customer_id = found.customers[0].id if found.caller_class == "known" else None
    phone = re.sub(r"[^+0-9]", "", data.phone)
    where = " ".join(part for part in (data.site, data.page) if part)
    ticket = TicketIn(
        type_code="callback", title=f"网站留言 {data.name}", customer_id=customer_id, contact_name=data.name,
        content=f"{data.text}\n\n（访客在网站留言{f'，来自 {where}' if where else ''}，请电话或邮件回复。）",
        phone=phone, email=data.email, source="web",
    )  # fmt: skip
    try:
        created = await commands.create(ctx, ticket, source_ref=source_ref, partial=True)
    except IntegrityError:  # the same key at the same moment: the other request made it
        made = await _number_of(ctx, source_ref)
        if made is None:
            raise
        return MessageLeftOut(number=made)
    return MessageLeftOut(number=created.number)


# ---------------------------------------------------------------- e-mail


@dataclass
class Mail:
    message_id: str
    sender_name: str
    sender: str
    subject: str
    body: str
    attachments: list[str] = field(default_factory=list)


def parse_mail(raw: bytes) -> Mail:
    """An RFC 822 message as the parts a ticket needs: sender, subject, the plain-text body (or
    the HTML's text), the attachments' file names; encoded words (=?UTF-8?B?…?=) decoded."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):
        raise ValueError("not an e-mail message")
    name, address = parseaddr(str(message.get("From", "")))
    body_part = message.get_body(preferencelist=("plain", "html"))
    body = body_part.get_content() if body_part is not None else ""
    if body_part is not None and body_part.get_content_type() == "text/html":
        body = re.sub(r"<[^>]+>", " ", body)
    attachments = [part.get_filename() or "attachment" for part in message.iter_attachments()]
    message_id = str(message.get("Message-ID", "")).strip() or f"<{hash(raw)}@no-id>"
    return Mail(
        message_id=message_id[:180], sender_name=name[:60], sender=address[:254],
        subject=str(message.get("Subject", "")).strip()[:120] or "（无主题）",
        body=re.sub(r"\n{3,}", "\n\n", body.strip())[:2000], attachments=attachments,
    )  # fmt: skip


async def ticket_from_mail(ctx: Context, raw: bytes) -> bool:
    """An e-mail becomes a ticket (a complaint when it says so), linked to the customer with that
    address; False if it was made already."""
    mail = parse_mail(raw)
    async with ctx.read() as session:
        customer_id = await customers.id_by_email(session, mail.sender)
    text = f"{mail.subject} {mail.body}".lower()
    complaint = any(word in text for word in COMPLAINT_WORDS)
    data = TicketIn(
        type_code="complaint" if complaint else "consultation", title=mail.subject, content=mail.body,
        customer_id=customer_id, contact_name=mail.sender_name, email=mail.sender, source="email",
    )  # fmt: skip
    return await _create(ctx, data, f"email:{mail.message_id}", "、".join(mail.attachments))


class ImapSettings(BaseSettings):
    """The optional inbox (W2): HOTLINE_TICKETS_IMAP_HOST, _PORT, _USER, _PASSWORD, _FOLDER, _SSL."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_TICKETS_IMAP_")
    host: str = ""
    port: int = 993
    user: str = ""
    password: str = ""
    folder: str = "INBOX"
    ssl: bool = True


def fetch_new(settings: ImapSettings, after_uid: int) -> list[tuple[int, bytes]]:
    """Messages with a UID above `after_uid` (blocking: run in a thread)."""
    client: imaplib.IMAP4 = (
        imaplib.IMAP4_SSL(settings.host, settings.port)
        if settings.ssl
        else imaplib.IMAP4(settings.host, settings.port)
    )
    try:
        client.login(settings.user, settings.password)
        client.select(settings.folder, readonly=True)
        _, found = client.uid("search", f"UID {after_uid + 1}:*")
        uids = [int(u) for u in (found[0] or b"").split() if int(u) > after_uid]
        messages = []
        for uid in uids[:100]:
            _, parts = client.uid("fetch", str(uid), "(RFC822)")
            for part in parts:
                if isinstance(part, tuple):
                    messages.append((uid, bytes(part[1])))
        return messages
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            log.warning("imap logout failed")


async def mailbox(ctx: Context, settings: ImapSettings | None = None) -> int:
    settings = settings or ImapSettings()
    if not settings.host:
        return 0
    after = await _cursor(ctx, "imap")
    messages = await asyncio.to_thread(fetch_new, settings, after)
    made = 0
    for uid, raw in messages:
        try:
            made += await ticket_from_mail(ctx, raw)
        except ValueError as exc:
            log.warning("e-mail not turned into a ticket", uid=uid, error=str(exc))
        await _advance(ctx, "imap", uid)
    return made
