"""The browser phone's SIP credential, bound to the agent's web session (docs/voice.md, "SIP over
WebSocket"): made for the signed-in user's own extension, ending with the session, checked by the
registrar without any state (voice/sip/credentials.py) under a key every node shares.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.admin import auth
from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.core.errors import NotAuthenticated, NotFound
from hotline.core.permissions import Permission
from hotline.core.security import stored_key
from hotline.telephony.models import Extension, PhoneKey
from hotline.telephony.schemas import IceServer, PhoneCredentials
from hotline.voice.sip.credentials import PhoneCredential

PHONE_WS_PATH = "/api/phone/ws"
PHONE_CREDENTIAL_HOURS = 12
"""A browser phone's credential lasts as long as the web session, and at most this long."""


async def phone_key(ctx: Context) -> bytes:
    """The key phone credentials are signed with: the setting, else the database's (made by the
    first node that needs it, so every node and every restart check the same credentials)."""
    return await stored_key(ctx, PhoneKey, ctx.settings.phone_secret)


async def issue_phone_credentials(ctx: Context, session_secret: str | None) -> PhoneCredentials:
    """A SIP credential for the signed-in agent's extension, bound to their web session: it ends
    with the session (at most 12 hours) and the registrar takes it only over a WebSocket that the
    same user opened. Nothing is stored; the issue is audited (never the password)."""
    ctx.require(Permission.CALLS_HANDLE)
    ends = await auth.session_ends(ctx, session_secret) if session_secret else None
    if ends is None:
        raise NotAuthenticated(
            "The browser phone needs a web session (an API token cannot have one)",
            reason="phone-needs-web-session",
        )
    async with ctx.read() as session:
        extension = await session.scalar(
            select(Extension).where(Extension.user_id == ctx.actor.user_id, Extension.enabled.is_(True))
        )
    if extension is None:
        raise NotFound(
            "You have no extension to answer calls on; an administrator gives you one",
            reason="user-has-no-extension",
        )
    expires_at = min(ends, utcnow() + timedelta(hours=PHONE_CREDENTIAL_HOURS)).replace(microsecond=0)
    credential = PhoneCredential.issue(extension.number, int(expires_at.timestamp()))
    password = credential.password(await phone_key(ctx))
    async with ctx.write() as tx:
        tx.audit(
            "telephony.phone_credentials", "extensions", extension.id,
            after={"extension": extension.number, "expires_at": expires_at.isoformat()},
        )  # fmt: skip
    realm = ctx.settings.sip_realm
    return PhoneCredentials(
        extension=extension.number, sip_uri=f"sip:{extension.number}@{realm}",
        authorization_user=credential.username, password=password, realm=realm, ws_path=PHONE_WS_PATH,
        expires_at=expires_at, ice_servers=ice_servers(ctx.settings, extension.number, expires_at),
    )  # fmt: skip


def ice_servers(settings: Settings, extension: str, expires_at: datetime) -> list[IceServer]:
    """The STUN and TURN servers a browser phone gathers its candidates with. TURN credentials are
    coturn's time-limited kind (its `use-auth-secret`; draft-uberti-behave-turn-rest): the user
    name is the expiry and the extension, the password an HMAC-SHA1 of it under the shared secret,
    so coturn checks them without asking us and they end with the phone credential."""
    servers = [IceServer(urls=list(settings.phone_stun_urls))] if settings.phone_stun_urls else []
    if settings.phone_turn_urls and settings.phone_turn_secret is not None:
        username = f"{int(expires_at.timestamp())}:{extension}"
        secret = settings.phone_turn_secret.get_secret_value().encode()
        password = base64.b64encode(hmac.new(secret, username.encode(), hashlib.sha1).digest()).decode()
        servers.append(IceServer(urls=list(settings.phone_turn_urls), username=username, credential=password))
    return servers


async def phone_extension(ctx: Context) -> str | None:
    """The enabled extension of the signed-in user, which their browser phone may register."""
    async with ctx.read() as session:
        number: str | None = await session.scalar(
            select(Extension.number).where(
                Extension.user_id == ctx.actor.user_id, Extension.enabled.is_(True)
            )
        )
    return number
