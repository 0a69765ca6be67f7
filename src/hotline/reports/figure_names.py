"""Every report figure's name, in Chinese and English, as the report pages name them
(frontend/src/locales: reports.f.*): what an export shows in its 指标 column instead of the API's
key. A figure whose meaning depends on the report is named for that report (`BY_SUBJECT`)."""

from __future__ import annotations

Name = tuple[str, str]

NAMES: dict[str, Name] = {
    # tickets
    "opened": ("新建", "Opened"),
    "resolved": ("已处理", "Resolved"),
    "within_sla": ("SLA 内处理", "Resolved within SLA"),
    "sla_rate": ("SLA 达标率", "SLA met rate"),
    "closed": ("已关闭", "Closed"),
    "reopened": ("重新打开", "Reopened"),
    # bookings and travel orders
    "bookings": ("预订量", "Bookings"),
    "cancelled": ("取消", "Cancelled"),
    "cancellation_rate": ("取消率", "Cancellation rate"),
    "revenue": ("营收（元）", "Revenue (CNY)"),
    "from_calls": ("来自来电", "From calls"),
    "calls_answered": ("接听来电", "Calls answered"),
    "conversion": ("来电转化率", "Calls → bookings"),
    "orders": ("订单量", "Orders"),
    "signed": ("签约", "Signed"),
    "signed_rate": ("签约率", "Signed rate"),
    "void": ("作废", "Void"),
    "received": ("已收（元）", "Received (CNY)"),
    # messages
    "queued": ("生成", "Made"),
    "sent": ("已发送", "Sent"),
    "delivered": ("已送达", "Delivered"),
    "failed": ("失败", "Failed"),
    "delivery_rate": ("送达率", "Delivery rate"),
    "opted_out": ("因退订未发", "Held by opt-out"),
    "new_opt_outs": ("新增退订", "New opt-outs"),
    # surveys
    "surveys": ("评价数", "Surveys"),
    "score_sum": ("评分合计", "Sum of scores"),
    "scored": ("有评分的答卷", "Responses with a score"),
    "average_score": ("平均分", "Average score"),
    # queues
    "offered": ("呼入量", "Offered"),
    "answered": ("接通", "Answered"),
    "abandoned": ("放弃", "Abandoned"),
    "abandon_rate": ("放弃率", "Abandon rate"),
    "short_abandoned": ("短时放弃", "Short abandons"),
    "timed_out": ("排队超时", "Timed out"),
    "callbacks": ("回呼", "Callbacks"),
    "service_level": ("服务水平", "Service level"),
    "asa": ("平均应答时长（秒）", "ASA (s)"),
    "aht": ("平均处理时长（秒）", "AHT (s)"),
    "longest_wait": ("最长等待（秒）", "Longest wait (s)"),
    # agents
    "signed_in": ("签入时长（秒）", "Signed in (s)"),
    "ready": ("就绪时长（秒）", "Ready (s)"),
    "not_ready": ("未就绪时长（秒）", "Not ready (s)"),
    "not_ready_by_reason": ("未就绪时长（秒）", "Not ready (s)"),
    "calls_in": ("呼入接听", "Calls in"),
    "talk_in": ("呼入通话时长（秒）", "Talk time in (s)"),
    "calls_out": ("外呼", "Calls out"),
    "connected_out": ("外呼接通", "Calls out connected"),
    "talk_out": ("外呼通话时长（秒）", "Talk time out (s)"),
    "hold": ("保持时长（秒）", "Hold (s)"),
    "wrap_up": ("话后处理时长（秒）", "Wrap-up (s)"),
    "occupancy": ("占用率", "Occupancy"),
    "transfers": ("转接", "Transfers"),
    "survey_score": ("满意度评分", "Survey score"),
    "qa_score": ("质检得分", "QA score"),
    # the IVR
    "calls": ("来电", "Calls"),
    "visits": ("访问次数", "Visits"),
    "self_service": ("自助完成", "Self-service completed"),
    "ended_in_ivr": ("在 IVR 结束", "Ended in IVR"),
    "to_agent": ("随后转人工", "Then to an agent"),
    # conversations (the chat report)
    "assigned": ("已分配", "Assigned"),
    "messages_left": ("留言转工单", "Messages left → tickets"),
    "wait_median": ("等待分配中位数（秒）", "Wait to assign, median (s)"),
    "wait_p90": ("等待分配 P90（秒）", "Wait to assign, p90 (s)"),
    "first_response": ("平均首次响应（秒）", "First response, average (s)"),
    "handle_time": ("平均处理时长（秒）", "Handle time, average (s)"),
    "messages_in": ("客户消息", "Messages in"),
    "messages_out": ("回复消息", "Messages out"),
    "rated": ("评价数", "Ratings"),
    "rating_avg": ("平均评分", "Average rating"),
    "csat": ("满意率（4–5 星）", "CSAT (4–5 stars)"),
}

BY_SUBJECT: dict[str, dict[str, Name]] = {
    "chats": {
        "offered": ("进线会话", "Conversations offered"),
        "answered": ("已回复", "Answered"),
        "closed": ("已关闭", "Closed"),
        "abandoned": ("放弃", "Abandoned"),
    },
    "ivr": {
        "calls": ("进入 IVR 来电", "Calls in IVR"),
        "visits": ("访问或咨询次数", "Visits or times asked"),
    },
}

NOT_FIGURES = frozenset({"key", "label", "start", "dimension", "kind"})
"""What a report's rows and points carry beside their figures."""


def figure_name(subject: str, key: str, locale: str) -> str:
    """The figure's name in the locale; `not_ready_by_reason.午餐` is 未就绪时长（秒） · 午餐."""
    base, _, reason = key.partition(".")
    name = BY_SUBJECT.get(subject, {}).get(base) or NAMES.get(base, (base, base))
    shown = name[1] if locale.startswith("en") else name[0]
    return f"{shown} · {reason or '—'}" if "." in key else shown
