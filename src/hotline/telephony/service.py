"""Telephony configuration: extensions, trunks and DIDs, and what the voice engine loads of them.

Every change publishes `TelephonyChanged`; each node running the voice role reloads at once,
so a new extension can register and a new DID takes calls without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.telephony import errors, phone
from hotline.telephony.events import TelephonyChanged
from hotline.telephony.models import Did, Extension, Prompt, Trunk
from hotline.telephony.schemas import (
    ContactOut,
    DidCreate,
    DidUpdate,
    ExtensionCreate,
    ExtensionStatus,
    ExtensionUpdate,
    PromptSpeak,
    TrunkCreate,
    TrunkStatus,
    TrunkUpdate,
    VoiceStatus,
)
from hotline.voice.media.g711 import ulaw_to_wav
from hotline.voice.media.tts import AudioUnreadable, PromptCache, TtsUnavailable, wav_to_mulaw
from hotline.voice.sip import trunk as sip_trunk
from hotline.voice.sip.digest import DigestSecret

if TYPE_CHECKING:
    from hotline.voice.sip.server import SipServer

log = structlog.get_logger(__name__)

_GUESSABLE = frozenset({"123456", "1234567", "12345678", "000000", "111111", "password", "sip123"})


def _check_sip_password(number: str, password: str, field: str) -> None:
    lowered = password.lower()
    if lowered in _GUESSABLE or password == number or len(set(password)) < 3:
        raise errors.WeakSipPassword(
            "SIP scanners try the extension number and common passwords first; choose another",
            field=field,
            reason="sip-scanners-try-extension-number",
        )


# ---------------------------------------------------------------- extensions


async def list_extensions(ctx: Context) -> list[Extension]:
    ctx.require(Permission.TELEPHONY_READ)
    async with ctx.read() as session:
        return list((await session.scalars(select(Extension).order_by(Extension.number))).all())


@dataclass(frozen=True)
class UserExtension:
    user_id: int
    number: str
    enabled: bool


async def user_extensions(ctx: Context) -> list[UserExtension]:
    """Every extension given to a user, by number: what the contact layer rings agents on. A read
    for services that checked their caller's permission already (none of its own)."""
    async with ctx.read() as session:
        rows = await session.execute(
            select(Extension.user_id, Extension.number, Extension.enabled)
            .where(Extension.user_id.is_not(None))
            .order_by(Extension.number)
        )
        return [UserExtension(user_id, number, enabled) for user_id, number, enabled in rows if user_id]


async def _extension(session: AsyncSession, extension_id: int) -> Extension:
    extension = await session.get(Extension, extension_id)
    if extension is None:
        raise NotFound(
            f"Extension {extension_id} does not exist",
            reason="extension-does-not-exist",
            params={"extension_id": extension_id},
        )
    return extension


async def _check_user(session: AsyncSession, user_id: int | None, extension_id: int | None) -> None:
    if user_id is None:
        return
    if await directory.person(session, user_id) is None:
        raise InvalidInput(
            f"User {user_id} does not exist",
            field="body.user_id",
            reason="user-does-not-exist",
            params={"user_id": user_id},
        )
    owner = await session.scalar(select(Extension.id).where(Extension.user_id == user_id))
    if owner is not None and owner != extension_id:
        raise errors.UserHasExtension(field="body.user_id")


async def create_extension(ctx: Context, data: ExtensionCreate) -> Extension:
    ctx.require(Permission.TELEPHONY_WRITE)
    _check_sip_password(data.number, data.password, "body.password")
    realm = ctx.settings.sip_realm
    secret = DigestSecret.from_password(data.number, realm, data.password)
    async with ctx.write() as tx:
        if await tx.session.scalar(select(Extension.id).where(Extension.number == data.number)):
            raise errors.ExtensionTaken(
                f"Extension {data.number} exists",
                field="body.number",
                reason="extension-exists",
                params={"number": data.number},
            )
        await _check_user(tx.session, data.user_id, None)
        extension = Extension(
            number=data.number, display_name=data.display_name, user_id=data.user_id, realm=realm,
            ha1_md5=secret.md5, ha1_sha256=secret.sha256, enabled=data.enabled,
        )  # fmt: skip
        tx.session.add(extension)
        await tx.session.flush()
        tx.publish(TelephonyChanged(what="extensions"))
    return extension


