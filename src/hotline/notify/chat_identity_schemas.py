"""What the web chat's identification takes and gives (notify/chat_identity.py): the visitor's
SMS code and member token, and the chat sites an administrator sets up."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from hotline.core import privacy
from hotline.core.schemas import Input, Output

CodePhone = Annotated[str, StringConstraints(min_length=7, max_length=20, pattern=r"^\+?[0-9 ()-]{7,20}$")]


class ChatCodeIn(Input):
    phone: CodePhone = Field(description="The mobile number to text the code to")


class ChatCodeSentOut(Output):
    phone: privacy.Phone
    expires_in: int = Field(description="Seconds the code is valid")
    resend_in: int = Field(description="Seconds before another code can be asked")


class ChatVerifyIn(Input):
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] = Field(description="The 6 digits texted")


class ChatMemberIn(Input):
    member_token: Annotated[
        str,
        StringConstraints(
            min_length=10, max_length=2048, pattern=r"^[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*$"
        ),
    ] = Field(description="The JWT (HS256) the partner site signed for its logged-in member")


class ChatSiteIn(Input):
    name: Annotated[str, StringConstraints(max_length=80, strip_whitespace=True)] = ""
    member_secret: Annotated[str, StringConstraints(pattern=r"^([\x21-\x7e]{32,200})?$")] | None = Field(
        default=None,
        description="The HS256 secret of the site's member tokens (32–200 printable characters); "
        "left out: kept; empty: removed. Never shown back.",
    )


class ChatSiteOut(Output):
    site: str
    name: str
    has_member_secret: bool = Field(
        description="Whether member tokens are accepted; the secret is never shown"
    )
