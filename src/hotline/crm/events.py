"""What the customers domain tells the rest: a customer's notices for messages (birthday and
festival greetings, messages sent by hand; the fields are the templates' variables), and that a
customer was forgotten (every domain that keeps their personal data erases it)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hotline.core.events import Event
from hotline.core.privacy import Phone
from hotline.core.topics import register_topic
from hotline.crm.festivals import Festival


@register_topic
class CustomerNotice(Event):
    name = "crm.customer"
    durable = True

    occasion: Literal["birthday", "festival", "manual"]
    ref: str = Field(description="customer:<member number>", examples=["customer:88000001"])
    customer_id: int | None = Field(default=None, examples=[1])
    phone: str = Field(default="", description="首选电话", examples=["13800138000"])
    email: str = Field(default="", description="邮箱", examples=["zhangwei@example.com"])
    customer_name: str = Field(description="姓名", examples=["张伟"])
    title: str = Field(default="", description="称呼（先生/女士）", examples=["先生"])
    member_number: str = Field(description="会员号", examples=["88000001"])
    tier: str = Field(description="会员等级代码", examples=["gold"])
    tier_name: str = Field(description="会员等级", examples=["金卡"])
    points: int = Field(description="积分", examples=[12800])
    festival: Festival | Literal[""] = Field(default="", description="节日（节日问候）", examples=["中秋节"])


class CustomerForgotten(Event):
    """The customer asked to be forgotten (PIPL art. 47) and their file was anonymised. Reactions
    erase what other domains keep of them (quality: their recordings and transcripts). `phones`
    are the numbers the file had, for data linked by number alone; they leave the process masked
    (a reaction runs in the committing process, with the event itself)."""

    name = "crm.customer_forgotten"

    customer_id: int
    phones: list[Phone] = Field(default_factory=list)