async def update_extension(ctx: Context, extension_id: int, data: ExtensionUpdate) -> Extension:
    ctx.require(Permission.TELEPHONY_WRITE)
    changes = data.model_dump(exclude_unset=True)
    async with ctx.write() as tx:
        extension = await _extension(tx.session, extension_id)
        if "user_id" in changes:
            await _check_user(tx.session, data.user_id, extension.id)
            extension.user_id = data.user_id
        if data.password is not None:
            _check_sip_password(extension.number, data.password, "body.password")
            secret = DigestSecret.from_password(extension.number, ctx.settings.sip_realm, data.password)
            extension.realm, extension.ha1_md5, extension.ha1_sha256 = (
                ctx.settings.sip_realm,
                secret.md5,
                secret.sha256,
            )
        if data.display_name is not None:
            extension.display_name = data.display_name
        if data.enabled is not None:
            extension.enabled = data.enabled
        tx.publish(TelephonyChanged(what="extensions"))
    return extension


async def delete_extension(ctx: Context, extension_id: int) -> None:
    ctx.require(Permission.TELEPHONY_WRITE)
    async with ctx.write() as tx:
        await tx.session.delete(await _extension(tx.session, extension_id))
        tx.publish(TelephonyChanged(what="extensions"))


# ---------------------------------------------------------------- trunks and numbers


async def list_trunks(ctx: Context) -> list[Trunk]:
    ctx.require(Permission.TELEPHONY_READ)
    async with ctx.read() as session:
        return list((await session.scalars(select(Trunk).order_by(Trunk.name))).all())


async def _trunk(session: AsyncSession, trunk_id: int, field: str | None = None) -> Trunk:
    trunk = await session.get(Trunk, trunk_id)
    if trunk is None:
        if field is not None:
            raise InvalidInput(
                f"Trunk {trunk_id} does not exist",
                field=field,
                reason="trunk-does-not-exist",
                params={"trunk_id": trunk_id},
            )
        raise NotFound(
            f"Trunk {trunk_id} does not exist", reason="trunk-does-not-exist", params={"trunk_id": trunk_id}
        )
    return trunk


def _check_registration(trunk: Trunk) -> None:
    if trunk.registers and not (trunk.username and trunk.password):
        raise errors.RegistrationNeedsCredentials(field="body.registers")


async def create_trunk(ctx: Context, data: TrunkCreate) -> Trunk:
    ctx.require(Permission.TELEPHONY_WRITE)
    async with ctx.write() as tx:
        if await tx.session.scalar(select(Trunk.id).where(Trunk.name == data.name)):
            raise errors.TrunkNameTaken(
                f"Trunk {data.name!r} exists",
                field="body.name",
                reason="trunk-exists",
                params={"name": repr(data.name)},
            )
        trunk = Trunk(**data.model_dump(), dids=[])
        _check_registration(trunk)
        tx.session.add(trunk)
        await tx.session.flush()
        tx.publish(TelephonyChanged(what="trunks"))
    return trunk


async def update_trunk(ctx: Context, trunk_id: int, data: TrunkUpdate) -> Trunk:
    ctx.require(Permission.TELEPHONY_WRITE)
    async with ctx.write() as tx:
        trunk = await _trunk(tx.session, trunk_id)
        for key, value in data.model_dump(exclude_unset=True).items():
            if value is not None:
                setattr(trunk, key, value)
        _check_registration(trunk)
        tx.publish(TelephonyChanged(what="trunks"))
    return trunk


async def delete_trunk(ctx: Context, trunk_id: int) -> None:
    ctx.require(Permission.TELEPHONY_WRITE)
    async with ctx.write() as tx:
        await tx.session.delete(await _trunk(tx.session, trunk_id))
        tx.publish(TelephonyChanged(what="trunks"))


async def create_did(ctx: Context, data: DidCreate) -> Did:
    ctx.require(Permission.TELEPHONY_WRITE)
    async with ctx.write() as tx:
        await _trunk(tx.session, data.trunk_id, "body.trunk_id")
        if await tx.session.scalar(select(Did.id).where(Did.number == data.number)):
            raise errors.DidTaken(
                f"{data.number} is already configured",
                field="body.number",
                reason="already-configured",
                params={"number": data.number},
            )
        did = Did(**data.model_dump())
        tx.session.add(did)
        await tx.session.flush()
        tx.publish(TelephonyChanged(what="dids"))
    return did


