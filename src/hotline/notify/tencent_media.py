"""Tencent's temporary media (临时素材), as the official account's and WeCom's APIs serve it: a
customer's picture or file arrives in their message as a `MediaId` (`media_id`), kept by Tencent
for 3 days, and is read with

    GET /cgi-bin/media/get?access_token=…&media_id=…

on `api.weixin.qq.com` (official account) or `qyapi.weixin.qq.com` (WeCom). The answer is the
file itself (`Content-Type` and `Content-disposition: attachment; filename="…"`), or — with HTTP
200 all the same — JSON with `errcode` and `errmsg` (40007: no such media, or its 3 days are
over). A video's answer is JSON too (`video_url`): not a file either.

The bytes are read as they come and no further than `most` + 1: a larger file is refused without
being read to its end. An expired access token is fetched again once, as for any call
(notify/wechat.py `TokenClient`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote

import httpx

from hotline.notify.wechat import ApiError, TokenClient, WeChatError, _checked

PATH = "/cgi-bin/media/get"
GONE = frozenset({40007})
"""errcodes that asking again cannot change: no such media (or past its 3 days)."""
_JSON_MOST = 64 * 1024
"""An answer starting with `{` and no longer than this is read as Tencent's JSON, not a file."""
T = TypeVar("T")
_FILENAME = re.compile(r"""filename(\*?)\s*=\s*(?:UTF-8'[^']*')?"?([^";]*)"?""", re.IGNORECASE)


class MediaTooLarge(WeChatError):
    """The file is larger than what is kept: nothing more of it is read."""


@dataclass(frozen=True)
class Media:
    data: bytes
    filename: str
    """The name the answer's Content-disposition gives ("" when none)"""


def disposition_name(header: str) -> str:
    """The file name a Content-disposition header names (`filename*=UTF-8''…` before
    `filename="…"`), without any path; "" when it names none."""
    found = _FILENAME.findall(header or "")
    starred = [value for star, value in found if star]
    name = unquote(starred[0]) if starred else found[0][1] if found else ""
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip()


def error_of(body: bytes, name: str = "WeChat") -> ApiError | WeChatError | None:
    """What a media answer that is Tencent's JSON says: its error, or that it is no file (a
    video's `video_url`); None when the answer is a file."""
    if len(body) > _JSON_MOST or not body.lstrip().startswith(b"{"):
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    errcode = answer.get("errcode", 0)
    if isinstance(errcode, int) and errcode:
        return ApiError(errcode, str(answer.get("errmsg", "")), name)
    return WeChatError("the media is not a file (a video's address, or an answer without errcode)")


async def fetch(client: TokenClient, media_id: str, most: int) -> Media:
    """The media's bytes (at most `most`) and name; ApiError with Tencent's errcode, MediaTooLarge
    when it is larger, WeChatError when the API cannot be reached or answers otherwise."""
    return await _with_token(client, lambda token: _get(client, token, media_id, most))


async def _with_token(client: TokenClient, attempt: Callable[[str], Awaitable[T]]) -> T:
    """`attempt` with the access token, and once more with a new one when Tencent says it expired."""
    token = await client.token()
    try:
        return await attempt(token)
    except ApiError as exc:
        if exc.errcode not in client.expired_codes:
            raise
    return await attempt(await client.token(stale=token))


async def _get(client: TokenClient, token: str, media_id: str, most: int) -> Media:
    params = {"access_token": token, "media_id": media_id}
    try:
        async with client.http.stream("GET", PATH, params=params) as response:
            if response.status_code != 200:
                raise WeChatError(f"{client.name}'s media API answered HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > most:
                raise MediaTooLarge(f"the media has {declared} bytes, more than {most}")
            body = bytearray()
            async for piece in response.aiter_bytes():
                body += piece
                if len(body) > most:
                    raise MediaTooLarge(f"the media has more than {most} bytes")
            name = disposition_name(response.headers.get("content-disposition", ""))
    except httpx.HTTPError as exc:
        raise WeChatError(f"{client.name}'s media API did not answer: {exc!r}") from exc
    error = error_of(bytes(body), client.name)
    if error is not None:
        raise error
    return Media(bytes(body), name)


UPLOAD_PATH = "/cgi-bin/media/upload"


async def upload(client: TokenClient, kind: str, name: str, data: bytes, media_type: str) -> str:
    """A file put on Tencent's side as temporary media (`POST /cgi-bin/media/upload?type=…`,
    multipart field `media`), for a message that sends it; its `media_id` (valid 3 days)."""
    return await _with_token(client, lambda token: _upload(client, token, kind, name, data, media_type))


async def _upload(client: TokenClient, token: str, kind: str, name: str, data: bytes, media_type: str) -> str:
    try:
        response = await client.http.post(
            UPLOAD_PATH,
            params={"access_token": token, "type": kind},
            files={"media": (name, data, media_type)},
        )
    except httpx.HTTPError as exc:
        raise WeChatError(f"{client.name}'s media API did not answer: {exc!r}") from exc
    answer = _checked(response, client.name)
    media_id = answer.get("media_id")
    if not isinstance(media_id, str) or not media_id:
        raise WeChatError(f"{client.name}'s media API gave no media_id")
    return media_id
