from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from hotline.core.schemas import NON_BLANK, DbId, Input, Output

ExtensionNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{3,6}$")]
SipPassword = Annotated[str, StringConstraints(min_length=6, max_length=64, pattern=r"^[\x21-\x7e]+$")]
"""Printable ASCII without spaces: what every desk phone's keypad and web form can enter."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=NON_BLANK)]
Host = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.:\[\]-]+$")]
PhoneNumber = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{3,20}$")]
EntryPoint = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
TrunkName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Account = Annotated[str, StringConstraints(max_length=64, pattern=r"^[\x21-\x7e]*$")]


class ExtensionOut(Output):
    id: int
    number: str
    display_name: str
    user_id: int | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class ExtensionCreate(Input):
    number: ExtensionNumber
    display_name: Name
    password: SipPassword
    user_id: DbId | None = None
    enabled: bool = True


class ExtensionUpdate(Input):
    display_name: Name | None = None
    password: SipPassword | None = None
    user_id: DbId | None = None
    enabled: bool | None = None


class DidOut(Output):
    id: int
    number: str
    trunk_id: int
    entry_point: str
    description: str


class DidCreate(Input):
    number: PhoneNumber
    trunk_id: DbId
    entry_point: EntryPoint
    description: Annotated[str, StringConstraints(max_length=120)] = ""


class DidUpdate(Input):
    trunk_id: DbId | None = None
    entry_point: EntryPoint | None = None
    description: Annotated[str, StringConstraints(max_length=120)] | None = None


class TrunkOut(Output):
    id: int
    name: str
    host: str
    port: int
    transport: str
    username: str
    has_password: bool
    registers: bool
    expires: int
    outbound: bool
    caller_id: str
    enabled: bool
    dids: list[DidOut]
    created_at: datetime
    updated_at: datetime


class TrunkCreate(Input):
    name: TrunkName
    host: Host
    port: int = Field(default=5060, ge=1, le=65535)
    transport: Literal["UDP", "TCP"] = "UDP"
    username: Account = ""
    password: Annotated[str, StringConstraints(max_length=128)] = ""
    registers: bool = False
    expires: int = Field(default=600, ge=60, le=86400)
    outbound: bool = True
    caller_id: Annotated[str, StringConstraints(pattern=r"^(\+?[0-9]{3,20})?$")] = ""
    enabled: bool = True


class TrunkUpdate(Input):
    host: Host | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    transport: Literal["UDP", "TCP"] | None = None
    username: Account | None = None
    password: Annotated[str, StringConstraints(max_length=128)] | None = None
    """Omitted: unchanged (the API never shows it back)."""
    registers: bool | None = None
    expires: int | None = Field(default=None, ge=60, le=86400)
    outbound: bool | None = None
    caller_id: Annotated[str, StringConstraints(pattern=r"^(\+?[0-9]{3,20})?$")] | None = None
    enabled: bool | None = None


class ContactOut(Output):
    contact: str
    address: str
    transport: str
    expires_in: int


class ExtensionStatus(Output):
    number: str
    contacts: list[ContactOut]


class TrunkStatus(Output):
    name: str
    registers: bool
    registered: bool
    last_status: int | None
    last_error: str


class VoiceStatus(Output):
    running: bool
    listen: str | None
    active_calls: int
    max_calls: int
    refused_calls: int
    refused_auth: int
    blocked: list[str]
    extensions: list[ExtensionStatus]
    trunks: list[TrunkStatus]


PromptName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]


class PromptOut(Output):
    id: int
    name: str
    description: str
    source: Literal["upload", "tts"]
    text: str | None
    duration_ms: int
    updated_at: datetime


class PromptSpeak(Input):
    text: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NON_BLANK)]
    description: Annotated[str, StringConstraints(max_length=200)] = ""


class IceServer(Output):
    """A STUN or TURN server for the browser's WebRTC (RTCIceServer)."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class PhoneCredentials(Output):
    """What the desktop's browser phone registers with: a credential bound to the web session,
    valid over `ws_path` only, until `expires_at` (docs/voice.md, "SIP over WebSocket")."""

    extension: str
    sip_uri: str
    authorization_user: str
    password: str
    realm: str
    ws_path: str
    expires_at: datetime
    ice_servers: list[IceServer]
