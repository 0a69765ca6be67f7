"""What the canned phrases (常用语 / 快捷回复, notify/canned.py) take and give."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from hotline.core.schemas import NON_BLANK, Input, Output

CannedCategory = Literal["greeting", "booking", "travel", "complaint", "closing", "other"]
CannedUse = Literal["conversations", "tickets", "both"]
CannedPlace = Literal["conversations", "tickets"]
TicketTypeCode = Annotated[str, StringConstraints(pattern=r"^([a-z][a-z0-9_\-]{1,31})?$")]


class CannedPhraseIn(Input):
    """A canned phrase as its editor writes it."""

    title: Annotated[
        str, StringConstraints(min_length=1, max_length=60, pattern=NON_BLANK, strip_whitespace=True)
    ]
    text: Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=NON_BLANK)] = Field(
        description="The phrase; {客户称呼} becomes the customer's or visitor's name, {number} the ticket's"
    )
    category: CannedCategory = Field(
        description="问候 greeting, 预订 booking, 旅游 travel, 投诉 complaint, 结束语 closing, 其他 other"
    )
    used_in: CannedUse = Field(
        default="conversations",
        description="Offered in conversations' replies, in tickets (results, notes), or both",
    )
    ticket_type: TicketTypeCode = Field(
        default="", description="On tickets, offered on this type only (its code); empty: on every type"
    )
    sort_order: Annotated[int, Field(ge=0, le=9999)] = 0
    active: bool = True


class CannedPhraseOut(Output):
    id: int
    title: str
    text: str
    category: CannedCategory
    used_in: CannedUse
    ticket_type: str
    sort_order: int
    active: bool
    updated_at: datetime
    editable: bool = Field(default=False, description="Whether the reader may change or delete it")
