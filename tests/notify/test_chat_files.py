"""Images and PDFs in the web chat over HTTP (issue 24, item 1): a visitor sends each type and
agent1 sees it in the thread and answers with one; the type is read from the bytes — HTML named
.png, SVG, a page appended to an image, garbage, an oversized or too-many-pixels image are refused
at `body.file` and nothing is kept; files go out as their own type, never inline HTML, to their
chat's visitor and to staff (audited), never to another visitor."""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from typing import Any

import httpx
from sqlalchemy import func, select

from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from hotline.crm.models import TimelineEntry
from hotline.notify import conversations
from hotline.notify.models import ChatFile, Conversation, ConversationFile
from tests.conftest import Users, assert_problem
from tests.notify.test_filetypes import image, pdf, png_claiming

FORM = {"name": "周先生", "text": "我把预订确认单发给您", "site": "yingguan-hotels", "topic": "hotel"}


async def _start(client: httpx.AsyncClient, **form: str) -> dict[str, str]:
    started = await client.post("/api/chat/start", json={**FORM, **form})
    assert started.status_code == 201, started.text
    return {"X-Chat-Token": started.json()["token"]}


def _file(name: str, data: bytes, declared: str = "image/png") -> dict[str, Any]:
    return {"file": (name, data, declared)}


def _padded(png: bytes, size: int) -> bytes:
    """The PNG with an ancillary chunk before its end that makes it `size` + 1 bytes."""
    body = b"\0" * (size + 1 - len(png) - 12)
    chunk = struct.pack(">I", len(body)) + b"zzPd" + body + struct.pack(">I", zlib.crc32(b"zzPd" + body))
    return png[:-12] + chunk + png[-12:]


async def _counts(ctx: Context) -> tuple[int, int]:
    async with ctx.read() as session:
        return (
            int(await session.scalar(select(func.count()).select_from(ChatFile)) or 0),
            int(await session.scalar(select(func.count()).select_from(ConversationFile)) or 0),
        )


async def _web_chat(agent: httpx.AsyncClient, name: str) -> int:
    listed = (await agent.get("/api/notify/conversations", params={"status": "open"})).json()
    return int(next(c["id"] for c in listed if c["channel"] == "web" and c["visitor_name"] == name))


def _assert_safe(response: httpx.Response, media_type: str, disposition: str) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert response.headers["content-disposition"].startswith(disposition)


