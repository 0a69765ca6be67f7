"""Pictures and files customers send through WeChat and WeCom (issue 24): the callback answers at
once and stores the message with its placeholder; the job runner then reads the media from the
local fakes of Tencent's temporary-media API, once however often the message is delivered, and
the agent's thread shows the picture or the PDF as a web chat's. An HTML page passed off as a
picture, a file too large, a media Tencent no longer has are noted on the placeholder, a busy
API is tried again and noted after the last try; nothing is lost, nothing answers 500. Agents
answer with a picture: uploaded to the fakes as temporary media and sent as an image message,
what each API does not take refused at the file."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.core.jobs import JobScheduler, ScheduledJob
from hotline.notify.models import ChatFile, ConversationMessage, WeComCursor
from hotline.notify.outbox import Sender
from hotline.notify.tencent_media import disposition_name, error_of
from hotline.notify.wechat import ApiError, signature
from tests.conftest import Users, audit_files, make_settings
from tests.notify.conftest import WECHAT_APP_ID, FakeWeChat
from tests.notify.test_filetypes import image, pdf
from tests.notify.wecom_fake import AES_KEY, CORP_ID, KF, TOKEN, FakeWeCom

OPENID = "oZhangWei_0123456789abcdefgh"
WECHAT_TOKEN = "hotelToken2026"
CUSTOMER = "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw"
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
MB = 1024 * 1024


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Files of at most 1 MB, so a file too large is quick to make."""
    return make_settings(
        database_url, exports_dir=tmp_path / "exports", chat_image_max_bytes=MB, chat_pdf_max_bytes=MB,
        **audit_files(tmp_path / "audit"),
    )  # fmt: skip


