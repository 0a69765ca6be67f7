"""Routes for images and PDFs in the web chat (notify/chat_files.py): the visitor's, by their
`X-Chat-Token` under `/api/chat` (public, the `chat` rate limit), and the agents' under the
conversation (`messages.send`). Files go out as the type read from their bytes, never sniffed by
the browser, never run: `nosniff`, `Content-Security-Policy: sandbox; default-src 'none'`, PDFs
(and images asked for with `download=true`) as attachments."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, UploadFile
from fastapi.responses import Response

from hotline.core.context import Actor, Context
from hotline.core.permissions import Permission
from hotline.core.schemas import MAX_ID
from hotline.core.web import IdPath, problem_doc, requires
from hotline.notify import chat_files
from hotline.notify.chat_api import TOKEN, VISITOR
from hotline.notify.schemas import ChatStateOut, ConversationMessageOut

visitor_router = APIRouter(prefix="/api/chat", tags=["chat"])
staff_router = APIRouter(prefix="/api/notify", tags=["notify"])
SEND = Annotated[Context, Depends(requires(Permission.MESSAGES_SEND))]
FileId = Annotated[int, Path(ge=1, le=MAX_ID, description="The id of the message that carries the file")]
DOWNLOAD = Annotated[bool, Query(description="As an attachment (PDFs always are)")]
REFUSED: dict[int | str, dict[str, Any]] = {
    413: problem_doc("Over a size limit: the file's, or the conversation's files' together"),
    415: problem_doc("Not a JPEG, PNG, GIF, WebP image or a PDF, read from its bytes (`chat-file-type`)"),
}
SERVED: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {t: {} for t in ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")}
    },
    404: problem_doc("No such file in this chat (`no-chat-file`)"),
}
UPLOAD_PATHS = (r"^/api/chat/files$", r"^/api/notify/conversations/\d+/files$")
"""Where a request body may be as large as the largest file (api/middleware.py)."""


async def _upload(ctx: Context, file: UploadFile) -> chat_files.Upload:
    data = await file.read(chat_files.upload_limit(ctx.settings))
    return chat_files.Upload(name=file.filename or "", data=data)


def _response(served: chat_files.Served) -> Response:
    ascii_name = served.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = "attachment" if served.attachment else "inline"
    return Response(
        served.data,
        media_type=served.media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(served.filename, safe='')}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Cache-Control": "private, max-age=3600",
        },
    )


@visitor_router.post("/files", status_code=201, responses=REFUSED)
async def visitor_sends(file: UploadFile, token: TOKEN, ctx: VISITOR) -> ChatStateOut:
    """The visitor sends an image (JPEG, PNG, GIF, WebP) or a PDF (multipart, field `file`); its
    type is read from its bytes. Returns the lines from the new one on."""
    return await chat_files.visitor_sends(
        ctx.as_actor(Actor.system("notify:web")), token, await _upload(ctx, file)
    )


@visitor_router.get("/files/{file_id}", response_class=Response, responses=SERVED)
async def visitor_reads(file_id: FileId, token: TOKEN, ctx: VISITOR, download: DOWNLOAD = False) -> Response:
    """A file of the visitor's own chat."""
    return _response(await chat_files.visitor_reads(ctx, token, file_id, download=download))


@staff_router.post("/conversations/{conversation_id}/files", status_code=201, responses=REFUSED)
async def agent_sends(conversation_id: IdPath, file: UploadFile, ctx: SEND) -> ConversationMessageOut:
    """An agent answers a web chat with an image or a PDF, a WeChat or WeCom customer with a picture
    (415 `chat-files-images-only` for another type; 422 `chat-files-web-only` in an SMS one)."""
    return await chat_files.agent_sends(ctx, conversation_id, await _upload(ctx, file))


@staff_router.get(
    "/conversations/{conversation_id}/files/{file_id}", response_class=Response, responses=SERVED
)
async def staff_reads(
    conversation_id: IdPath, file_id: FileId, ctx: SEND, download: DOWNLOAD = False
) -> Response:
    """A file of a conversation; each read is audited."""
    return _response(await chat_files.staff_reads(ctx, conversation_id, file_id, download=download))
