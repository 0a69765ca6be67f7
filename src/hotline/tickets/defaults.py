"""What the tickets domain ships with: the ticket types of S1 with their forms, SLA policies, China's
2026 calendar (holidays and make-up workdays) and the canned responses told to customers (kept
with the conversations' phrases in notify/canned.py, offered on tickets). (The Chinese SMS templates and
rules for a result told and a ticket closed ship with the other templates in notify/defaults.py.)
Loaded once, edited from then on like any other data."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from hotline.core.context import Context
from hotline.notify import canned
from hotline.tickets import sla
from hotline.tickets.models import CalendarDay, SlaPolicy, TicketType


def _f(key: str, label: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "type": kind, "required": False, "choices": [], "max_length": None,
            "min": None, "max": None} | more  # fmt: skip


TYPES: tuple[tuple[str, str, str, str, list[dict[str, Any]]], ...] = (
    ("work_order", "工单", "general", "normal", [
        _f("device_type", "设备类型", "choice", required=True, choices=["数字", "模拟", "网络", "空调", "电视", "门锁"]),  # noqa: E501
        _f("requirement_type", "需求类型", "choice", required=True, choices=["测试", "维修", "安装", "移机", "咨询"]),  # noqa: E501
        _f("appointment", "预约时间", "datetime", required=True),
        _f("room", "房号/地址", "text", max_length=60),
    ]),
    ("consultation", "咨询单", "general", "low", [
        _f("topic", "咨询内容", "choice", choices=["线路", "价格", "酒店", "签证", "保险", "其他"]),
        _f("answered", "当场答复", "boolean"),
    ]),
    ("business", "业务单", "general", "normal", [
        _f("business_type", "业务类型", "choice", required=True, choices=["改签", "退订", "发票", "变更行程", "其他"]),  # noqa: E501
        _f("order_number", "订单号", "text", max_length=20),
    ]),
    ("complaint", "投诉单", "complaint", "normal", [
        _f("category", "投诉类别", "choice", required=True,
           choices=["服务态度", "产品质量", "卫生", "安全", "导游", "价格", "其他"]),
        _f("incident_date", "发生日期", "date"),
        _f("place", "涉及酒店/线路", "text", max_length=80),
        _f("demand", "客户诉求", "textarea", max_length=500),
    ]),
    ("suggestion", "建议", "general", "low", [
        _f("area", "建议方面", "choice", choices=["产品", "服务", "网站", "其他"]),
    ]),
    ("emergency", "紧急救援", "emergency", "critical", [
        _f("location", "所在位置", "text", required=True, max_length=120),
        _f("people", "涉及人数", "integer", required=True, min=1, max=500),
        _f("injured", "是否有人受伤", "boolean"),
        _f("group_code", "团号", "text", max_length=20),
    ]),
    ("accident", "事故报告", "general", "high", [
        _f("accident_time", "事故时间", "datetime", required=True),
        _f("location", "地点", "text", required=True, max_length=120),
        _f("injured", "受伤人数", "integer", min=0, max=500),
    ]),
    ("claim", "理赔", "general", "normal", [
        _f("policy_number", "保单号", "text", required=True, max_length=30),
        _f("amount", "申请金额（元）", "number", required=True, min=0, max=10_000_000),
        _f("incident_date", "出险日期", "date", required=True),
    ]),
    ("callback", "留言回电", "general", "normal", []),
)  # fmt: skip

POLICIES: tuple[tuple[str | None, str, int, int, bool], ...] = (
    # type (None: all), severity, first response (min), resolution (min, working time), business hours
    (None, "low", 240, 5 * 540, True),
    (None, "normal", 120, 3 * 540, True),
    (None, "high", 60, 540, True),
    (None, "critical", 30, 240, True),
    ("complaint", "normal", 60, 2 * 540, True),
    ("complaint", "high", 30, 540, True),
    ("complaint", "critical", 15, 240, True),
    ("emergency", "critical", 5, 120, False),
)
CANNED = (  # title, text, the ticket type it is offered on ("": every type)
    ("已受理", "您好，您的问题我们已受理，工单号{number}，相关部门会尽快处理并联系您。", ""),
    ("转相关部门", "您反映的问题已转交相关部门处理，处理结果将在两个工作日内通过电话或短信告知您。", ""),
    (
        "投诉致歉",
        "非常抱歉给您带来不便，我们已将您的投诉转交责任部门调查，并会在规定时间内给您答复。",
        "complaint",
    ),
    ("误派说明", "该问题不属于本工区处理范围，请重新派至相应部门。", ""),
    ("上门维修", "维修人员已按预约时间上门，设备已检测并修复，客户确认正常使用。", "work_order"),
    ("救援已出发", "救援人员已出发，请保持电话畅通，在安全地点等候。", "emergency"),
)


async def load(ctx: Context) -> int:
    """Add what is missing; returns how many things were added."""
    added = 0
    async with ctx.write() as tx:
        have = set((await tx.session.scalars(select(TicketType.code))).all())
        for n, (code, name, kind, severity, fields) in enumerate(TYPES):
            if code not in have:
                tx.session.add(TicketType(code=code, name=name, kind=kind, default_severity=severity,
                                          fields=fields, sort=n * 10))  # fmt: skip
                added += 1
        await tx.session.flush()
        ids = {row.code: row.id for row in (await tx.session.scalars(select(TicketType))).all()}
        policies = {(p.type_id, p.severity) for p in (await tx.session.scalars(select(SlaPolicy))).all()}
        for type_code, severity, response, resolve, business in POLICIES:
            type_id = ids[type_code] if type_code else None
            if (type_id, severity) not in policies:
                tx.session.add(SlaPolicy(type_id=type_id, severity=severity, response_minutes=response,
                                         resolve_minutes=resolve, business_hours=business))  # fmt: skip
                added += 1
        days = set((await tx.session.scalars(select(CalendarDay.day))).all())
        for day, kind, name in sla.CHINA_2026:
            if date.fromisoformat(day) not in days:
                tx.session.add(CalendarDay(day=date.fromisoformat(day), kind=kind, name=name))
                added += 1
        phrases = [
            canned.Starting("complaint" if code == "complaint" else "other", title, text, "tickets", code)
            for title, text, code in CANNED
        ]
        added += await canned.add_defaults(tx.session, "tickets", phrases)
    return added