def picture(msg_id: str, media_id: str) -> tuple[dict[str, str], bytes]:
    """WeChat's plain-mode callback for a customer's picture."""
    xml = (
        f"<xml><ToUserName><![CDATA[gh_hotel]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[http://mmbiz.qpic.cn/{media_id}]]></PicUrl><MediaId><![CDATA[{media_id}]]></MediaId>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )
    timestamp, nonce = str(int(time.time())), "20261207"
    return {"timestamp": timestamp, "nonce": nonce,
            "signature": signature(WECHAT_TOKEN, timestamp, nonce)}, xml.encode()  # fmt: skip


async def run_jobs(seeded: Context) -> int:
    """What the job runner does when the media reads are due (retries made due now)."""
    async with seeded.write() as tx:
        await tx.session.execute(
            update(ScheduledJob)
            .where(ScheduledJob.key.like("chat-media:%"), ScheduledJob.next_run_at.is_not(None))
            .values(next_run_at=utcnow())
        )
    return await JobScheduler(seeded, node_id="test").run_due()


async def thread_of(agent: Any, channel: str) -> dict[str, Any]:
    for c in (await agent.get("/api/notify/conversations", params={"status": "open"})).json():
        if c["channel"] == channel and not c["address"].startswith(("oHtl", "wmH")):  # not the demo's
            return (await agent.get(f"/api/notify/conversations/{c['id']}")).json()  # type: ignore[no-any-return]
    raise AssertionError(f"no {channel} conversation")


async def stored_files(seeded: Context) -> int:
    async with seeded.read() as session:
        return int(await session.scalar(select(func.count()).select_from(ChatFile)) or 0)


async def test_a_wechat_picture_is_read_once_off_the_callback_and_shown_like_a_web_chat_file(
    seeded: Context, users: Users, client: Any, wechat: tuple[FakeWeChat, str]
) -> None:
    fake, api_base = wechat
    config = {"app_id": WECHAT_APP_ID, "token": WECHAT_TOKEN, "api_base": api_base}
    admin, agent = await users("admin"), await users("agent1")
    put = await admin.put("/api/notify/gateways/wechat", json={"kind": "wechat", "config": config,
                                                              "secret": fake.secret})  # fmt: skip
    assert put.status_code == 200, put.text
    png = image("PNG", (320, 240))
    fake.media.put("MEDIA_ROOM", png, "image/jpeg")  # WeChat's Content-Type is not believed either

    # the customer sends a picture; WeChat, not hearing us in time, delivers it three times
    query, body = picture("24000000000000001", "MEDIA_ROOM")
    for _ in range(3):
        started = time.monotonic()
        answer = await client.post("/api/notify/wechat", params=query, content=body)
        assert answer.status_code == 200 and answer.text == "success", answer.text
        assert time.monotonic() - started < 1
    assert fake.media.reads == []  # not on the callback's request
    thread = await thread_of(agent, "wechat")
    assert thread["messages"][-1]["body"] == "[图片]" and thread["messages"][-1]["file"] is None

    # the job runner reads it once, and the thread shows the picture as the web chat's are
    assert await run_jobs(seeded) == 1
    assert await run_jobs(seeded) == 0
    assert fake.media.reads == ["MEDIA_ROOM"]
    shown = (await thread_of(agent, "wechat"))["messages"][-1]
    assert shown["body"] == "[图片] 图片.png" and shown["direction"] == "in"
    assert shown["file"] == {
        "id": shown["id"], "name": "图片.png", "kind": "image", "media_type": "image/png", "size": len(png),
        "width": 320, "height": 240,
    }  # fmt: skip
    conversation = (await thread_of(agent, "wechat"))["conversation"]["id"]
    served = await agent.get(f"/api/notify/conversations/{conversation}/files/{shown['id']}")
    assert served.status_code == 200 and served.content == png
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"

    # a fourth delivery after the read: stored once, read once
    assert (await client.post("/api/notify/wechat", params=query, content=body)).text == "success"
    assert await run_jobs(seeded) == 0 and fake.media.reads == ["MEDIA_ROOM"]
    async with seeded.read() as session:
        kept = await session.scalar(
            select(func.count()).select_from(ConversationMessage)
            .where(ConversationMessage.gateway_id == "wechat:24000000000000001")
        )  # fmt: skip
    assert kept == 1

    # the same picture sent again is kept once (by its SHA-256), shown twice
    files = await stored_files(seeded)
    fake.media.put("MEDIA_ROOM_AGAIN", png, "image/jpeg")
    await deliver(client, "24000000000000002", "MEDIA_ROOM_AGAIN")
    await run_jobs(seeded)
    assert await stored_files(seeded) == files
    assert (await thread_of(agent, "wechat"))["messages"][-1]["file"]["size"] == len(png)
    async with seeded.read() as session:
        sha = hashlib.sha256(png).hexdigest()
        same = select(func.count()).select_from(ChatFile).where(ChatFile.sha256 == sha)
        assert await session.scalar(same) == 1

    # an HTML page passed off as a JPEG: refused from its bytes, the placeholder says why
    fake.media.put("MEDIA_HTML", HTML, "image/jpeg")
    await deliver(client, "24000000000000003", "MEDIA_HTML")
    await run_jobs(seeded)
    last = (await thread_of(agent, "wechat"))["messages"][-1]
    assert last["file"] is None
    assert last["body"] == "[图片] 图片无法显示：不是 JPEG、PNG、GIF、WebP 图片或 PDF 文件（按文件内容判断）"
    assert await stored_files(seeded) == files

    # larger than any file kept: refused without reading it to its end
    fake.media.put("MEDIA_HUGE", image("PNG", (64, 48)) + b"\0" * (2 * MB), "image/png")
    await deliver(client, "24000000000000004", "MEDIA_HUGE")
    await run_jobs(seeded)
    last = (await thread_of(agent, "wechat"))["messages"][-1]
    assert last["body"] == "[图片] 图片无法显示：文件不能超过 1 MB"

    # a media WeChat no longer has (past its 3 days): said at once, not tried again
    await deliver(client, "24000000000000005", "MEDIA_EXPIRED")
    await run_jobs(seeded)
    await run_jobs(seeded)
    assert fake.media.reads.count("MEDIA_EXPIRED") == 1
    assert (await thread_of(agent, "wechat"))["messages"][-1]["body"] == (
        "[图片] 图片无法显示：微信公众平台上已没有这个图片（错误码 40007：素材不存在或已过 3 天有效期）"
    )

    # WeChat busy once: the picture is read on the next try
    fake.media.put("MEDIA_BUSY", image("JPEG", (80, 60)), "image/jpeg")
    fake.media.busy = 1
    await deliver(client, "24000000000000006", "MEDIA_BUSY")
    await run_jobs(seeded)
    assert (await thread_of(agent, "wechat"))["messages"][-1]["body"] == "[图片]"  # waiting for its next try
    await run_jobs(seeded)
    assert (await thread_of(agent, "wechat"))["messages"][-1]["body"] == "[图片] 图片.jpg"
    assert fake.media.reads.count("MEDIA_BUSY") == 2

    # busy every time: four tries, then the placeholder says so; the job is marked failed
    fake.media.put("MEDIA_NEVER", png, "image/png")
    fake.media.busy = 100
    await deliver(client, "24000000000000007", "MEDIA_NEVER")
    for _ in range(5):
        await run_jobs(seeded)
    assert fake.media.reads.count("MEDIA_NEVER") == 4
    assert (await thread_of(agent, "wechat"))["messages"][-1]["body"] == (
        "[图片] 图片无法显示：多次读取都未成功（微信公众平台错误码 -1），可请客户重新发送"
    )
    async with seeded.read() as session:
        job = await session.scalar(select(ScheduledJob).where(ScheduledJob.key.like("chat-media:%"))
                                   .order_by(ScheduledJob.id.desc()).limit(1))  # fmt: skip
        assert job is not None and job.last_status == "failed" and job.next_run_at is None
    fake.media.busy = 0

    # the access token expired early: fetched once more, the picture read
    fake.revoked.update(fake.issued)
    issued = len(fake.issued)
    fake.media.put("MEDIA_LATE", png, "image/png")
    await deliver(client, "24000000000000008", "MEDIA_LATE")
    await run_jobs(seeded)
    assert len(fake.issued) == issued + 1
    assert (await thread_of(agent, "wechat"))["messages"][-1]["body"] == "[图片] 图片.png"


async def deliver(client: Any, msg_id: str, media_id: str) -> None:
    query, body = picture(msg_id, media_id)
    answer = await client.post("/api/notify/wechat", params=query, content=body)
    assert answer.status_code == 200 and answer.text == "success", answer.text


async def test_wecom_pictures_and_pdfs_are_shown_and_other_files_noted(
    seeded: Context, users: Users, client: Any, app: Any, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, api_base = wecom
    config = {"corp_id": CORP_ID, "token": TOKEN, "encoding_aes_key": AES_KEY, "api_base": api_base}
    admin, agent = await users("admin"), await users("agent1")
    put = await admin.put("/api/notify/gateways/wecom", json={"kind": "wecom", "config": config,
                                                             "secret": fake.secret})  # fmt: skip
    assert put.status_code == 200, put.text
    quote = pdf()
    photo = fake.says(CUSTOMER, "image")
    fake.media.put(f"MEDIA_{photo}", image("PNG", (200, 100)), "image/png")
    offer = fake.says(CUSTOMER, "file")
    fake.media.put(f"MEDIA_{offer}", quote, "application/pdf", "团队报价单.pdf")
    sheet = fake.says(CUSTOMER, "file")
    fake.media.put(f"MEDIA_{sheet}", b"PK\x03\x04" + b"\0" * 200, "application/octet-stream", "参会名单.docx")
    disguised = fake.says(CUSTOMER, "file")
    fake.media.put(f"MEDIA_{disguised}", HTML, "application/pdf", "invoice.pdf")
    fake.says(CUSTOMER, "voice")  # a voice message stays [语音]: nothing read

    for _ in range(2):  # WeCom calls twice: each message stored once
        answer = await client.post("/api/notify/wecom", params=(c := fake.callback())[0], content=c[1])
        assert answer.status_code == 200, answer.text
        await app.state.hotline.wecom.idle()
    assert await run_jobs(seeded) == 4
    assert sorted(fake.media.reads) == sorted(f"MEDIA_{m}" for m in (photo, offer, sheet, disguised))

    thread = await thread_of(agent, "wecom")
    bodies = [m["body"] for m in thread["messages"]]
    assert bodies == [
        "[图片] 图片.png",
        "[文件] 团队报价单.pdf",
        "[文件] 文件无法显示：不是 JPEG、PNG、GIF、WebP 图片或 PDF 文件（按文件内容判断）",
        "[文件] 文件无法显示：不是 JPEG、PNG、GIF、WebP 图片或 PDF 文件（按文件内容判断）",
        "[语音]",
    ]
    files = [m["file"] for m in thread["messages"]]
    assert files[0]["kind"] == "image" and files[2:] == [None, None, None]
    offered = files[1]
    assert (offered["kind"], offered["media_type"], offered["size"]) == ("pdf", "application/pdf", len(quote))
    conversation = thread["conversation"]["id"]
    served = await agent.get(f"/api/notify/conversations/{conversation}/files/{offered['id']}")
    assert served.status_code == 200 and served.content == quote
    assert served.headers["content-disposition"].startswith("attachment;")

    # the cursor lost (a restart from nothing): every message read again, none stored or read twice
    async with seeded.write() as tx:
        await tx.session.execute(delete(WeComCursor))
    answer = await client.post("/api/notify/wecom", params=(c := fake.callback())[0], content=c[1])
    assert answer.status_code == 200
    await app.state.hotline.wecom.idle()
    assert fake.pulls[-1].get("cursor", "") == ""
    assert await run_jobs(seeded) == 0 and len(fake.media.reads) == 4
    assert len((await thread_of(agent, "wecom"))["messages"]) == 5


@given(
    name=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters='";\\/'),
                 min_size=1, max_size=60).filter(str.strip),
    quoted=st.booleans(),
)  # fmt: skip
def test_any_file_name_in_a_content_disposition_is_read_without_its_path(name: str, quoted: bool) -> None:
    from urllib.parse import quote

    plain = f'attachment; filename="{name}"' if quoted else f"attachment; filename*=UTF-8''{quote(name)}"
    assert disposition_name(plain) == name.strip()
    assert disposition_name(f'attachment; filename="C:\\\\temp\\\\{name}"') == name.strip()
    assert disposition_name("attachment") == ""


