"""What outbound tells the rest: the SMS inviting a customer to a survey (its fields are the
variables the message template may use)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hotline.core.events import Event
from hotline.core.topics import register_topic


@register_topic
class SurveyInvite(Event):
    name = "outbound.survey"
    durable = False

    occasion: Literal["invite"] = "invite"
    ref: str = Field(description="survey:<campaign code>", examples=["survey:return-visit"])
    customer_id: int | None = Field(default=None, description="The customer", examples=[1])
    phone: str = Field(description="The number the link goes to", examples=["13800138000"])
    email: str = Field(default="", description="Not used: survey links go by SMS", examples=[""])
    customer_name: str = Field(default="", description="客户姓名", examples=["张伟"])
    survey: str = Field(description="调查名称", examples=["离店满意度回访"])
    company: str = Field(description="公司名称", examples=["英冠酒店集团"])
    link: str = Field(description="问卷链接", examples=["https://hotline.example.com/s/Q2x0a1"])
    days: int = Field(description="有效天数", examples=[7])


TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("survey.invite.sms", "sms", "outbound.survey", "service", "满意度问卷短信", "",
     "【{{company}}】{{customer_name}}您好，感谢您选择我们！邀请您花一分钟评价本次服务："
     "{{link}} （{{days}}天内有效）"),
)  # fmt: skip
"""The SMS shipped with Hotline (loaded with the demo data, then edited and approved like any
other template)."""