async def test_a_visitor_sends_each_type_and_agent1_sees_it_and_answers_with_one(
    seeded: Context, users: Users, client: httpx.AsyncClient
) -> None:
    agent = await users("agent1")
    visitor = await _start(client, phone="13800138000")  # 张伟's phone, unproven: agent1 links it
    chat = await _web_chat(agent, "周先生")
    zhang = next(
        c for c in (await agent.get("/api/notify/conversations")).json() if c["customer_name"] == "张伟"
    )
    linked = await agent.put(
        f"/api/notify/conversations/{chat}/customer", json={"customer_id": zhang["customer_id"]}
    )
    assert linked.status_code == 200, linked.text  # the chat is on his timeline from now on
    sent = {
        "房间.png": (image("PNG"), "image/png"),
        "front.jpg": (image("JPEG"), "image/jpeg"),
        "map.gif": (image("GIF"), "image/gif"),
        "lobby.webp": (image("WEBP"), "image/webp"),
        "确认单.pdf": (pdf(), "application/pdf"),
    }
    for name, (data, media_type) in sent.items():
        # the declared type is not believed either way: everything is sent as octet-stream
        answer = await client.post(
            "/api/chat/files", headers=visitor, files=_file(name, data, "application/octet-stream")
        )
        assert answer.status_code == 201, answer.text
        line = answer.json()["lines"][-1]
        assert line["mine"] is True and line["file"]["name"] == name
        assert line["file"]["media_type"] == media_type and line["file"]["size"] == len(data)
        got = await client.get(f"/api/chat/files/{line['id']}", headers=visitor)
        _assert_safe(got, media_type, "attachment" if media_type == "application/pdf" else "inline")
        assert got.content == data

    thread = (await agent.get(f"/api/notify/conversations/{chat}")).json()
    files = [m["file"] for m in thread["messages"] if m["file"]]
    assert [f["name"] for f in files] == list(sent)
    assert files[0]["kind"] == "image" and (files[0]["width"], files[0]["height"]) == (64, 48)
    assert files[-1]["kind"] == "pdf"
    listed = (await agent.get("/api/notify/conversations", params={"status": "open"})).json()
    assert next(c for c in listed if c["id"] == chat)["last_body"] == "[文件] 确认单.pdf"

    # staff read it (audited); an image asked as a download comes as an attachment
    got = await agent.get(
        f"/api/notify/conversations/{chat}/files/{files[0]['id']}", params={"download": True}
    )
    _assert_safe(got, "image/png", "attachment")
    assert "filename*=UTF-8''%E6%88%BF%E9%97%B4.png" in got.headers["content-disposition"]
    async with seeded.read() as session:
        read = await session.scalar(select(func.count()).where(AuditEntry.action == "notify.chat_file_read"))
        assert read == 1

    # agent1 answers with a PDF: the visitor's window has it with the agent's name
    answer = await agent.post(
        f"/api/notify/conversations/{chat}/files", files=_file("价目表.pdf", pdf(), "text/html")
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["file"]["media_type"] == "application/pdf" and answer.json()["direction"] == "out"
    polled = (await client.get("/api/chat/state", headers=visitor)).json()
    last = polled["lines"][-1]
    assert last["mine"] is False and last["agent"] and last["file"]["name"] == "价目表.pdf"
    got = await client.get(f"/api/chat/files/{last['id']}", headers=visitor)
    _assert_safe(got, "application/pdf", "attachment")

    # on 张伟's timeline as 图片 and 文件
    async with seeded.read() as session:
        refs = TimelineEntry.ref.like("web-in:%") | TimelineEntry.ref.like("chat-out:%")
        titles = list(await session.scalars(select(TimelineEntry.title).where(refs)))
    assert titles.count("在线客服图片") == 4 and "在线客服文件" in titles and "在线客服：发送文件" in titles

    # another visitor's token reads none of it, nor can a wrong token
    other = await _start(client, name="陌生人")
    assert_problem(
        await client.get(f"/api/chat/files/{last['id']}", headers=other), 404, "not-found", "file_id"
    )
    assert_problem(
        await client.get(f"/api/chat/files/{last['id']}", headers={"X-Chat-Token": "x" * 32}),
        403, "permission-denied", "header.X-Chat-Token",
    )  # fmt: skip
    assert (await client.get(f"/api/notify/conversations/{chat}/files/{last['id']}")).status_code == 401

    # 张伟 asks to be forgotten: his chats go, and the files nobody else sent with them
    async with seeded.read() as session:
        zhang = await session.scalar(select(Conversation.customer_id).where(Conversation.id == chat))
    assert zhang is not None
    await conversations.erase_customer(seeded, zhang, ["13800138000"])
    digests = [hashlib.sha256(data).hexdigest() for data, _ in sent.values()]
    async with seeded.read() as session:
        assert await session.scalar(select(func.count()).where(ChatFile.sha256.in_(digests))) == 0


async def test_what_is_not_an_image_or_pdf_is_refused_at_its_field_and_nothing_is_kept(
    seeded: Context, client: httpx.AsyncClient
) -> None:
    visitor = await _start(client)
    before = await _counts(seeded)
    refused = {
        "<img src=x onerror=alert(1)>.png": b"<html><body><img src=x onerror=alert(1)></body></html>",
        "logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>',
        "photo.png": image("PNG") + b"<script>alert(1)</script>",  # a polyglot: a page after the image
        "garbage.jpg": os.urandom(4096),
        "broken.jpg": image("JPEG")[:-40],
        "scan.tiff": image("TIFF"),
    }
    for name, data in refused.items():
        answer = await client.post("/api/chat/files", headers=visitor, files=_file(name, data))
        body = assert_problem(answer, 415, "unsupported-media-type", "body.file")
        assert "只能发送 JPEG、PNG、GIF、WebP 图片或 PDF" in body["errors"][0]["message"]  # type: ignore[index]

    big = _padded(image("PNG"), 5 * 1024 * 1024)  # a valid PNG just over 5 MB
    answer = await client.post("/api/chat/files", headers=visitor, files=_file("big.png", big))
    assert "5 MB" in assert_problem(answer, 413, "payload-too-large", "body.file")["errors"][0]["message"]  # type: ignore[index]
    answer = await client.post(
        "/api/chat/files", headers=visitor, files=_file("bomb.png", png_claiming(10_000, 10_000))
    )
    assert "40 百万像素" in assert_problem(answer, 422, "invalid-input", "body.file")["errors"][0]["message"]  # type: ignore[index]
    huge = b"%PDF-1.7\n" + os.urandom(10 * 1024 * 1024) + b"\nstartxref\n0\n%%EOF\n"
    answer = await client.post("/api/chat/files", headers=visitor, files=_file("huge.pdf", huge))
    assert "10 MB" in assert_problem(answer, 413, "payload-too-large", "body.file")["errors"][0]["message"]  # type: ignore[index]
    answer = await client.post("/api/chat/files", headers=visitor, files=_file("huger.pdf", huge * 2))
    assert answer.status_code == 413  # refused before a byte is read
    assert_problem(await client.post("/api/chat/files", headers=visitor, files=_file("empty.png", b"")),
                   422, "invalid-input", "body.file")  # fmt: skip

    assert await _counts(seeded) == before
    lines = (await client.get("/api/chat/state", headers=visitor)).json()["lines"]
    assert [line["file"] for line in lines] == [None]


async def test_a_file_is_kept_once_and_a_chat_holds_at_most_twenty(
    seeded: Context, client: httpx.AsyncClient
) -> None:
    visitor, other = await _start(client), await _start(client, name="吴女士")
    photo = image("JPEG", (32, 32))
    for _ in range(20):
        sent = await client.post("/api/chat/files", headers=visitor, files=_file("same.jpg", photo))
        assert sent.status_code == 201, sent.text
    assert (
        await client.post("/api/chat/files", headers=other, files=_file("same.jpg", photo))
    ).status_code == 201
    async with seeded.read() as session:
        digest = select(func.count()).select_from(ChatFile).where(ChatFile.size == len(photo))
        assert await session.scalar(digest) == 1
    answer = await client.post("/api/chat/files", headers=visitor, files=_file("one-more.jpg", photo))
    assert (
        "最多发送 20 个文件"
        in assert_problem(answer, 422, "invalid-input", "body.file")["errors"][0]["message"]
    )  # type: ignore[index]


async def test_files_go_in_no_sms_conversation_and_only_in_open_ones(
    seeded: Context, users: Users, client: httpx.AsyncClient
) -> None:
    agent = await users("agent1")
    async with seeded.read() as session:
        sms = await session.scalar(select(Conversation.id).where(Conversation.channel == "sms").limit(1))
        closed_wechat = await session.scalar(
            select(Conversation.id)
            .where(Conversation.channel == "wechat", Conversation.status == "closed")
            .limit(1)
        )
    answer = await agent.post(f"/api/notify/conversations/{sms}/files", files=_file("a.png", image("PNG")))
    refused = assert_problem(answer, 422, "invalid-input", "body.file")
    assert refused["errors"][0]["message"] == "短信会话不能发送图片和文件"  # type: ignore[index]
    # a WeChat conversation takes pictures (test_chat_media.py), an open one only
    answer = await agent.post(
        f"/api/notify/conversations/{closed_wechat}/files", files=_file("a.png", image("PNG"))
    )
    assert_problem(answer, 409, "invalid-transition")
    visitor = await _start(client, name="郑先生")
    chat = await _web_chat(agent, "郑先生")
    assert (await client.post("/api/chat/end", headers=visitor, json={"rating": 5})).status_code == 200
    png = _file("a.png", image("PNG"))
    assert_problem(
        await client.post("/api/chat/files", headers=visitor, files=png), 409, "invalid-transition"
    )
    answer = await agent.post(f"/api/notify/conversations/{chat}/files", files=png)
    assert_problem(answer, 409, "invalid-transition")
    assert_problem(
        await agent.get(f"/api/notify/conversations/{chat}/files/999999"), 404, "not-found", "file_id"
    )
