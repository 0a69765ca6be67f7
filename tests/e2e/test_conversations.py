"""Conversations in a browser (issue 24): agent1 opens 客户会话, finds 张伟's SMS thread — with a
reply that tries to inject markup, shown as text — answers him, and sees the answer in the thread;
then sees the photo the demo's WeChat follower sent, links him to 张伟's file and answers on WeChat
with a text and a picture; answers 张伟's SMS with a
常用语 and a knowledge-base article, one click each, and starts a ticket from the chat, pre-filled;
an administrator connects WeCom's 微信客服 in 消息网关, and agent1 finds the demo's WeCom chat with
the group's list as a PDF."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from hotline.notify.demo import demo_png
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

TOKEN = "e2e-replies-token-0123456789"
XSS = "<img src=x onerror=alert(1)>"


def test_an_agent_answers_zhangs_sms_in_his_thread(page: Page, server: str) -> None:
    with httpx.Client(base_url=server) as admin:
        admin.post("/api/auth/login", json={"username": "admin", "password": "hotline-demo"})
        kannel = {
            "kind": "kannel",
            "config": {"url": "http://127.0.0.1:9/cgi-bin/sendsms", "mo_token": TOKEN},
        }
        assert admin.put("/api/notify/gateways/sms", json=kannel).status_code == 200
        # back to the log gateway: the replies' token stays until replaced, and nothing leaves
        assert admin.put("/api/notify/gateways/sms", json={"kind": "log"}).json()["has_mo_token"] is True
    reply = {
        "from": "13800138000",
        "to": "10690000",
        "text": f"婴儿床{XSS}收到了吗",
        "id": "e2e-1",
        "token": TOKEN,
    }
    assert httpx.get(f"{server}/api/notify/mo/kannel", params=reply).status_code == 200

    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    sign_in(page, "agent1")
    page.get_by_test_id("nav-conversations").click()
    expect(page.get_by_test_id("conversations-table")).to_contain_text("张伟")
    zhang = page.get_by_test_id("conversations-table").locator("tr", has_text="张伟")
    zhang.filter(has_text="短信").first.click()  # his SMS thread (other tests chat as him too)
    thread = page.get_by_test_id("conversation-messages")
    expect(thread.get_by_test_id("bubble-in").last.locator(".text")).to_have_text(f"婴儿床{XSS}收到了吗")
    assert thread.locator("img").count() == 0  # the markup is text, not an element
    expect(thread).to_contain_text("收到，谢谢！请问可以加一张婴儿床吗？")  # the demo's earlier reply

    page.get_by_test_id("conversation-send").click()  # empty: refused at the field, nothing sent
    expect(page.locator(".el-form-item__error")).to_be_visible()
    page.locator("textarea[data-testid=conversation-reply]").fill("收到了，婴儿床已备好，祝您入住愉快！")
    page.get_by_test_id("conversation-send").click()
    expect(thread.get_by_test_id("bubble-out").last).to_contain_text(
        "【英冠酒店】收到了，婴儿床已备好，祝您入住愉快！"
    )
    expect(thread.get_by_test_id("bubble-out").last).to_contain_text("陈晓")
    # his next SMS shows in the open thread by itself (the live socket), no reload
    later = {**reply, "id": "e2e-2", "text": "好的，谢谢"}
    assert httpx.get(f"{server}/api/notify/mo/kannel", params=later).status_code == 200
    expect(thread.get_by_test_id("bubble-in").last.locator(".text")).to_have_text("好的，谢谢")
    assert alerts == []


def test_an_agent_links_the_demo_wechat_follower_to_zhang_and_answers_him(page: Page, server: str) -> None:
    sign_in(page, "agent1")
    page.get_by_test_id("nav-conversations").click()
    table = page.get_by_test_id("conversations-table")
    row = table.locator("tr", has_text="上海店这个周六")
    expect(row).to_contain_text("微信")
    row.click()
    head = page.get_by_test_id("conversation-thread")
    expect(head).to_contain_text("未关联客户的微信用户")
    expect(page.get_by_test_id("conversation-channel")).to_have_text("微信")
    # the photo he sent through WeChat shows as a web chat's does (read from WeChat's media API)
    photo = page.get_by_test_id("conversation-messages").get_by_test_id("chat-file-image")
    expect(photo.locator("img")).to_be_visible()
    expect(photo.locator("img")).to_have_js_property("naturalWidth", 200)

    page.get_by_test_id("conversation-link").click()
    page.get_by_test_id("conversation-link-customer").locator("input").fill("张伟")
    page.locator(".el-select-dropdown__item", has_text="张伟").first.click()
    page.get_by_test_id("conversation-link-save").click()
    expect(head.get_by_role("link", name="张伟")).to_be_visible()

    page.locator("textarea[data-testid=conversation-reply]").fill(
        "您好，周六上海店大床房有房，14:00 后可入住。"
    )
    page.get_by_test_id("conversation-send").click()
    last = page.get_by_test_id("conversation-messages").get_by_test_id("bubble-out").last
    expect(last).to_contain_text("您好，周六上海店大床房有房，14:00 后可入住。")
    expect(last).not_to_contain_text("【英冠酒店】")  # a WeChat answer has no SMS signature
    # and a picture, with the paperclip: shown in the thread, sent as a WeChat image message
    page.get_by_test_id("chat-attach-input").set_input_files(
        {"name": "大床房.png", "mimeType": "image/png", "buffer": demo_png(160, 120)}
    )
    sent = page.get_by_test_id("conversation-messages").get_by_test_id("bubble-out").last
    expect(sent.get_by_test_id("chat-file-image").locator("img")).to_have_js_property("naturalWidth", 160)
    expect(sent).to_contain_text("大床房.png")


def test_an_agent_answers_with_a_canned_phrase_and_an_article_then_starts_a_ticket(
    page: Page, server: str
) -> None:
    sign_in(page, "agent1")
    page.get_by_test_id("nav-conversations").click()
    table = page.get_by_test_id("conversations-table")
    table.locator("tr", has_text="张伟").filter(has_text="短信").first.click()
    # his file beside the thread, as the call pop shows a caller's
    customer = page.get_by_test_id("conversation-customer")
    expect(customer).to_contain_text("张伟")
    expect(customer.get_by_test_id("desk-ticket")).to_be_visible()

    reply = page.locator("textarea[data-testid=conversation-reply]")
    page.get_by_test_id("canned-open").click()
    page.get_by_test_id("canned-filter").fill("开场")
    expect(page.get_by_test_id("canned-phrase")).to_have_count(1)
    page.get_by_test_id("canned-phrase").click()
    expect(reply).to_have_value(
        "张伟先生您好，这里是英冠酒店旅游服务中心，很高兴为您服务，请问有什么可以帮您？"
    )

    page.get_by_test_id("kb-open").click()
    page.get_by_test_id("desk-kb").fill("早餐时间")
    hit = page.get_by_test_id("desk-kb-hit").filter(has_text="早餐时间和价格").first
    hit.get_by_test_id("kb-insert").click()
    expect(reply).to_have_value(re.compile(r"请问有什么可以帮您？早餐时间为06:30–10:00"))
    page.get_by_test_id("conversation-send").click()
    last = page.get_by_test_id("conversation-messages").get_by_test_id("bubble-out").last
    expect(last).to_contain_text("张伟先生您好")
    expect(last).to_contain_text("单点早餐68元/位")

    customer.get_by_test_id("desk-ticket").click()
    expect(page.get_by_test_id("ticket-member-found")).to_be_visible()
    content = page.get_by_test_id("ticket-content")
    expect(content).to_have_value(re.compile(r"^来自短信会话 #\d+，客户留言：「.+」$"))
    expect(page.get_by_test_id("ticket-form")).to_contain_text("在线会话")
    # made, the ticket leads back to the conversation it came from
    thread_url = re.compile(r"/messages/conversations/\d+$")
    page.get_by_test_id("ticket-type-consultation").click()
    page.get_by_test_id("ticket-title").fill("咨询婴儿床与早餐")
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("ticket-number")).to_be_visible()
    page.get_by_test_id("ticket-conversation").click()
    expect(page).to_have_url(thread_url)
    expect(page.get_by_test_id("conversation-messages")).to_contain_text("单点早餐68元/位")


def test_an_admin_connects_wecom_and_agent1_finds_its_demo_conversation(page: Page, server: str) -> None:
    sign_in(page, "admin")
    page.goto("/messages")
    page.get_by_role("tab", name="消息网关").click()
    card = page.get_by_test_id("gateway-wecom")
    expect(card).to_contain_text("企业微信")
    card.get_by_text("企业微信客服", exact=True).click()

    def field(label: str) -> Locator:
        return card.locator(".el-form-item", has_text=label).locator("input")

    field("企业 ID（CorpID）").fill("ww123")
    field("Token（令牌）").fill("kfCallbackToken9")
    field("EncodingAESKey").fill("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")
    field("微信客服 Secret").fill("the-kf-secret")
    card.get_by_role("button", name="保存").click()
    expect(card.locator(".el-form-item", has_text="企业 ID（CorpID）")).to_contain_text(
        "CorpID 须为 ww 加 16 位十六进制数字"
    )
    field("企业 ID（CorpID）").fill("ww5823bf96d3bd56c7")
    card.get_by_role("button", name="保存").click()
    expect(page.locator(".el-message--success")).to_be_visible()
    expect(card).to_contain_text("/api/notify/wecom")
    expect(field("微信客服 Secret")).to_have_value("")  # never shown back: kept when left empty
    expect(field("微信客服 Secret")).to_have_attribute("placeholder", "已设置（留空不修改）")
    expect(card).not_to_contain_text("the-kf-secret")
    with httpx.Client(base_url=server) as http:  # back to the log: nothing leaves in the other tests
        admin = http.post("/api/auth/login", json={"username": "admin", "password": "hotline-demo"})
        assert admin.status_code == 200
        assert http.put("/api/notify/gateways/wecom", json={"kind": "log"}).status_code == 200

    page.context.clear_cookies()
    sign_in(page, "agent1")
    page.get_by_test_id("nav-conversations").click()
    row = page.get_by_test_id("conversations-table").locator("tr", has_text="协议价")
    expect(row).to_contain_text("企业微信")
    row.click()
    expect(page.get_by_test_id("conversation-thread")).to_contain_text("未关联客户的企业微信客服访客")
    # the group's list as a PDF that downloads, the Word file noted as not shown
    messages = page.get_by_test_id("conversation-messages")
    expect(messages.get_by_test_id("chat-file-pdf")).to_contain_text("杭州会议参会名单.pdf")
    expect(messages).to_contain_text("[文件] 文件无法显示：不是 JPEG、PNG、GIF、WebP 图片或 PDF 文件")
    with page.expect_download() as download:
        messages.get_by_test_id("chat-file-pdf").click()
    assert download.value.suggested_filename == "杭州会议参会名单.pdf"
