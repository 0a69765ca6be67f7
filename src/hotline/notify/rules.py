"""Rules (N2): which template goes out on which occasion — an event's occasion
(`hotels.reservation:confirmed`) or a day relative to a date (`hotels.arrival`, one day before at
17:00) — to whom the notice names, if the notice meets the rule's conditions. Rules are data,
edited in the UI; events are handled by the sender's loop, schedules by the job
`notify.schedules` (every 5 minutes), each occasion once by its idempotency key."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core import topics
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.events import Event
from hotline.core.permissions import Permission
from hotline.notify.models import Rule, Template
from hotline.notify.outbox import enqueue
from hotline.notify.schemas import RuleIn, RuleOut
from hotline.notify.templates import live

log = structlog.get_logger(__name__)
SCHEDULE_BATCH = 500
"""Messages of a schedule queued per transaction: a crash part-way is finished by the next run
(each message has its idempotency key), and writers are never held for long."""


def occasions(topic: str) -> list[str]:
    return topics.choices(topic, "occasion") or []


def matches(conditions: dict[str, list[Any]], values: dict[str, Any]) -> bool:
    return all(values.get(field) in allowed for field, allowed in conditions.items())


def _topic_of(trigger: str) -> tuple[str, bool]:
    """The topic a trigger is about and whether it is a schedule (a date source)."""
    if trigger in topics.SOURCES:
        return topics.SOURCES[trigger].topic, True
    topic, _, occasion = trigger.partition(":")
    if topic not in topics.TOPICS or occasion not in occasions(topic):
        raise InvalidInput(
            f"Unknown trigger {trigger}: an event:occasion or a date source",
            field="body.trigger",
            reason="unknown-trigger-event-occasion-date",
            params={"trigger": trigger},
        )
    return topic, False


async def save(ctx: Context, data: RuleIn, rule_id: int | None = None) -> RuleOut:
    ctx.require(Permission.TEMPLATES_WRITE)
    topic, scheduled = _topic_of(data.trigger)
    if scheduled and data.schedule is None:
        raise InvalidInput(
            "A rule on a date says when: days before or after, and the time",
            field="body.schedule",
            reason="rule-date-says-when-days",
        )
    if not scheduled and data.schedule is not None:
        raise InvalidInput(
            "A rule on an event is sent when it happens: no schedule",
            field="body.schedule",
            reason="rule-event-sent-when-happens",
        )
    if data.schedule is not None and data.schedule.timezone not in available_timezones():
        raise InvalidInput(
            f"Unknown time zone {data.schedule.timezone}",
            field="body.schedule.timezone",
            reason="rule-time-zone-unknown",
            params={"timezone": data.schedule.timezone},
        )
    fields = set(topics.variables(topic))
    for key, allowed in data.conditions.items():
        if key not in fields:
            raise InvalidInput(
                f"{key} is not a field of {topic}",
                field=f"body.conditions.{key}",
                reason="condition-not-a-field",
                params={"key": key, "topic": topic},
            )
        closed = topics.choices(topic, key)
        unknown = [v for v in allowed if closed is not None and str(v) not in closed]
        if unknown:
            one_of = "、".join(v for v in closed or () if v)
            raise InvalidInput(
                f"{key} is never {unknown[0]}: one of {one_of}",
                field=f"body.conditions.{key}",
                reason="condition-value-unknown",
                params={"key": key, "v0": unknown[0], "one_of": one_of},
            )
    async with ctx.write() as tx:
        template = await tx.session.scalar(
            select(Template)
            .where(Template.code == data.template_code)
            .order_by(Template.version.desc())
            .limit(1)
        )
        if template is None:
            raise InvalidInput(
                f"No template {data.template_code}",
                field="body.template_code",
                reason="no-template",
                params={"template_code": data.template_code},
            )
        if template.topic != topic:
            about = f"Template {template.code} is about {template.topic}, the trigger about {topic}"
            raise InvalidInput(about, field="body.template_code")
        values = {**data.model_dump(exclude={"schedule"}),
                  "schedule": data.schedule.model_dump() if data.schedule else None}  # fmt: skip
        if rule_id is None:
            rule = Rule(**values)
            tx.session.add(rule)
        else:
            found = await tx.session.get(Rule, rule_id)
            if found is None:
                raise NotFound(
                    f"No rule {rule_id}", field="rule_id", reason="no-rule", params={"rule_id": rule_id}
                )
            rule = found
            for key, value in values.items():
                setattr(rule, key, value)
        await tx.session.flush()
        return RuleOut.model_validate(rule)


async def listing(ctx: Context) -> list[RuleOut]:
    ctx.require(Permission.MESSAGES_SEND)
    async with ctx.read() as session:
        return [
            RuleOut.model_validate(r) for r in (await session.scalars(select(Rule).order_by(Rule.id))).all()
        ]


async def _send(
    session: AsyncSession, rule: Rule, notice: Event, occasion_key: str, now: datetime | None = None
) -> bool:
    template = await live(session, rule.template_code)
    if template is None:
        log.warning("notify.no_live_template", rule=rule.id, template=rule.template_code)
        return False
    values = notice.model_dump()
    recipient = str(values.get(topics.RECIPIENT_FIELDS[template.channel]) or "")
    key = f"r{rule.id}:{values['ref']}:{occasion_key}:{template.channel}"
    made = await enqueue(
        session, key=key[:200], template=template, values=values, recipient=recipient,
        customer_id=values.get("customer_id"), ref=str(values["ref"]), rule_id=rule.id, now=now,
    )  # fmt: skip
    return made is not None


async def on_event(session: AsyncSession, event: Event) -> None:
    """A topic's event happened: the rules for its occasion queue their messages."""
    trigger = f"{event.name}:{getattr(event, 'occasion', '')}"
    rules = (await session.scalars(select(Rule).where(Rule.trigger == trigger, Rule.active.is_(True)))).all()
    values = event.model_dump()
    for rule in rules:
        if matches(rule.conditions, values):
            await _send(session, rule, event, event.occurred_at.isoformat())


def handlers() -> dict[str, Any]:
    """The sender's handler for every topic's durable events: the rules."""
    return dict.fromkeys(topics.TOPICS, on_event)


async def run_schedules(ctx: Context, now: datetime | None = None) -> int:
    """Rules on dates whose time has come today: each notice of the day once."""
    now = now or utcnow()
    async with ctx.read() as session:
        rules = (
            await session.scalars(select(Rule).where(Rule.active.is_(True), Rule.schedule.is_not(None)))
        ).all()
    queued = 0
    for rule in rules:
        source = topics.SOURCES.get(rule.trigger)
        if source is None or rule.schedule is None:
            continue
        zone = ZoneInfo(rule.schedule.get("timezone", "Asia/Shanghai"))
        local = now.astimezone(zone)
        hour, minute = (int(x) for x in rule.schedule["at"].split(":"))
        if local.time() < time(hour, minute):
            continue
        target = local.date() - timedelta(days=int(rule.schedule["days"]))
        notices = [n for n in await source.fetch(ctx, target) if matches(rule.conditions, n.model_dump())]
        for start in range(0, len(notices), SCHEDULE_BATCH):  # a festival greets every customer
            async with ctx.write() as tx:
                for notice in notices[start : start + SCHEDULE_BATCH]:
                    queued += await _send(tx.session, rule, notice, target.isoformat(), now)
    return queued
