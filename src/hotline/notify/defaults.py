"""The templates and rules Hotline ships with, in Chinese: booking confirmations (SMS and
e-mail), changes, cancellations, the SMS to a late guest who cannot be reached, the reminder at
17:00 the day before arrival, birthday greetings at 09:00, greetings on 春节 and 中秋节 at 09:00,
a ticket's result and its closing, an agent's answer to a customer's SMS or WeChat message and
the confirmation of a TD/退订 reply. Loaded once, live, and edited from then on like any other template (a new
version, approved); the conversation templates are also put in the first time they are needed
(`installed`), so replies work on a site loaded without the demo data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import hotline.notify.events  # noqa: F401 - registers the topic of the conversation templates
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.notify.models import Rule, Template
from hotline.notify.templates import live

SIGN = "【英冠酒店】"
TEMPLATES = (
    ("reservation.confirmed.sms", "sms", "hotels.reservation", "service", "预订确认短信", "",
     SIGN + "{{guest_name}}您好，您已成功预订{{hotel}}{{room_type}}{{rooms}}间，{{arrival}}入住，{{departure}}离店，"  # noqa: E501
     "共{{nights}}晚，房费¥{{total}}。地址：{{hotel_address}}，电话：{{hotel_phone}}。{{hold}}。预订号{{number}}。"),
    ("reservation.confirmed.email", "email", "hotels.reservation", "service", "预订确认邮件",
     "预订确认 · {{hotel}} · 预订号{{number}}",
     "{{guest_name}}您好：\n\n您已成功预订{{hotel}}{{room_type}}{{rooms}}间。\n入住：{{arrival}}\n离店：{{departure}}（共{{nights}}晚）\n"
     "房费合计：¥{{total}}\n{{hold}}。\n取消政策：{{policy}}\n\n酒店地址：{{hotel_address}}\n酒店电话：{{hotel_phone}}\n预订号：{{number}}\n\n英冠酒店"),
    ("reservation.modified.sms", "sms", "hotels.reservation", "service", "预订修改短信", "",
     SIGN + "{{guest_name}}您好，您的预订{{number}}已修改为：{{hotel}}{{room_type}}{{rooms}}间，{{arrival}}入住，"  # noqa: E501
     "{{departure}}离店，房费¥{{total}}。{{hold}}。酒店电话{{hotel_phone}}。"),
    ("reservation.cancelled.sms", "sms", "hotels.reservation", "service", "预订取消短信", "",
     SIGN + "{{guest_name}}您好，您在{{hotel}}的预订{{number}}（{{arrival}}入住）已取消，取消费¥{{cancel_fee}}，"  # noqa: E501
     "退款¥{{refund}}。酒店电话{{hotel_phone}}。"),
    ("reservation.unreachable.sms", "sms", "hotels.reservation", "service", "未到店联系不上短信", "",
     SIGN + "{{guest_name}}您好，您预订的{{hotel}}（预订号{{number}}）今日尚未办理入住，我们未能联系到您。"
     "如需保留房间或变更，请致电{{hotel_phone}}。"),
    ("reservation.reminder.sms", "sms", "hotels.reservation", "service", "入住前一天提醒", "",
     SIGN + "{{guest_name}}您好，提醒您明天（{{arrival}}）入住{{hotel}}，地址：{{hotel_address}}。{{hold}}。"
     "如需帮助请致电{{hotel_phone}}。"),
    ("customer.birthday.sms", "sms", "crm.customer", "marketing", "生日祝福", "",
     SIGN + "亲爱的{{customer_name}}{{title}}，祝您生日快乐！生日当月入住可享{{tier_name}}专属礼遇，期待再次为您服务。"  # noqa: E501
     "回复TD退订"),
    ("customer.festival.sms", "sms", "crm.customer", "marketing", "节日问候", "",
     SIGN + "亲爱的{{customer_name}}{{title}}，{{festival}}快乐！感谢您一路相伴，英冠酒店祝您和家人阖家幸福、万事如意。"  # noqa: E501
     "回复TD退订"),
    ("ticket.result.sms", "sms", "tickets.ticket", "service", "工单处理结果短信", "",
     SIGN + "{{customer_name}}{{title_of_address}}您好，您反映的“{{title}}”（工单号{{number}}）"
     "已处理：{{result}}。如有疑问请致电4008002000。"),
    ("ticket.closed.sms", "sms", "tickets.ticket", "service", "工单办结短信", "",
     SIGN + "{{customer_name}}{{title_of_address}}您好，您的{{type_name}}{{number}}已办结，感谢您的耐心。"
     "我们将回访了解您的满意度。"),
    ("notify.reply.sms", "sms", "notify.conversation", "service", "短信会话回复", "", SIGN + "{{text}}"),
    ("notify.chat_transcript.email", "email", "notify.conversation", "service", "在线客服聊天记录邮件",
     "您与英冠酒店在线客服的聊天记录",
     "{{customer_name}}您好：\n\n以下是您与英冠酒店在线客服的聊天记录：\n\n{{text}}\n\n感谢您的咨询，祝您生活愉快！\n英冠酒店客服中心 4008001000"),  # noqa: E501
    ("notify.reply.wechat", "wechat", "notify.conversation", "service", "微信会话回复", "", "{{text}}"),
    ("notify.reply.wecom", "wecom", "notify.conversation", "service", "企业微信客服会话回复", "", "{{text}}"),
    ("notify.opt_out_confirmed.sms", "sms", "notify.conversation", "service", "退订确认短信", "",
     SIGN + "您已成功退订营销短信，今后不再收到优惠及问候信息；预订确认等服务通知照常发送。如需恢复请致电4008001000。"),  # noqa: E501
    ("notify.chat_code.sms", "sms", "notify.conversation", "service", "在线客服验证码短信", "",
     SIGN + "您的在线客服验证码为{{code}}，5分钟内有效，请勿告诉他人。如非本人操作，请忽略本短信。"),
    ("customer.care.sms", "sms", "crm.customer", "service", "客户关怀（手工发送）", "",
     SIGN + "{{customer_name}}{{title}}您好，感谢您一直以来对英冠酒店的支持。如有任何需要，请致电4008001000。"),  # noqa: E501
)  # fmt: skip
RULES = (
    ("预订确认发短信", "reservation.confirmed.sms", "hotels.reservation:confirmed", None),
    ("预订确认发邮件", "reservation.confirmed.email", "hotels.reservation:confirmed", None),
    ("预订修改发短信", "reservation.modified.sms", "hotels.reservation:modified", None),
    ("预订取消发短信", "reservation.cancelled.sms", "hotels.reservation:cancelled", None),
    ("未到店联系不上发短信", "reservation.unreachable.sms", "hotels.reservation:unreachable", None),
    ("入住前一天17:00提醒", "reservation.reminder.sms", "hotels.arrival", {"days": -1, "at": "17:00"}),
    ("生日当天09:00祝福", "customer.birthday.sms", "crm.birthday", {"days": 0, "at": "09:00"}),
    (
        "春节、中秋节09:00问候",
        "customer.festival.sms",
        "crm.festival",
        {"days": 0, "at": "09:00"},
        {"festival": ["春节", "中秋节"]},
    ),
    ("工单处理结果短信告知", "ticket.result.sms", "tickets.ticket:result", None),
    ("工单办结短信", "ticket.closed.sms", "tickets.ticket:closed", None),
)


async def load(
    ctx: Context, templates: tuple[tuple[str, ...], ...] = TEMPLATES,
    rules: tuple[tuple[Any, ...], ...] = RULES,
) -> int:  # fmt: skip
    """Add the shipped templates and rules that are missing; returns how many were added. A rule is
    (name, template, trigger, schedule[, conditions]). Other domains pass their own
    (travel/notices.py)."""
    added = 0
    async with ctx.write() as tx:
        have = set((await tx.session.scalars(select(Template.code))).all())
        for row in templates:
            if row[0] not in have:
                tx.session.add(_shipped(row))
                added += 1
        named = set((await tx.session.scalars(select(Rule.name))).all())
        for name, template_code, trigger, schedule, *conditions in rules:
            if name not in named:
                timed = {**schedule, "timezone": "Asia/Shanghai"} if schedule else None
                tx.session.add(Rule(name=name, template_code=template_code, trigger=trigger, schedule=timed,
                                    conditions=conditions[0] if conditions else {}, active=True))  # fmt: skip
                added += 1
    return added


async def installed(session: AsyncSession, code: str) -> Template | None:
    """The live version of a shipped template, put in (live) if no version of it was ever saved;
    None if every version was retired or rejected on purpose."""
    template = await live(session, code)
    if template is not None:
        return template
    if await session.scalar(select(Template.id).where(Template.code == code).limit(1)) is not None:
        return None
    for row in TEMPLATES:
        if row[0] == code:
            template = _shipped(row)
            session.add(template)
            await session.flush()
            return template
    return None


def _shipped(row: tuple[str, ...]) -> Template:
    code, channel, topic, purpose, name, subject, body = row
    return Template(code=code, version=1, channel=channel, topic=topic, purpose=purpose, name=name,
                    subject=subject, body=body, html="", status="live", approved_at=utcnow(),
                    note="shipped with Hotline")  # fmt: skip
