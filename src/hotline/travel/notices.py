"""The SMS texts and rules the travel desk ships with (O3, seed 001): order received, the
planner assigned (name and phone), contract signed, payment received, the departure reminder at
17:00 the day before and the follow-up at 12:00 the day after the return. Loaded like notify's
own defaults (`notify.defaults.load`), then edited and approved like any other template."""

from __future__ import annotations

from typing import Any

SIGN = "【英冠旅游】"
TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("order.received.sms", "sms", "travel.order", "service", "旅游订单受理短信", "",
     SIGN + "{{contact_name}}{{title}}您好，您的{{kind}}咨询已受理（订单号{{number}}），专属计调将尽快与您联系。"  # noqa: E501
     "服务热线{{agency_phone}}。"),
    ("order.assigned.sms", "sms", "travel.order", "service", "分配计调短信", "",
     SIGN + "{{contact_name}}{{title}}您好，您的订单{{number}}已由计调{{planner}}负责，联系电话{{planner_phone}}，"  # noqa: E501
     "如有需要请随时联系。"),
    ("order.signed.sms", "sms", "travel.order", "service", "合同签订短信", "",
     SIGN + "{{contact_name}}{{title}}您好，您已签订旅游合同{{contract_no}}：{{route}}，{{departs_on}}出发，"
     "{{travellers}}，合同金额¥{{receivable}}。感谢您的信任！"),
    ("order.paid.sms", "sms", "travel.order", "service", "收款确认短信", "",
     SIGN + "{{contact_name}}{{title}}您好，已收到您订单{{number}}的付款¥{{amount}}，累计已付¥{{received}}，"
     "尚余¥{{outstanding}}。"),
    ("order.departure.sms", "sms", "travel.order", "service", "出发前一天提醒", "",
     SIGN + "{{contact_name}}{{title}}您好，提醒您明天（{{departs_on}}）出发：{{route}}。请带好身份证件，"
     "按时集合。如有问题请联系计调{{planner}} {{planner_phone}}。祝您旅途愉快！"),
    ("order.return.sms", "sms", "travel.order", "service", "返回次日回访", "",
     SIGN + "{{contact_name}}{{title}}您好，欢迎旅行归来！您对{{route}}的行程是否满意？"
     "如有任何意见或建议，请回复短信或致电{{agency_phone}}，我们会认真改进。"),
)  # fmt: skip
RULES: tuple[tuple[str, str, str, dict[str, Any] | None], ...] = (
    ("旅游订单受理发短信", "order.received.sms", "travel.order:received", None),
    ("分配计调发短信", "order.assigned.sms", "travel.order:assigned", None),
    ("合同签订发短信", "order.signed.sms", "travel.order:signed", None),
    ("收到付款发短信", "order.paid.sms", "travel.order:paid", None),
    ("出发前一天17:00提醒", "order.departure.sms", "travel.departure", {"days": -1, "at": "17:00"}),
    ("返回次日12:00回访短信", "order.return.sms", "travel.return", {"days": 1, "at": "12:00"}),
)
