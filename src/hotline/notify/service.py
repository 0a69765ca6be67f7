"""Notifications for people: the outbox as a list, sending a template to a customer by hand
(N3), opt-outs, gateway settings (secrets never shown back), delivery reports, resending."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core import topics
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context
from hotline.core.errors import InvalidInput, InvalidTransition, NotFound
from hotline.core.events import Event
from hotline.core.permissions import Permission
from hotline.crm import directory as customers
from hotline.crm import timeline
from hotline.notify import gateways, wecom_settings
from hotline.notify.models import GatewaySetting, Message, OptOut
from hotline.notify.outbox import enqueue, new_key, quiet_until, sms_address, valid_recipient
from hotline.notify.schemas import (
    BulkIn,
    BulkOut,
    GatewayIn,
    GatewayOut,
    MessageOut,
    OptOutIn,
    ReportRow,
    SendIn,
)
from hotline.notify.templates import live

CHINA = ZoneInfo("Asia/Shanghai")
SMTP_KEYS = {"host", "port", "username", "sender", "sender_name", "starttls", "tls", "timeout", "ca_file"}
KANNEL_KEYS = {"url", "username", "sender", "smsc", "dlr_base", "timeout", "mo_token"}
WECHAT_KEYS = {"app_id", "account", "token", "encoding_aes_key", "api_base", "timeout"}
HIDDEN_KEYS = {"dlr_key", "mo_token", "token", "encoding_aes_key"}
"""Kept in the gateway's settings, never shown back: the delivery reports' HMAC key, the token
Kannel's `sms-service` sends with a customer's reply, a WeChat account's callback Token and
EncodingAESKey. All but the first are kept when a change of the settings leaves them out."""
CHANNEL_KINDS = {"sms": {"log", "kannel"}, "email": {"log", "smtp"}, "wechat": {"log", "wechat"},
                 "wecom": {"log", "wecom"}}  # fmt: skip
GATEWAY_CHANNELS = tuple(CHANNEL_KINDS)


async def messages(
    ctx: Context, *, status: str | None = None, ref: str | None = None, customer_id: int | None = None,
    limit: int = 100,
) -> list[MessageOut]:  # fmt: skip
    """The outbox, newest first; the messages of one customer or object for agents."""
    if customer_id is None and ref is None:
        ctx.require(Permission.MESSAGES_READ)
    else:
        ctx.require(Permission.MESSAGES_SEND)
    query = select(Message).order_by(Message.id.desc()).limit(limit)
    if status:
        query = query.where(Message.status == status)
    if ref:
        query = query.where(Message.ref == ref)
    if customer_id:
        query = query.where(Message.customer_id == customer_id)
    async with ctx.read() as session:
        return [MessageOut.model_validate(m) for m in (await session.scalars(query)).all()]


async def send(ctx: Context, data: SendIn) -> MessageOut:
    """Send a live template to a customer now (their preferred phone or e-mail)."""
    ctx.require(Permission.MESSAGES_SEND)
    async with ctx.write() as tx:
        notice = await customers.notice(tx.session, data.customer_id, "manual")
        if notice is None:
            raise NotFound(
                f"No customer {data.customer_id}",
                field="body.customer_id",
                reason="no-customer",
                params={"customer_id": data.customer_id},
            )
        template = await live(tx.session, data.template_code)
        if template is None:
            raise InvalidInput(
                f"No live template {data.template_code}",
                field="body.template_code",
                reason="no-live-template",
                params={"template_code": data.template_code},
            )
        if template.topic != "crm.customer":
            raise InvalidInput(
                "Only templates about a customer are sent by hand",
                field="body.template_code",
                reason="templates-about-customer-sent-hand",
            )
        recipient = notice.phone if template.channel == "sms" else notice.email
        if not recipient or not valid_recipient(template.channel, recipient):
            what = "phone" if template.channel == "sms" else "e-mail"
            raise InvalidInput(
                f"The customer has no valid {what}",
                field="body.customer_id",
                reason="customer-no-valid",
                params={"what": what},
            )
        values: dict[str, Any] = {**data.values, **notice.model_dump()}
        message = await enqueue(
            tx.session, key=new_key(f"manual:{data.customer_id}"), template=template, values=values,
            recipient=recipient, customer_id=data.customer_id, ref=notice.ref, created_by=ctx.actor.user_id,
        )  # fmt: skip
        if message is None:  # a fresh random key is never seen before
            raise InvalidTransition("The message was queued already", reason="message-was-queued-already")
        sent = MessageOut.model_validate(message)
    channel = "短信" if sent.channel == "sms" else "邮件"
    await timeline.add(
        ctx.as_actor(Actor.system("notify")), sent.customer_id or data.customer_id, "message",
        f"{channel}：{template.name}", ref=f"message:{sent.id}", detail=sent.body[:200], by=ctx.actor.user_id,
    )  # fmt: skip
    return sent


async def send_notice(ctx: Context, template_code: str, notice: Event, *, ref: str) -> MessageOut:
    """Send a live template about an object (a reservation's confirmation…) again, by hand, to the
    recipient the notice names: the guest's phone or the booker's e-mail."""
    ctx.require(Permission.MESSAGES_SEND)
    values = notice.model_dump()
    async with ctx.write() as tx:
        template = await live(tx.session, template_code)
        if template is None:
            raise InvalidInput(
                f"No live template {template_code}",
                field="body.channel",
                reason="no-live-template",
                params={"template_code": template_code},
            )
        recipient = str(values.get(topics.RECIPIENT_FIELDS[template.channel]) or "")
        if not recipient or not valid_recipient(template.channel, recipient):
            what = "phone" if template.channel == "sms" else "e-mail"
            raise InvalidInput(
                f"There is no valid {what} to send to",
                field="body.channel",
                reason="no-sms-recipient" if template.channel == "sms" else "no-email-recipient",
            )
        message = await enqueue(
            tx.session, key=new_key(f"manual:{ref}"), template=template, values=values, recipient=recipient,
            customer_id=values.get("customer_id"), ref=ref, created_by=ctx.actor.user_id,
        )  # fmt: skip
        if message is None:
            raise InvalidTransition("The message was queued already", reason="message-queued-already")
        tx.audit("notify.sent_by_hand", "message", message.id, after={"template": template_code, "ref": ref})
        return MessageOut.model_validate(message)


async def resend(ctx: Context, message_id: int) -> MessageOut:
    """Queue again a message that failed or whose hand-over was interrupted (`unknown`), after a
    person checked the gateway."""
    ctx.require(Permission.MESSAGES_READ)
    async with ctx.write() as tx:
        message = await tx.session.get(Message, message_id, with_for_update=True)
        if message is None:
            raise NotFound(
                f"No message {message_id}",
                field="message_id",
                reason="no-message",
                params={"message_id": message_id},
            )
        if message.status not in ("failed", "unknown"):
            raise InvalidTransition(
                f"A {message.status} message is not sent again",
                reason="message-not-sent-again",
                params={"status": message.status},
            )
        message.status, message.next_attempt_at = "queued", utcnow()
        message.reason = f"resent by {ctx.actor.username}"
        await tx.session.flush()
        return MessageOut.model_validate(message)


async def set_opt_out(ctx: Context, customer_id: int, data: OptOutIn) -> list[str]:
    """A customer asks for no (or again for) marketing messages on a channel; returns the
    channels opted out."""
    ctx.require(Permission.CUSTOMERS_WRITE)
    async with ctx.write() as tx:
        if await customers.card(tx.session, customer_id) is None:
            raise NotFound(
                f"No customer {customer_id}",
                field="customer_id",
                reason="no-customer",
                params={"customer_id": customer_id},
            )
        if data.opted_out:
            await opt_out(tx.session, data.channel, customer_id=customer_id, note=data.note)
        else:
            found = await tx.session.scalar(
                select(OptOut).where(OptOut.customer_id == customer_id, OptOut.channel == data.channel)
            )
            if found is not None:
                await tx.session.delete(found)
        await tx.session.flush()
        return list(
            (await tx.session.scalars(select(OptOut.channel).where(OptOut.customer_id == customer_id))).all()
        )


async def opt_out(
    session: AsyncSession, channel: str, *, customer_id: int | None = None, address: str | None = None,
    note: str = "",
) -> bool:  # fmt: skip
    """Opt a customer, a number (E.164), or both out of marketing on a channel, in the caller's
    transaction; False if they were already. A number that opts out on its own is kept by number
    (outbox.enqueue holds marketing to it back whoever's file it is in)."""
    found = None
    if customer_id is not None:
        found = await session.scalar(
            select(OptOut).where(OptOut.customer_id == customer_id, OptOut.channel == channel)
        )
    if found is None and address:
        found = await session.scalar(
            select(OptOut).where(OptOut.address == address, OptOut.channel == channel)
        )
    if found is not None:
        if found.address is None and address:
            found.address = address
        if found.customer_id is None and customer_id is not None:
            found.customer_id = customer_id
        return False
    session.add(OptOut(customer_id=customer_id, address=address, channel=channel, note=note[:200]))
    await session.flush()
    return True


async def opt_outs(ctx: Context, customer_id: int) -> list[str]:
    ctx.require(Permission.CUSTOMERS_READ)
    async with ctx.read() as session:
        return list(
            (await session.scalars(select(OptOut.channel).where(OptOut.customer_id == customer_id))).all()
        )


def _gateway_out(channel: str, setting: GatewaySetting | None) -> GatewayOut:
    if setting is None:
        return GatewayOut(channel=channel, kind="log", config={}, has_secret=False)
    shown = {k: v for k, v in setting.config.items() if k not in HIDDEN_KEYS}
    return GatewayOut(
        channel=channel, kind=setting.kind, config=shown, has_secret=bool(setting.secret),
        has_mo_token=bool(setting.config.get("mo_token")),
        has_callback_token=bool(setting.config.get("token")),
        has_aes_key=bool(setting.config.get("encoding_aes_key")),
    )  # fmt: skip


async def get_gateways(ctx: Context) -> list[GatewayOut]:
    ctx.require(Permission.GATEWAYS_WRITE)
    async with ctx.read() as session:
        return [_gateway_out(c, await session.get(GatewaySetting, c)) for c in GATEWAY_CHANNELS]


async def set_gateway(ctx: Context, channel: str, data: GatewayIn) -> GatewayOut:
    """How a channel is delivered; the password is kept when not given again and never shown."""
    ctx.require(Permission.GATEWAYS_WRITE)
    allowed = {"log": set(), "smtp": SMTP_KEYS, "kannel": KANNEL_KEYS, "wechat": WECHAT_KEYS,
               "wecom": wecom_settings.WECOM_KEYS}[data.kind]  # fmt: skip
    if data.kind not in CHANNEL_KINDS[channel]:
        raise InvalidInput(
            f"{data.kind} does not deliver {channel}",
            field="body.kind",
            reason="does-not-deliver",
            params={"kind": data.kind, "channel": channel},
        )
    for key in data.config:
        if key not in allowed:
            raise InvalidInput(
                f"{key} is not a setting of {data.kind}",
                field=f"body.config.{key}",
                reason="not-setting",
                params={"key": key, "kind": data.kind},
            )
    _check_gateway(data)
    async with ctx.write() as tx:
        setting = await tx.session.get(GatewaySetting, channel)
        if setting is None:
            setting = GatewaySetting(channel=channel, kind=data.kind, config={}, secret="")
            tx.session.add(setting)
        kept = {
            k: setting.config[k]
            for k in HIDDEN_KEYS - {"dlr_key"}
            if setting.config.get(k) and not data.config.get(k)
        }
        if data.kind == "wechat":
            _check_wechat_keys({**data.config, **kept}, data.secret or setting.secret)
        if data.kind == "wecom":
            wecom_settings.check_keys({**data.config, **kept}, data.secret or setting.secret)
        dlr_key = setting.config.get("dlr_key") or secrets.token_hex(16)
        setting.kind = data.kind
        setting.config = {**data.config, **kept, "dlr_key": dlr_key}
        if data.secret is not None:
            setting.secret = data.secret
        await tx.session.flush()
        return _gateway_out(channel, setting)


def _check_gateway(data: GatewayIn) -> None:
    """Settings that cannot work are refused at their field, before anything is stored."""
    config = data.config
    if data.kind == "smtp":
        if not str(config.get("host", "")).strip():
            raise InvalidInput(
                "The SMTP server's host name", field="body.config.host", reason="smtp-server-host-name"
            )
        port = config.get("port", 25)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise InvalidInput("A port from 1 to 65535", field="body.config.port", reason="port-from-1-65535")
        if "sender" in config and not valid_recipient("email", str(config["sender"])):
            raise InvalidInput(
                "The sender is an e-mail address", field="body.config.sender", reason="sender-e-mail-address"
            )
        if config.get("starttls") and config.get("tls"):
            raise InvalidInput(
                "STARTTLS (587) or TLS from the start (465), not both",
                field="body.config.tls",
                reason="starttls-587-tls-from-start",
            )
    if data.kind == "kannel":
        for key in ("url", "dlr_base"):
            value = str(config.get(key, ""))
            if (key == "url" or value) and not value.startswith(("http://", "https://")):
                raise InvalidInput(
                    "An http:// or https:// address", field=f"body.config.{key}", reason="http-https-address"
                )
        token = str(config.get("mo_token", ""))
        if token and not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", token):
            raise InvalidInput(
                "The replies' token is 16 to 64 letters, digits, - or _",
                field="body.config.mo_token",
                reason="mo-token-format",
            )
        if str(config.get("dlr_base", "")).endswith("/"):
            raise InvalidInput(
                "The delivery-report base URL has no trailing /",
                field="body.config.dlr_base",
                reason="delivery-report-base-url-no",
            )


def _check_wechat_keys(config: dict[str, Any], secret: str) -> None:
    """A WeChat account's settings, with what is kept from before: its AppID and AppSecret (the
    API's), its callback Token, and an EncodingAESKey for safe mode, each as WeChat issues them."""
    if not re.fullmatch(r"wx[0-9a-f]{16}", str(config.get("app_id", ""))):
        raise InvalidInput(
            "The AppID is wx and 16 hexadecimal digits",
            field="body.config.app_id",
            reason="wechat-app-id-format",
        )
    wecom_settings.check_callback(config, key_required=False)
    if not secret:
        raise InvalidInput("The account's AppSecret", field="body.secret", reason="wechat-app-secret-needed")


async def delivery_report(ctx: Context, message_id: int, token: str, kind: int) -> bool:
    """Kannel's delivery report for a message (authenticated by the HMAC in its URL); False when
    it is not believed. Delivered and failed are final; `sent` never overrides them."""
    status = gateways.KANNEL_DLR.get(kind)
    async with ctx.write() as tx:
        setting = await tx.session.get(GatewaySetting, "sms")
        key = str(setting.config.get("dlr_key", "")) if setting else ""
        if not key or not hmac.compare_digest(token.encode(), gateways.dlr_token(key, message_id).encode()):
            return False
        if status is None:
            return True
        values: dict[str, Any] = {"status": status}
        if status == "delivered":
            values["delivered_at"] = utcnow()
        if status == "failed":
            values["reason"] = f"the SMSC reports it undelivered (dlr {kind})"
        final = ("sent",) if status == "sent" else ("sent", "sending")
        await tx.session.execute(
            update(Message).where(Message.id == message_id, Message.status.in_(final)).values(values)
        )
    return True


def topic_list() -> list[dict[str, Any]]:
    from hotline.notify.rules import occasions

    def closed(topic: str) -> dict[str, list[str]]:
        lists = {field: topics.choices(topic, field) for field in topics.variables(topic)}
        return {field: [v for v in values if v] for field, values in lists.items() if values}

    return [
        {"name": n, "variables": topics.variables(n), "occasions": occasions(n), "choices": closed(n)}
        for n in sorted(topics.TOPICS)
    ]


async def report(ctx: Context, days: int = 30) -> list[ReportRow]:
    """Messages by day (China time), channel, template, rule and gateway, counted by status
    (SPEC A2's SMS statistics)."""
    ctx.require(Permission.MESSAGES_READ)
    since = utcnow() - timedelta(days=days)
    async with ctx.read() as session:
        columns = (
            Message.created_at, Message.channel, Message.template_code, Message.rule_id, Message.gateway,
            Message.status,
        )  # fmt: skip
        rows = (await session.execute(select(*columns).where(Message.created_at >= since))).all()
    groups: dict[tuple[str, str, str, int | None, str], dict[str, int]] = {}
    for created_at, channel, template_code, rule_id, gateway, status in rows:
        day = created_at.astimezone(CHINA).date().isoformat()
        counts = groups.setdefault((day, channel, template_code, rule_id, gateway), {})
        counts[status] = counts.get(status, 0) + 1
    return [
        ReportRow(day=k[0], channel=k[1], template_code=k[2], rule_id=k[3], gateway=k[4], counts=v)
        for k, v in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2]), reverse=True)
    ]


