"""The outbox (N3, N4): every message is a row before it is sent.

`enqueue` writes a message under its idempotency key — rule, recipient, object and occasion — in
the caller's transaction; a key seen before queues nothing. Marketing messages honour the
customer's opt-out (kept as `suppressed`, with the reason) and quiet hours (21:00–08:00 in
Asia/Shanghai: held until 08:00, with the reason).

The `Sender` claims due messages with a compare-and-set on their status (one node gets each),
hands them to the channel's gateway and records the outcome at once: sent with the gateway's
reference, retried with backoff while the gateway is unavailable, failed when it refuses. A
message whose sender died while handing it over (its lease ran out) is sent again only through an
idempotent gateway; otherwise it is marked `unknown` for a person to check the gateway and
resend — never sent twice behind anyone's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Select, Table, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core import durable
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.crm import identity
from hotline.notify import gateways
from hotline.notify.models import (
    ChatFile,
    ConversationFile,
    ConversationMessage,
    GatewaySetting,
    Message,
    OptOut,
    Template,
)
from hotline.notify.templates import render

log = structlog.get_logger(__name__)

QUIET_ZONE = ZoneInfo("Asia/Shanghai")
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)
MAX_ATTEMPTS = 8
BACKOFF = (10, 30, 60, 300, 900, 1800, 3600)
PHONE = re.compile(r"^\+?[0-9]{7,15}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ADDRESS_NAMES = {"sms": "phone", "email": "e-mail", "wechat": "address", "wecom": "address"}
OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
"""A customer as a WeChat account knows them (OpenID, 28 characters today), or as a WeCom
corporation does (external_userid, 32)."""
WECOM_RECIPIENT = re.compile(r"^[A-Za-z0-9_-]{6,64}:[A-Za-z0-9_-]{6,64}$")
"""A WeCom answer's recipient: the 客服账号 it is sent from and the customer, `open_kfid:external_userid`."""


def quiet_until(now: datetime) -> datetime | None:
    """When quiet hours end if `now` is inside them (21:00–08:00 China time), else None."""
    local = now.astimezone(QUIET_ZONE)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=QUIET_ZONE)


def valid_recipient(channel: str, recipient: str) -> bool:
    if channel == "sms":
        return bool(PHONE.match(recipient.replace(" ", "").replace("-", "")))
    if channel == "wecom":
        return bool(WECOM_RECIPIENT.match(recipient))
    return bool((OPENID if channel == "wechat" else EMAIL).match(recipient))


def sms_address(number: str) -> str:
    """A phone number as opt-outs by number keep it: E.164 (+8613800138000), whichever way it
    was written (13800138000, 8613800138000 as SMSCs often give it); as given when it cannot be
    a number."""
    found = identity.caller_phone(number)
    if found is None and number.isdigit():
        found = identity.caller_phone("+" + number)
    return found or number


def opted_out_query(channel: str, customer_id: int | None, recipient: str) -> Select[int]:
    """The opt-out, if any, that holds marketing on a channel back from a customer or from the
    number (address) itself."""
    whose = [OptOut.address == (sms_address(recipient) if channel == "sms" else recipient)]
    if customer_id is not None:
        whose.append(OptOut.customer_id == customer_id)
    return select(OptOut.id).where(OptOut.channel == channel, or_(*whose)).limit(1)


async def enqueue(
    session: AsyncSession, *, key: str, template: Template, values: dict[str, Any], recipient: str,
    customer_id: int | None, ref: str, rule_id: int | None = None, created_by: int | None = None,
    now: datetime | None = None,
) -> Message | None:  # fmt: skip
    """Queue one message in the caller's transaction; None if its key was queued before."""
    if await session.scalar(select(Message.id).where(Message.key == key)) is not None:
        return None
    now = now or utcnow()
    recipient = recipient.strip()
    if template.channel == "sms":
        recipient = recipient.replace(" ", "").replace("-", "")
    message = Message(
        key=key, channel=template.channel, recipient=recipient, customer_id=customer_id, rule_id=rule_id,
        template_code=template.code, template_version=template.version, purpose=template.purpose,
        ref=ref[:80], subject=render(template.subject, values)[:200], body=render(template.body, values),
        html=render(template.html, values), status="queued", next_attempt_at=now, created_at=now,
        created_by=created_by,
    )  # fmt: skip
    if len(recipient) > 254:
        message.recipient, message.status, message.reason = recipient[:254], "suppressed", "invalid address"
    elif not recipient:
        message.status, message.reason = (
            "suppressed",
            f"no {ADDRESS_NAMES.get(template.channel, 'e-mail')}",
        )
    elif not valid_recipient(template.channel, recipient):
        message.status, message.reason = (
            "suppressed",
            f"invalid {ADDRESS_NAMES.get(template.channel, 'e-mail')}",
        )
    elif template.purpose == "marketing":
        opted_out = await session.scalar(opted_out_query(template.channel, customer_id, recipient))
        held = quiet_until(now)
        if opted_out:
            message.status, message.reason = "suppressed", "opt-out"
        elif held is not None:
            message.next_attempt_at, message.reason = held, f"quiet hours: held until {held:%m-%d %H:%M}"
    session.add(message)
    await session.flush()
    return message


