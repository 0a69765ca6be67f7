"""Message templates (N1): `{{variable}}` placeholders from the template's topic, checked when
saved; SMS length and segments (GSM-7 160/153, UCS-2 — any Chinese — 70/67); the 【signature】
an SMS must carry; versions, and a supervisor's approval before a version goes live."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core import topics
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.notify import inbox
from hotline.notify.models import Template
from hotline.notify.schemas import Preview, TemplateIn, TemplateOut

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SIGNATURE = re.compile(r"^【[^】]{2,12}】|【[^】]{2,12}】$")
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")
MAX_SMS_SEGMENTS = 6


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def render(text: str, values: dict[str, Any]) -> str:
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), text)


def segments(text: str) -> tuple[str, int, int]:
    """(encoding, characters, segments) of an SMS as the network counts them."""
    if all(c in GSM7 or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        return "GSM-7", units, 1 if units <= 160 else -(-units // 153)
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)  # UTF-16 code units
    return "UCS-2", units, 1 if units <= 70 else -(-units // 67)


def check(data: TemplateIn) -> None:
    """Every variable must be the topic's; an SMS carries its signature and fits six segments."""
    if data.topic not in topics.TOPICS:
        raise InvalidInput(
            f"Unknown topic {data.topic}",
            field="body.topic",
            reason="unknown-topic",
            params={"topic": data.topic},
        )
    known = topics.variables(data.topic)
    for field in ("subject", "body", "html"):
        for name in placeholders(getattr(data, field)):
            if name not in known:
                raise InvalidInput(
                    f"{{{{{name}}}}} is not a variable of {data.topic}",
                    field=f"body.{field}",
                    reason="not-variable",
                    params={"name": name, "topic": data.topic},
                )
    if data.channel in ("wechat", "wecom") and (data.subject or data.html):
        raise InvalidInput(
            "A WeChat message has no subject or HTML",
            field="body.subject" if data.subject else "body.html",
            reason="wechat-no-subject-html",
        )
    if data.channel == "sms":
        if data.subject or data.html:
            raise InvalidInput(
                "An SMS has no subject or HTML",
                field="body.subject" if data.subject else "body.html",
                reason="sms-no-subject-html",
            )
        if not SIGNATURE.search(data.body.strip()):
            raise InvalidInput(
                "An SMS starts or ends with its signature, e.g. 【英冠酒店】",
                field="body.body",
                reason="sms-starts-ends-signature-e",
            )
        _, _, parts = segments(render(data.body, topics.sample(data.topic)))
        if parts > MAX_SMS_SEGMENTS:
            raise InvalidInput(
                f"{parts} segments with the sample data: at most {MAX_SMS_SEGMENTS}",
                field="body.body",
                reason="segments-sample-data-most",
                params={"parts": parts, "max_sms_segments": MAX_SMS_SEGMENTS},
            )
    elif not data.subject:
        raise InvalidInput("An e-mail needs a subject", field="body.subject", reason="e-mail-needs-subject")


def preview(topic: str, channel: str, subject: str, body: str, html: str) -> Preview:
    values = topics.sample(topic)
    text = render(body, values)
    encoding, characters, parts = segments(text) if channel == "sms" else ("", len(text), 0)
    return Preview(subject=render(subject, values), body=text, html=render(html, values), encoding=encoding,
                   characters=characters, segments=parts)  # fmt: skip


async def save(ctx: Context, data: TemplateIn) -> TemplateOut:
    """A new draft version of the template `code` (version 1 if it is new)."""
    ctx.require(Permission.TEMPLATES_WRITE)
    check(data)
    async with ctx.write() as tx:
        latest = await tx.session.scalar(select(func.max(Template.version)).where(Template.code == data.code))
        if latest is not None:
            first = await tx.session.scalar(
                select(Template).where(Template.code == data.code, Template.version == 1)
            )
            if first is not None and (first.channel, first.topic) != (data.channel, data.topic):
                raise InvalidInput(
                    "A template keeps its channel and topic; make a new code",
                    field="body.channel",
                    reason="template-keeps-channel-topic-make",
                )
        row = Template(**data.model_dump(), version=(latest or 0) + 1, status="pending",
                       created_by=ctx.actor.user_id)  # fmt: skip
        tx.session.add(row)
        await tx.session.flush()
        approvers = [
            u
            for u in await directory.holders_of(tx.session, Permission.TEMPLATES_APPROVE)
            if u != ctx.actor.user_id
        ]
        await inbox.tell(tx, approvers, "approval", f"模板待审批：{row.name} v{row.version}",
                         body=row.body[:200], link="/messages")  # fmt: skip
        return TemplateOut.model_validate(row)


async def decide(ctx: Context, template_id: int, approve: bool, note: str = "") -> TemplateOut:
    """A supervisor approves a pending version (it goes live; the live one retires) or rejects it.
    Whoever wrote a version cannot approve it."""
    ctx.require(Permission.TEMPLATES_APPROVE)
    async with ctx.write() as tx:
        row = await tx.session.get(Template, template_id, with_for_update=True)
        if row is None:
            raise NotFound(
                f"No template version {template_id}",
                field="template_id",
                reason="no-template-version",
                params={"template_id": template_id},
            )
        if row.status != "pending":
            raise InvalidTransition(
                f"This version is {row.status}, not waiting for approval",
                reason="version-not-waiting-approval",
                params={"status": row.status},
            )
        if row.created_by is not None and row.created_by == ctx.actor.user_id:
            raise InvalidTransition(
                "A template is approved by someone other than its author",
                reason="template-approved-someone-other-author",
            )
        if approve:
            current = select(Template).where(Template.code == row.code, Template.status == "live")
            for old in (await tx.session.scalars(current)).all():
                old.status = "retired"
        row.status = "live" if approve else "rejected"
        row.approved_by, row.approved_at, row.note = ctx.actor.user_id, utcnow(), note[:300]
        await tx.session.flush()
        if row.created_by is not None:
            verdict = "已批准，已生效" if approve else "被驳回"
            await inbox.tell(tx, [row.created_by], "approval", f"模板{verdict}：{row.name} v{row.version}",
                             body=note, link="/messages")  # fmt: skip
        return TemplateOut.model_validate(row)


async def listing(ctx: Context) -> list[TemplateOut]:
    ctx.require(Permission.MESSAGES_SEND)
    async with ctx.read() as session:
        rows = (
            await session.scalars(select(Template).order_by(Template.code, Template.version.desc()))
        ).all()
        return [TemplateOut.model_validate(r) for r in rows]


async def live(session: AsyncSession, code: str) -> Template | None:
    """The version of `code` that is live, if any."""
    return await session.scalar(select(Template).where(Template.code == code, Template.status == "live"))
