"""Routes for telephony settings (extensions, trunks, numbers) and the live voice status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import SESSION_COOKIE, SHARED_PATH, IdPath, problem_doc, requires
from hotline.telephony import phone as phones
from hotline.telephony import service
from hotline.telephony.models import Trunk
from hotline.telephony.schemas import (
    DidCreate,
    DidOut,
    DidUpdate,
    ExtensionCreate,
    ExtensionOut,
    ExtensionUpdate,
    PhoneCredentials,
    PromptName,
    PromptOut,
    PromptSpeak,
    TrunkCreate,
    TrunkOut,
    TrunkUpdate,
    VoiceStatus,
)

router = APIRouter(prefix="/api/telephony", tags=["telephony"])
phone = APIRouter(prefix="/api/phone", tags=["phone"])
routers = [router, phone]
READ = Annotated[Context, Depends(requires(Permission.TELEPHONY_READ))]
WRITE = Annotated[Context, Depends(requires(Permission.TELEPHONY_WRITE))]
AGENT = Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))]


def _trunk_out(trunk: Trunk) -> TrunkOut:
    return TrunkOut(
        id=trunk.id, name=trunk.name, host=trunk.host, port=trunk.port, transport=trunk.transport,
        username=trunk.username, has_password=bool(trunk.password), registers=trunk.registers,
        expires=trunk.expires, outbound=trunk.outbound, caller_id=trunk.caller_id, enabled=trunk.enabled,
        dids=[DidOut.model_validate(did) for did in trunk.dids], created_at=trunk.created_at,
        updated_at=trunk.updated_at,
    )  # fmt: skip


@router.get("/extensions")
async def list_extensions(ctx: READ) -> list[ExtensionOut]:
    return [ExtensionOut.model_validate(e) for e in await service.list_extensions(ctx)]


@router.post("/extensions", status_code=status.HTTP_201_CREATED)
async def create_extension(body: ExtensionCreate, ctx: WRITE) -> ExtensionOut:
    return ExtensionOut.model_validate(await service.create_extension(ctx, body))


@router.patch("/extensions/{extension_id}")
async def update_extension(extension_id: IdPath, body: ExtensionUpdate, ctx: WRITE) -> ExtensionOut:
    return ExtensionOut.model_validate(await service.update_extension(ctx, extension_id, body))


@router.delete("/extensions/{extension_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_extension(extension_id: IdPath, ctx: WRITE) -> None:
    await service.delete_extension(ctx, extension_id)


@router.get("/trunks")
async def list_trunks(ctx: READ) -> list[TrunkOut]:
    return [_trunk_out(t) for t in await service.list_trunks(ctx)]


@router.post("/trunks", status_code=status.HTTP_201_CREATED)
async def create_trunk(body: TrunkCreate, ctx: WRITE) -> TrunkOut:
    return _trunk_out(await service.create_trunk(ctx, body))


@router.patch("/trunks/{trunk_id}")
async def update_trunk(trunk_id: IdPath, body: TrunkUpdate, ctx: WRITE) -> TrunkOut:
    return _trunk_out(await service.update_trunk(ctx, trunk_id, body))


@router.delete("/trunks/{trunk_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_trunk(trunk_id: IdPath, ctx: WRITE) -> None:
    await service.delete_trunk(ctx, trunk_id)


@router.post("/dids", status_code=status.HTTP_201_CREATED)
async def create_did(body: DidCreate, ctx: WRITE) -> DidOut:
    return DidOut.model_validate(await service.create_did(ctx, body))


@router.patch("/dids/{did_id}")
async def update_did(did_id: IdPath, body: DidUpdate, ctx: WRITE) -> DidOut:
    return DidOut.model_validate(await service.update_did(ctx, did_id, body))


@router.delete("/dids/{did_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_did(did_id: IdPath, ctx: WRITE) -> None:
    await service.delete_did(ctx, did_id)


@router.get("/status")
async def voice_status(request: Request, ctx: READ) -> VoiceStatus:
    """This node's voice engine: registered phones, trunk registrations, calls, blocked addresses."""
    return service.status(ctx, request.app.state.hotline.sip)


@router.post("/blocked/{host}/unblock", status_code=status.HTTP_204_NO_CONTENT)
async def unblock(
    request: Request, host: Annotated[str, Path(max_length=64, pattern=r"^[0-9A-Fa-f.:]+$")], ctx: WRITE
) -> None:
    await service.unblock(ctx, request.app.state.hotline.sip, host)


@router.get("/prompts")
async def list_prompts(ctx: READ) -> list[PromptOut]:
    return [PromptOut.model_validate(p) for p in await service.list_prompts(ctx)]


@router.put(
    "/prompts/{name}",
    responses=SHARED_PATH,  # /prompts/3 is a prompt by id: DELETE
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_prompt(
    name: Annotated[PromptName, Path()],
    request: Request,
    ctx: WRITE,
    description: Annotated[str, Query(max_length=200)] = "",
) -> PromptOut:
    """Upload a WAV recording as the prompt `name` (replacing it); stored as 8 kHz μ-law."""
    return PromptOut.model_validate(
        await service.upload_prompt(ctx, name, await request.body(), description=description)
    )


@router.post("/prompts/{name}/speak")
async def speak_prompt(name: Annotated[PromptName, Path()], body: PromptSpeak, ctx: WRITE) -> PromptOut:
    """Make the prompt `name` from text, spoken in Mandarin."""
    return PromptOut.model_validate(await service.speak_prompt(ctx, name, body))


@router.get(
    "/prompts/{prompt_id}/audio", response_class=Response, responses={200: {"content": {"audio/wav": {}}}}
)
async def prompt_audio(prompt_id: IdPath, ctx: READ) -> Response:
    return Response(await service.prompt_wav(ctx, prompt_id), media_type="audio/wav")


@router.delete("/prompts/{prompt_id}", status_code=status.HTTP_204_NO_CONTENT, responses=SHARED_PATH)
async def delete_prompt(prompt_id: IdPath, ctx: WRITE) -> None:
    await service.delete_prompt(ctx, prompt_id)


@phone.post(
    "/credentials",
    responses={
        401: problem_doc("Not signed in with a web session (`phone-needs-web-session` for an API token)"),
        404: problem_doc("The user has no enabled extension (`user-has-no-extension`)"),
    },
)
async def phone_credentials(request: Request, ctx: AGENT) -> PhoneCredentials:
    """A SIP credential for the browser phone, bound to this web session (docs/voice.md, "SIP over
    WebSocket"): register over `ws_path` with it until `expires_at`, then fetch another."""
    return await phones.issue_phone_credentials(ctx, request.cookies.get(SESSION_COOKIE))
