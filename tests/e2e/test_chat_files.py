"""Images and PDFs in the web chat in browsers (issue 24): a visitor on the hosted chat page sends
a PNG and sees its thumbnail; agent1 sees the thumbnail in 客户会话, opens it full size and answers
with a PDF, which reaches the visitor's window as a chip with its name. An HTML file named
`<img src=x onerror=alert(1)>.png` is refused in zh-CN under the paperclip, is not stored, and no
script runs on either side."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import field
from tests.notify.test_filetypes import image, pdf

pytestmark = pytest.mark.e2e

XSS_NAME = "<img src=x onerror=alert(1)>.png"


def test_a_visitor_sends_a_photo_agent1_sees_it_and_answers_with_a_pdf(
    browser: Browser, server: str, session: Callable[[str], Page]
) -> None:
    alerts: list[str] = []
    context = browser.new_context(viewport={"width": 480, "height": 860}, locale="zh-CN")
    visitor = context.new_page()
    visitor.set_default_timeout(15_000)
    visitor.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    visitor.goto(f"{server}/chat?site=yingguan-hotels")
    form = visitor.get_by_test_id("chat-form")
    field(form, "chat-name").fill("孙女士")
    visitor.locator("textarea[data-testid=chat-question]").fill("房间的空调坏了，我拍了照片")
    visitor.get_by_test_id("chat-start").click()
    expect(visitor.get_by_test_id("chat-mine")).to_have_count(1)

    attach = visitor.get_by_test_id("chat-attach-input")
    attach.set_input_files({"name": "空调.png", "mimeType": "image/png", "buffer": image("PNG", (320, 240))})
    mine = visitor.get_by_test_id("chat-mine").last
    # the first file starts a compute worker to read it (on a busy machine, seconds)
    expect(mine.get_by_test_id("chat-file-image").locator("img")).to_be_visible(timeout=30_000)
    expect(mine).to_contain_text("空调.png")

    # an HTML page named like a picture: refused in Chinese, never a line of the chat
    page = b"<html><body><img src=x onerror=alert(1)><script>alert(2)</script></body></html>"
    attach.set_input_files({"name": XSS_NAME, "mimeType": "image/png", "buffer": page})
    refused = visitor.get_by_test_id("chat-attach-error")
    expect(refused).to_contain_text("只能发送 JPEG、PNG、GIF、WebP 图片或 PDF", timeout=15_000)
    expect(visitor.get_by_test_id("chat-mine")).to_have_count(2)

    agent = session("agent1")
    agent.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    agent.get_by_test_id("nav-conversations").click()
    agent.get_by_test_id("conversations-table").locator("tr", has_text="孙女士").click()
    thread = agent.get_by_test_id("conversation-messages")
    thumb = thread.get_by_test_id("chat-file-image").locator("img")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.naturalWidth") == 320
    expect(thread.get_by_test_id("chat-file")).to_have_count(1)  # the HTML was not kept
    assert XSS_NAME not in thread.inner_text()
    assert thread.locator("img").count() == 1
    thumb.click()  # full size
    expect(agent.locator(".el-image-viewer__wrapper")).to_be_visible()
    agent.keyboard.press("Escape")

    agent.get_by_test_id("chat-attach-input").set_input_files(
        {"name": "空调报修单.pdf", "mimeType": "application/pdf", "buffer": pdf()}
    )
    chip = visitor.get_by_test_id("chat-theirs").last.get_by_test_id("chat-file-pdf")
    expect(chip).to_contain_text("空调报修单.pdf", timeout=15_000)
    with visitor.expect_download() as download:
        chip.click()
    assert download.value.suggested_filename == "空调报修单.pdf"
    assert alerts == []
    context.close()