@given(st.binary(max_size=300))
def test_any_media_answer_is_a_file_or_an_error_never_raises(body: bytes) -> None:
    error = error_of(body)
    assert error is None or not body.lstrip().startswith(b"\x89PNG")
    assert isinstance(error_of(b'{"errcode":40007,"errmsg":"invalid media_id"}'), ApiError)
    assert error_of(b'{"video_url":"http://x"}') is not None
    assert error_of(image("PNG")) is None


async def test_agents_answer_wechat_and_wecom_customers_with_a_picture_through_the_outbox(
    seeded: Context, users: Users, client: Any, app: Any, wechat: tuple[FakeWeChat, str],
    wecom: tuple[FakeWeCom, str],
) -> None:  # fmt: skip
    (fake, wechat_base), (kf_fake, wecom_base) = wechat, wecom
    admin, agent = await users("admin"), await users("agent1")
    for channel, config, secret in (
        ("wechat", {"app_id": WECHAT_APP_ID, "token": WECHAT_TOKEN, "api_base": wechat_base}, fake.secret),
        ("wecom", {"corp_id": CORP_ID, "token": TOKEN, "encoding_aes_key": AES_KEY, "api_base": wecom_base},
         kf_fake.secret),
    ):  # fmt: skip
        put = await admin.put(f"/api/notify/gateways/{channel}",
                              json={"kind": channel, "config": config, "secret": secret})  # fmt: skip
        assert put.status_code == 200, put.text
    query, body = picture("25000000000000001", "MEDIA_ASKS")
    assert (await client.post("/api/notify/wechat", params=query, content=body)).text == "success"
    fake.last_seen[OPENID] = time.time()
    kf_fake.says(CUSTOMER, text="能发一下房间照片吗？")
    assert (
        await client.post("/api/notify/wecom", params=(c := kf_fake.callback())[0], content=c[1])
    ).status_code == 200
    await app.state.hotline.wecom.idle()
    worker = Sender(seeded, node_id="test")
    photo = image("PNG", (120, 90))

    # on WeChat: kept and shown in the thread, queued, then uploaded as temporary media and sent
    thread = await thread_of(agent, "wechat")
    files = f"/api/notify/conversations/{thread['conversation']['id']}/files"
    sent = await agent.post(files, files={"file": ("客房.png", photo, "image/png")})
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "queued" and sent.json()["file"]["kind"] == "image"
    await worker.run_once()
    [(media_id, uploaded)] = fake.media.uploads.items()
    assert uploaded == ("image", "客房.png", photo, "image/png")
    assert fake.sent[-1] == {"touser": OPENID, "msgtype": "image", "image": {"media_id": media_id}}
    last = (await thread_of(agent, "wechat"))["messages"][-1]
    assert (last["direction"], last["status"], last["body"]) == ("out", "sent", "[图片] 客房.png")

    # what WeChat cannot take as a picture is refused at the file, nothing queued
    for data, name, where in ((pdf(), "报价.pdf", "PDF"), (image("WEBP"), "x.webp", "WebP")):
        refused = await agent.post(files, files={"file": (name, data, "application/octet-stream")})
        problem = refused.json()
        assert refused.status_code == 415 and problem["errors"][0]["field"] == "body.file", where
        assert problem["errors"][0]["message"] == "微信和企业微信会话只能发送 JPEG、PNG、GIF 图片"
    await worker.run_once()
    assert len(fake.sent) == 1

    # on WeCom: from the 客服账号 the customer wrote to; a GIF, which WeCom does not take, refused
    thread = await thread_of(agent, "wecom")
    files = f"/api/notify/conversations/{thread['conversation']['id']}/files"
    sent = await agent.post(files, files={"file": ("房间.jpg", image("JPEG", (64, 48)), "image/jpeg")})
    assert sent.status_code == 201, sent.text
    await worker.run_once()
    [(media_id, uploaded)] = kf_fake.media.uploads.items()
    assert uploaded[0] == "image" and uploaded[1] == "房间.jpg"
    assert kf_fake.sent[-1] == {"touser": CUSTOMER, "open_kfid": KF, "msgtype": "image",
                                "image": {"media_id": media_id}}  # fmt: skip
    gif = await agent.post(files, files={"file": ("动图.gif", image("GIF"), "image/gif")})
    assert gif.status_code == 415
    assert gif.json()["errors"][0]["message"] == "微信和企业微信会话只能发送 JPEG、PNG 图片"
    await worker.run_once()
    assert len(kf_fake.sent) == 1
    await worker.stop()