async def bulk(ctx: Context, data: BulkIn) -> BulkOut:
    """A live customer template to a segment (N3). A dry run counts who would get it and who is
    left out (opt-out, no phone or e-mail) and who waits for the end of quiet hours; the real run
    queues one message per customer under the mailing's `batch` id, so repeating it sends nothing
    twice."""
    ctx.require(Permission.CAMPAIGNS_WRITE)
    segment = data.segment
    now = utcnow()
    async with ctx.write() as tx:
        template = await live(tx.session, data.template_code)
        if template is None or template.topic != "crm.customer":
            raise InvalidInput(
                "Choose a live template about a customer",
                field="body.template_code",
                reason="choose-live-template-about-customer",
            )
        notices = await customers.segment_notices(
            tx.session, tiers=segment.tiers, cities=segment.cities, birthday_month=segment.birthday_month,
            tags=segment.tags,
        )  # fmt: skip
        opted_out = select(OptOut.customer_id, OptOut.address).where(OptOut.channel == template.channel)
        found = (await tx.session.execute(opted_out)).all()
        opted = {customer_id for customer_id, _ in found if customer_id is not None}
        numbers = {address for _, address in found if address}
        excluded = {"opt-out": 0, "no address": 0}
        recipients = queued = 0
        for notice in notices:
            address = notice.phone if template.channel == "sms" else notice.email
            if not address or not valid_recipient(template.channel, address):
                excluded["no address"] += 1
            elif template.purpose == "marketing" and (
                notice.customer_id in opted or (numbers and sms_address(address) in numbers)
            ):
                excluded["opt-out"] += 1
            else:
                recipients += 1
            if not data.dry_run:
                made = await enqueue(
                    tx.session, key=f"bulk:{data.batch}:{notice.customer_id}", template=template,
                    values=notice.model_dump(), recipient=address, customer_id=notice.customer_id,
                    ref=notice.ref, created_by=ctx.actor.user_id, now=now,
                )  # fmt: skip
                queued += made is not None and made.status == "queued"
        if data.dry_run:
            tx.audit("notify.bulk_dry_run", "template", template.code, after={"matched": len(notices)})
        held = recipients if template.purpose == "marketing" and quiet_until(now) is not None else 0
        return BulkOut(
            matched=len(notices), recipients=recipients, held=held, excluded=excluded, queued=queued
        )