class Sender:
    """Sends due messages; one per node with the `jobs` role. `run_once` is the whole loop body
    (tests call it directly)."""

    def __init__(
        self, ctx: Context, *, node_id: str, poll_seconds: float = 0.5, lease_seconds: int = 60,
        batch: int = 100, concurrency: int = 16, handlers: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.ctx, self.node_id, self.poll, self.lease = ctx, node_id, poll_seconds, lease_seconds
        self.batch, self.concurrency = batch, concurrency
        self.handlers = handlers or {}
        self._task: asyncio.Task[None] | None = None
        self._gateways: dict[str, tuple[tuple[str, str, str], gateways.Gateway]] = {}

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="notify-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for _, gateway in self._gateways.values():
            await gateway.close()

    async def _loop(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notify.sender_failed")
                busy = 0
            if not busy:
                await asyncio.sleep(self.poll)

    async def run_once(self, now: datetime | None = None) -> int:
        """Handle pending durable events, recover interrupted messages, send what is due;
        returns how much was done."""
        done = await self.handle_events()
        await self.recover(now)
        return done + await self.send_due(now)

    async def handle_events(self) -> int:
        handled = 0
        async with self.ctx.read() as session:
            found = await durable.pending(session, 100)
        for event_id, event in found:
            handler = self.handlers.get(event.name)
            async with self.ctx.write() as tx:
                if not await durable.claim(tx.session, event_id):
                    continue
                if handler is not None:
                    await handler(tx.session, event)
            handled += 1
        return handled

    async def _gateway(self, channel: str) -> gateways.Gateway:
        async with self.ctx.read() as session:
            setting = await session.get(GatewaySetting, channel)
        fingerprint = (
            (setting.kind, repr(sorted(setting.config.items())), setting.secret)
            if setting
            else ("log", "", "")
        )
        cached = self._gateways.get(channel)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        if cached is not None:
            await cached[1].close()
        config = setting.config if setting else {}
        gateway = gateways.build(fingerprint[0], config, fingerprint[2], str(config.get("dlr_key", "")))
        self._gateways[channel] = (fingerprint, gateway)
        return gateway

    async def recover(self, now: datetime | None = None) -> int:
        """Messages whose sender died mid-hand-over: again through an idempotent gateway, else
        `unknown` for a person to decide."""
        now = now or utcnow()
        async with self.ctx.read() as session:
            expired = select(Message.id, Message.channel).where(
                Message.status == "sending", Message.lease_until < now
            )
            stuck = (await session.execute(expired)).all()
        for message_id, channel in stuck:
            gateway = await self._gateway(channel)
            values: dict[str, Any] = {"status": "queued", "next_attempt_at": now,
                                      "reason": "sent again after an interrupted attempt"}  # fmt: skip
            if not gateway.idempotent:
                why = f"interrupted while handing it to {gateway.kind}: check there, then resend"
                values = {"status": "unknown", "reason": why}
            async with self.ctx.write() as tx:
                await tx.session.execute(
                    update(Message)
                    .where(Message.id == message_id, Message.status == "sending")
                    .values(values)
                )
        return len(stuck)

    async def send_due(self, now: datetime | None = None) -> int:
        """Send up to `batch` due messages, claiming only as many as are handed over at once:
        a sender that dies leaves at most `concurrency` messages whose fate is unknown."""
        now = now or utcnow()
        sent = 0
        while sent < self.batch:
            claimed = await self._claim(now, min(self.concurrency, self.batch - sent))
            if not claimed:
                break
            ways = {channel: await self._gateway(channel) for channel in {row[2] for row in claimed}}
            pictures = await self._pictures([row[0] for row in claimed if row[2] in ("wechat", "wecom")])
            outgoing = [gateways.Outgoing(*row[:7]) for row in claimed]
            outgoing = [replace(out, attachments=pictures.get(out.id, ())) for out in outgoing]
            outcomes = await asyncio.gather(
                *(self._send(ways[o.channel], o, row[7]) for o, row in zip(outgoing, claimed, strict=True))
            )
            await self._record(list(outcomes))
            sent += len(claimed)
        return sent

    async def _pictures(self, ids: list[int]) -> dict[int, tuple[gateways.Attachment, ...]]:
        """The pictures agents answer WeChat and WeCom customers with (chat_files.agent_sends), by
        the outbox message that sends each."""
        if not ids:
            return {}
        async with self.ctx.read() as session:
            rows = (await session.execute(
                select(ConversationMessage.message_id, ConversationFile.name, ChatFile.media_type,
                       ChatFile.data)
                .join(ConversationFile, ConversationFile.message_id == ConversationMessage.id)
                .join(ChatFile, ChatFile.id == ConversationFile.file_id)
                .where(ConversationMessage.message_id.in_(ids))
            )).all()  # fmt: skip
        return {row[0] or 0: (gateways.Attachment(row[1], row[3], row[2]),) for row in rows}

    async def _claim(self, now: datetime, count: int) -> list[Any]:
        async with self.ctx.write() as tx:
            ids = (await tx.session.scalars(
                select(Message.id).where(Message.status == "queued", Message.next_attempt_at <= now)
                .order_by(Message.next_attempt_at, Message.id).limit(count)
            )).all()  # fmt: skip
            if not ids:
                return []
            return list((await tx.session.execute(
                update(Message)
                .where(Message.id.in_(ids), Message.status == "queued")
                .values(status="sending", lease_until=now + timedelta(seconds=self.lease),
                        attempts=Message.attempts + 1)
                .returning(Message.id, Message.key, Message.channel, Message.recipient, Message.subject,
                           Message.body, Message.html, Message.attempts)
            )).all())  # fmt: skip

    async def _send(
        self, gateway: gateways.Gateway, message: gateways.Outgoing, attempts: int
    ) -> dict[str, Any]:
        """Hand one message over; returns the outcome to record (`b_*` parameters)."""
        outcome: dict[str, Any] = {"b_id": message.id, "b_gateway": gateway.kind}
        try:
            reference = await gateway.send(message)
        except gateways.Refused as e:
            return {**outcome, "b_status": "failed", "b_reason": str(e)[:300], "b_next": None}
        except gateways.Unavailable as e:
            if attempts >= MAX_ATTEMPTS:
                return {**outcome, "b_status": "failed", "b_next": None,
                        "b_reason": f"gave up after {attempts} attempts: {e}"[:300]}  # fmt: skip
            wait = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
            return {**outcome, "b_status": "queued", "b_next": utcnow() + timedelta(seconds=wait),
                    "b_reason": f"{gateway.kind} unavailable ({e}); retry in {wait} s"[:300]}  # fmt: skip
        now = utcnow()
        logged = gateway.kind == "log"
        status = "delivered" if logged else "sent"
        return {**outcome, "b_status": status, "b_ref": reference[:80], "b_at": now,
                "b_delivered": now if logged else None}  # fmt: skip

    async def _record(self, outcomes: list[dict[str, Any]]) -> None:
        """The outcomes of one hand-over, in one transaction (a statement per kind of outcome). A
        delivery report that came first is kept: `sent` never overrides `delivered`."""
        table = cast(Table, Message.__table__)
        mine = table.c.id == bindparam("b_id")
        sent = update(table).where(mine).values(
            status=case((table.c.status == "sending", bindparam("b_status")), else_=table.c.status),
            gateway=bindparam("b_gateway"), gateway_ref=bindparam("b_ref"), sent_at=bindparam("b_at"),
            delivered_at=func.coalesce(table.c.delivered_at, bindparam("b_delivered")), reason="",
        )  # fmt: skip
        other = update(table).where(mine, table.c.status == "sending").values(
            status=bindparam("b_status"), gateway=bindparam("b_gateway"), reason=bindparam("b_reason"),
            next_attempt_at=func.coalesce(bindparam("b_next"), table.c.next_attempt_at),
        )  # fmt: skip
        done = [o for o in outcomes if "b_ref" in o]
        rest = [o for o in outcomes if "b_ref" not in o]
        async with self.ctx.write() as tx:
            connection = await tx.session.connection()
            if done:
                await connection.execute(sent, done)
            if rest:
                await connection.execute(other, rest)


def new_key(prefix: str) -> str:
    return f"{prefix}:{secrets.token_hex(8)}"
