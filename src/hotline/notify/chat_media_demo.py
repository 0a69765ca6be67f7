"""The demo's pictures and files from WeChat and WeCom (docs/channels.md "Pictures and files from
WeChat and WeCom"): before their questions, the WeChat follower sends a photo of the room he saw,
the WeCom travel manager the group's list as a PDF and as a Word file, which the thread notes it
cannot show. The demo's
accounts are not connected, so nothing can be read from Tencent: the bytes are stored as the
media job stores what it read (chat_media.attach)."""

from __future__ import annotations

import io
import zipfile

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from hotline.core.context import Context
from hotline.notify import chat_media, conversations, wecom_channel
from hotline.notify.tencent_media import Media
from hotline.notify.wecom import FROM_CUSTOMER, KfMessage

GUESTS = ["王建国", "李娜", "张磊", "刘洋", "陈静", "杨帆", "赵敏", "黄涛", "周婷", "吴昊", "徐丽", "孙强"]


async def load(ctx: Context, follower: str, photo: bytes, customer: str, kf: str) -> None:
    """The three messages with their media, once (the caller loads the demo's messages once)."""
    sent = await conversations.receive(
        ctx, conversations.Incoming(follower, "[图片]", "demo:5", channel="wechat")
    )
    await chat_media.attach(ctx, sent.message_id, chat_media.MediaRef("wechat", "image", "demo"),
                            Media(photo, ""))  # fmt: skip
    for gateway_id, data, name in (("demo:6", group_list(), "杭州会议参会名单.pdf"),
                                   ("demo:7", word_file(), "杭州会议参会名单.docx")):  # fmt: skip
        stored = await wecom_channel.store(ctx, KfMessage(gateway_id, kf, customer, 0, FROM_CUSTOMER, "file"))
        await chat_media.attach(ctx, stored.message_id, chat_media.MediaRef("wecom", "file", "demo"),
                                Media(data, name))  # fmt: skip


def group_list() -> bytes:
    """A one-page PDF: the meeting's 12 guests and their rooms."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setTitle("杭州会议参会名单")
    page.setFont("STSong-Light", 16)
    page.drawString(72, 770, "杭州会议参会名单（12 间大床房，周三入住，周五退房）")
    page.setFont("STSong-Light", 11)
    for row, guest in enumerate(GUESTS):
        page.drawString(72, 730 - row * 20, f"{row + 1:>2}.  {guest}    大床房 1 间")
    page.save()
    return out.getvalue()


def word_file() -> bytes:
    """What a .docx starts as (a ZIP archive): a type the thread does not show."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()
