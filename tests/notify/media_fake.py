"""Tencent's temporary-media API (`GET /cgi-bin/media/get?access_token&media_id`, `POST
/cgi-bin/media/upload?access_token&type` with the file as multipart `media`) as the official
account's and WeCom's published specs describe it, for their fakes: the file with its
Content-Type and `Content-disposition: attachment; filename="…"`, or — with HTTP 200 all the
same — JSON with errcode (40007 for a media it does not have, -1 when busy)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI, UploadFile
from fastapi.responses import JSONResponse, Response


@dataclass
class FakeMedia:
    files: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)
    """What a media id serves: its bytes, Content-Type and file name."""
    reads: list[str] = field(default_factory=list)
    """The media ids asked for, in order."""
    busy: int = 0
    """How many reads answer -1 (system busy) before the next one is served."""
    uploads: dict[str, tuple[str, str, bytes, str]] = field(default_factory=dict)
    """What `media/upload` was given, by the media id it answered: type, file name, bytes, type."""

    def put(self, media_id: str, data: bytes, content_type: str = "image/jpeg", name: str = "") -> str:
        self.files[media_id] = (data, content_type, name or f"{media_id}.jpg")
        return media_id

    def route(self, api: FastAPI, refused: object) -> None:
        """`refused(access_token)`: the fake's answer to a token it did not issue, or None."""

        @api.get("/cgi-bin/media/get")
        async def media_get(access_token: str, media_id: str) -> Response:
            error = refused(access_token)  # type: ignore[operator]
            if error is not None:
                return JSONResponse(error)
            self.reads.append(media_id)
            if self.busy:
                self.busy -= 1
                return JSONResponse({"errcode": -1, "errmsg": "system error"})
            if media_id not in self.files:
                return JSONResponse({"errcode": 40007, "errmsg": "invalid media_id"})
            data, content_type, name = self.files[media_id]
            # WeChat writes the name's UTF-8 bytes as they are: latin-1 here carries them unchanged
            disposition = f'attachment; filename="{name}"'.encode().decode("latin-1")
            return Response(data, media_type=content_type, headers={"Content-disposition": disposition})

        @api.post("/cgi-bin/media/upload")
        async def media_upload(access_token: str, type: str, media: UploadFile) -> JSONResponse:
            error = refused(access_token)  # type: ignore[operator]
            if error is not None:
                return JSONResponse(error)
            media_id = f"UPLOADED_{len(self.uploads) + 1}"
            data = await media.read()
            self.uploads[media_id] = (type, media.filename or "", data, media.content_type or "")
            self.files[media_id] = (data, media.content_type or "", media.filename or "")
            return JSONResponse({"errcode": 0, "errmsg": "", "type": type, "media_id": media_id,
                                 "created_at": "1380000000"})  # fmt: skip