async def _did(session: AsyncSession, did_id: int) -> Did:
    did = await session.get(Did, did_id)
    if did is None:
        raise NotFound(
            f"Number {did_id} does not exist", reason="number-does-not-exist", params={"did_id": did_id}
        )
    return did


async def update_did(ctx: Context, did_id: int, data: DidUpdate) -> Did:
    ctx.require(Permission.TELEPHONY_WRITE)
    async with ctx.write() as tx:
        did = await _did(tx.session, did_id)
        if data.trunk_id is not None:
            await _trunk(tx.session, data.trunk_id, "body.trunk_id")
            did.trunk_id = data.trunk_id
        if data.entry_point is not None:
            did.entry_point = data.entry_point
        if data.description is not None:
            did.description = data.description
        tx.publish(TelephonyChanged(what="dids"))
    return did


async def delete_did(ctx: Context, did_id: int) -> None:
    ctx.require(Permission.TELEPHONY_WRITE)
    async with ctx.write() as tx:
        await tx.session.delete(await _did(tx.session, did_id))
        tx.publish(TelephonyChanged(what="dids"))


# ---------------------------------------------------------------- prompts

MAX_PROMPT_MS = 10 * 60 * 1000


async def list_prompts(ctx: Context) -> list[Prompt]:
    ctx.require(Permission.TELEPHONY_READ)
    async with ctx.read() as session:
        return list((await session.scalars(select(Prompt).order_by(Prompt.name))).all())


async def store_prompt(
    ctx: Context, name: str, audio: bytes, *, source: str, description: str, text: str | None = None
) -> Prompt:
    """Store 8 kHz μ-law audio as the prompt `name`, replacing one of that name."""
    ctx.require(Permission.TELEPHONY_WRITE)
    duration_ms = len(audio) // 8
    if duration_ms > MAX_PROMPT_MS:
        raise errors.PromptTooLong(field="body")
    async with ctx.write() as tx:
        prompt = await tx.session.scalar(select(Prompt).where(Prompt.name == name))
        if prompt is None:
            prompt = Prompt(name=name)
            tx.session.add(prompt)
        prompt.audio, prompt.duration_ms, prompt.source = audio, duration_ms, source
        prompt.description, prompt.text = description, text
        await tx.session.flush()
        tx.publish(TelephonyChanged(what="prompts"))
    return prompt


async def upload_prompt(ctx: Context, name: str, wav: bytes, *, description: str = "") -> Prompt:
    """Store a recording under `name` (replacing one of that name), converted to 8 kHz μ-law."""
    ctx.require(Permission.TELEPHONY_WRITE)
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise errors.UnreadableAudio(
            "Upload a WAV file (RIFF/WAVE)", field="body", reason="upload-wav-file-riff-wave"
        )
    try:
        audio = await wav_to_mulaw(wav)
    except AudioUnreadable as exc:
        raise errors.UnreadableAudio(
            f"The WAV file cannot be read: {exc}",
            field="body",
            reason="wav-file-cannot-read",
            params={"exc": exc},
        ) from exc
    except TtsUnavailable as exc:
        raise errors.SpeechUnavailable(str(exc)) from exc
    return await store_prompt(ctx, name, audio, source="upload", description=description, text=None)


async def speak_prompt(ctx: Context, name: str, data: PromptSpeak) -> Prompt:
    """Store `text` spoken in Mandarin (espeak-ng) under `name`."""
    ctx.require(Permission.TELEPHONY_WRITE)
    try:
        audio = await PromptCache(ctx.settings.prompt_cache).mulaw(data.text)
    except TtsUnavailable as exc:
        raise errors.SpeechUnavailable(str(exc)) from exc
    return await store_prompt(ctx, name, audio, source="tts", description=data.description, text=data.text)


async def prompt_audio(ctx: Context, name: str) -> bytes | None:
    """A prompt's 8 kHz μ-law audio for the voice engine (a system read); None if there is none."""
    async with ctx.read() as session:
        return await session.scalar(select(Prompt.audio).where(Prompt.name == name))


async def prompt_wav(ctx: Context, prompt_id: int) -> bytes:
    """The prompt as a 16-bit WAV file, for listening to it in the browser."""
    ctx.require(Permission.TELEPHONY_READ)
    async with ctx.read() as session:
        audio = await session.scalar(select(Prompt.audio).where(Prompt.id == prompt_id))
    if audio is None:
        raise NotFound(
            f"Prompt {prompt_id} does not exist",
            reason="prompt-does-not-exist",
            params={"prompt_id": prompt_id},
        )
    return ulaw_to_wav(audio)


