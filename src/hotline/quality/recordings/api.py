"""Routes of quality's recordings: search, one recording, play and download links, the media
those links serve, legal hold and retention rules (docs/qa.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import FileResponse

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.ratelimit import RouteKind
from hotline.core.web import IdPath, problem_doc, public_as, requires, signed_in
from hotline.quality.recordings import retention, service
from hotline.quality.recordings.schemas import (
    Direction,
    DownloadOut,
    Peaks,
    PlayOut,
    RecordingHoldIn,
    RecordingKind,
    RecordingPage,
    RecordingRow,
    RetentionIn,
    RetentionOut,
)

router = APIRouter(prefix="/api/quality", tags=["quality"])
LISTEN = Annotated[Context, Depends(requires(Permission.RECORDINGS_LISTEN))]
DOWNLOAD = Annotated[Context, Depends(requires(Permission.RECORDINGS_DOWNLOAD))]
PUBLIC = Annotated[Context, Depends(public_as(RouteKind.LINK))]
"""Signed links: public, rate-limited per address (HOTLINE_RATE_LIMIT_LINKS)."""
SIGNED_IN = Annotated[Context, Depends(signed_in)]
"""Routes whose recording is checked against the reader by the service (`service.may_hear`)."""


@router.get("/recordings")
async def search(
    ctx: LISTEN,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    agent_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    number: Annotated[
        str | None,
        Query(min_length=4, max_length=20, description="Digits: the whole number or its last ≥ 4"),
    ] = None,
    direction: Direction | None = None,
    kind: RecordingKind | None = None,
    disposition: Annotated[str | None, Query(max_length=16)] = None,
    min_seconds: Annotated[float | None, Query(ge=0, le=86400)] = None,
    max_seconds: Annotated[float | None, Query(ge=0, le=86400)] = None,
    call_id: Annotated[str | None, Query(max_length=64)] = None,
    legal_hold: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=120)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    text: Annotated[
        str | None, Query(min_length=1, max_length=40, description="Words the transcript says")
    ] = None,
    forbidden: Annotated[
        bool | None, Query(description="With (true) or without a forbidden-phrase hit")
    ] = None,
    missing_required: Annotated[
        str | None,
        Query(pattern=r"^[a-z][a-z0-9_-]{0,63}$", description='A required phrase rule\'s key, or "any"'),
    ] = None,
    silence_at_least: Annotated[
        float | None, Query(ge=0, le=86400, description="Seconds: the call's longest silence at least")
    ] = None,
    overtalk_at_least: Annotated[
        float | None, Query(ge=0, le=86400, description="Seconds both sides spoke at once, at least")
    ] = None,
    agent_share_min: Annotated[
        int | None, Query(ge=0, le=100, description="The agent's share of the talk, percent, at least")
    ] = None,
    agent_share_max: Annotated[
        int | None, Query(ge=0, le=100, description="The agent's share of the talk, percent, at most")
    ] = None,
) -> RecordingPage:
    """Recorded calls and voicemail, newest first; numbers masked unless the role sees them."""
    filters = service.Search(
        since, until, agent_id, queue, customer_id, number, direction, kind, disposition,
        min_seconds, max_seconds, call_id, legal_hold, cursor, limit, text, forbidden, missing_required,
        silence_at_least=silence_at_least, overtalk_at_least=overtalk_at_least,
        agent_share_min=agent_share_min, agent_share_max=agent_share_max,
    )  # fmt: skip
    return await service.search(ctx, filters)


@router.get("/recordings/{recording_id}")
async def get(recording_id: IdPath, ctx: LISTEN) -> RecordingRow:
    return await service.get(ctx, recording_id)


@router.get(
    "/calls/{call_id}/recordings",
    responses={403: problem_doc("The reader may hear none of the call's recordings (`recording-not-yours`)")},
)
async def of_call(
    call_id: Annotated[str, Path(min_length=1, max_length=64)], ctx: SIGNED_IN
) -> list[RecordingRow]:
    """The recordings of one call the reader may hear, part by part: every one with
    recordings.listen; otherwise the parts of a call they were evaluated on, or a voicemail of a
    ticket they may read."""
    return await service.of_call(ctx, call_id)


@router.post(
    "/recordings/{recording_id}/play",
    responses={403: problem_doc("Not a recording the reader may hear (`recording-not-yours`)")},
)
async def play(recording_id: IdPath, ctx: SIGNED_IN) -> PlayOut:
    """Signed links (10 minutes, no session needed) to the audio, each channel and the peaks; audited.
    recordings.listen hears any recording; anyone else the parts of a call they were evaluated on
    and the voicemail of a ticket they may read."""
    return await service.play(ctx, recording_id)


@router.post("/recordings/{recording_id}/download")
async def download(recording_id: IdPath, ctx: DOWNLOAD) -> DownloadOut:
    """A signed link to the WAV as an attachment; audited."""
    return await service.download(ctx, recording_id)


@router.put("/recordings/{recording_id}/hold")
async def hold(recording_id: IdPath, body: RecordingHoldIn, ctx: DOWNLOAD) -> RecordingRow:
    return await service.hold(ctx, recording_id, body)


@router.get("/retention")
async def get_retention(ctx: LISTEN) -> RetentionOut:
    return await retention.rules(ctx)


@router.put("/retention")
async def put_retention(body: RetentionIn, ctx: DOWNLOAD) -> RetentionOut:
    return await retention.set_rules(ctx, body)


@router.get(
    "/media/{token}",
    response_class=FileResponse,
    responses={
        200: {"content": {"audio/wav": {}, "application/json": {"schema": Peaks.model_json_schema()}}},
        206: {"description": "The requested byte range (HTTP Range)"},
        403: problem_doc("The link was altered or has expired (`media-link-refused`)"),
        404: problem_doc("The recording or its file is gone"),
    },
)
async def media(token: Annotated[str, Path(max_length=200)], ctx: PUBLIC) -> FileResponse:
    """The file a signed link grants: WAV (with Range requests) or the waveform peaks JSON."""
    found = await service.open_media(ctx, token)
    return FileResponse(
        found.path,
        media_type=found.media_type,
        filename=found.filename if found.attachment else None,
        content_disposition_type="attachment" if found.attachment else "inline",
        headers={"Cache-Control": "private, max-age=600"},
    )