async def delete_prompt(ctx: Context, prompt_id: int) -> None:
    ctx.require(Permission.TELEPHONY_WRITE)
    async with ctx.write() as tx:
        prompt = await tx.session.get(Prompt, prompt_id)
        if prompt is None:
            raise NotFound(
                f"Prompt {prompt_id} does not exist",
                reason="prompt-does-not-exist",
                params={"prompt_id": prompt_id},
            )
        await tx.session.delete(prompt)
        tx.publish(TelephonyChanged(what="prompts"))


# ---------------------------------------------------------------- what the engine runs on


@dataclass(frozen=True)
class VoiceConfig:
    extensions: dict[str, DigestSecret]
    trunks: list[sip_trunk.Trunk]
    phone_key: bytes
    """The key browsers' phone credentials are signed with (telephony/phone.py)."""


async def load_config(ctx: Context) -> VoiceConfig:
    """The enabled extensions and trunks, as the SIP server takes them (a system read)."""
    realm = ctx.settings.sip_realm
    async with ctx.read() as session:
        extensions = (await session.scalars(select(Extension).where(Extension.enabled.is_(True)))).all()
        trunks = (await session.scalars(select(Trunk).where(Trunk.enabled.is_(True)))).all()
    secrets = {}
    for extension in extensions:
        if extension.realm != realm:
            log.warning("extension password set for another realm; reset it", extension=extension.number)
            continue
        secrets[extension.number] = DigestSecret(extension.ha1_md5, extension.ha1_sha256)
    key = await phone.phone_key(ctx)
    return VoiceConfig(
        secrets,
        [
            sip_trunk.Trunk(
                t.name,
                t.host,
                t.port,
                t.transport,
                t.username,
                t.password,
                t.registers,
                t.expires,
                {did.number: did.entry_point for did in t.dids},
                t.outbound,
                t.caller_id,
            )
            for t in trunks
        ],
        key,
    )


def status(ctx: Context, sip: SipServer | None) -> VoiceStatus:
    """What this node's voice engine is doing: registrations, trunks, calls, blocked addresses."""
    ctx.require(Permission.TELEPHONY_READ)
    if sip is None:
        return VoiceStatus(
            running=False, listen=None, active_calls=0, max_calls=0, refused_calls=0, refused_auth=0,
            blocked=[], extensions=[], trunks=[],
        )  # fmt: skip
    extensions = []
    for number in sorted(sip.extensions):
        contacts = [
            ContactOut(
                contact=b.contact,
                address=f"{b.peer.host}:{b.peer.port}",
                transport=b.peer.transport,
                expires_in=max(0, round(b.expires_at - sip.clock())),
            )
            for b in sip.registrar.contacts(number)
        ]
        extensions.append(ExtensionStatus(number=number, contacts=contacts))
    trunks = []
    for trunk in sip.trunks:
        registration = next((r for r in sip.registrations if r.trunk.name == trunk.name), None)
        state = registration.state if registration is not None else None
        trunks.append(
            TrunkStatus(
                name=trunk.name,
                registers=trunk.register,
                registered=bool(state and state.registered),
                last_status=state.last_status if state else None,
                last_error=state.last_error if state else "",
            )
        )
    return VoiceStatus(
        running=True,
        listen=f"{sip.host}:{sip.port}",
        active_calls=len(sip.engine.legs),
        max_calls=sip.max_calls,
        refused_calls=sip.engine.refused,
        refused_auth=sip.guard.refused,
        blocked=sip.guard.blocked_hosts(),
        extensions=extensions,
        trunks=trunks,
    )


async def unblock(ctx: Context, sip: SipServer | None, host: str) -> None:
    """Let an address that failed authentication too often in again (audited)."""
    ctx.require(Permission.TELEPHONY_WRITE)
    if sip is None or host not in sip.guard.blocked_hosts():
        raise NotFound(
            f"{host} is not blocked on this node", reason="not-blocked-node", params={"host": host}
        )
    sip.guard.unblock(host)
    async with ctx.write() as tx:
        tx.audit("telephony.unblock", "sip_address", host)
