"""The WeChat channel's protocol (issue 24 item 5) against what Tencent's spec defines: callback
signatures, safe-mode AES (the layout checked byte by byte, not by the code under test), XML read
without entities, and the API client against a local fake of WeChat's HTTP contract served over
real HTTP on loopback: the access token kept, refreshed when WeChat says it expired, fetched once
for many concurrent callers, and replies delivered."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.notify.wechat import (
    ApiError,
    BadSignature,
    WeChatClient,
    WeChatCrypto,
    WeChatError,
    open_callback,
    parse,
)
from tests.conftest import free_port
from tests.notify.conftest import FakeWeChat

TOKEN, APP_ID = "hotelToken2026", "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CRYPTO = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
TEXT = (
    "<xml><ToUserName><![CDATA[gh_hotel]]></ToUserName><FromUserName><![CDATA[oZhangWei]]></FromUserName>"
    "<CreateTime>{at}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[{text}]]></Content><MsgId>23871234567890</MsgId></xml>"
)


def sha1_of(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode(), usedforsecurity=False).hexdigest()


def signed_query(body: str = "", *, at: int | None = None, aes: bool = False) -> dict[str, str]:
    timestamp, nonce = str(at or int(time.time())), "1372623149"
    query = {"timestamp": timestamp, "nonce": nonce, "signature": sha1_of(TOKEN, timestamp, nonce)}
    if aes:
        query |= {"encrypt_type": "aes", "msg_signature": sha1_of(TOKEN, timestamp, nonce, body)}
    return query


def test_the_aes_layout_is_the_one_the_spec_defines() -> None:
    key = base64.b64decode(AES_KEY + "=")
    encrypted = CRYPTO.encrypt("<xml>你好</xml>", random_prefix=b"R" * 16)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    body = "<xml>你好</xml>".encode()
    assert len(plain) % 32 == 0 and plain[-1] == 32 - (16 + 4 + len(body) + len(APP_ID)) % 32
    assert plain[:16] == b"R" * 16 and struct.unpack(">I", plain[16:20]) == (len(body),)
    assert plain[20 : 20 + len(body)] == body and plain[20 + len(body) :].startswith(APP_ID.encode())


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=600))
def test_any_message_comes_back_as_it_was_and_only_for_its_own_account(text: str) -> None:
    encrypted = CRYPTO.encrypt(text)
    assert CRYPTO.decrypt(encrypted) == text
    with pytest.raises(WeChatError):
        WeChatCrypto(TOKEN, AES_KEY, "wxsomebodyelse0001").decrypt(encrypted)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_in_the_encrypt_element_is_refused_never_crashes(data: bytes) -> None:
    for candidate in (base64.b64encode(data).decode(), data.decode("latin-1")):
        try:
            CRYPTO.decrypt(candidate)
        except WeChatError:
            continue


def test_a_plain_and_a_safe_mode_callback_are_read_and_a_forged_one_refused() -> None:
    now = int(time.time())
    plain = TEXT.format(at=now, text="我想订外滩店的房间").encode()
    message = open_callback(CRYPTO, signed_query(), plain)
    assert (message.openid, message.kind, message.text) == ("oZhangWei", "text", "我想订外滩店的房间")
    assert message.account == "gh_hotel" and message.message_id == "23871234567890" and message.at == now

    encrypted = CRYPTO.encrypt(TEXT.format(at=now, text="<b>退房时间？</b>"))
    envelope = (
        f"<xml><ToUserName><![CDATA[gh_hotel]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    message = open_callback(CRYPTO, signed_query(encrypted, aes=True), envelope.encode())
    assert message.text == "<b>退房时间？</b>"  # markup is the customer's text, nothing more

    with pytest.raises(BadSignature):  # the body changed after WeChat signed it
        open_callback(
            CRYPTO, signed_query(encrypted, aes=True), envelope.replace(encrypted[:8], "A" * 8).encode()
        )
    forged = signed_query() | {"signature": sha1_of("guessed", str(now), "1372623149")}
    with pytest.raises(BadSignature):  # signed with another Token
        open_callback(CRYPTO, forged, plain)
    with pytest.raises(BadSignature):  # a callback replayed an hour later
        open_callback(CRYPTO, signed_query(at=now - 3600), plain)
    with pytest.raises(BadSignature):  # a non-ASCII signature is a mismatch, not a crash
        open_callback(CRYPTO, signed_query() | {"signature": "签名"}, plain)


def test_xml_with_entities_or_out_of_bounds_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<xml><Content>&b;</Content></xml>"
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<xml><Content>&e;</Content></xml>"
    )
    for bad in (bomb, external, b"<xml><unclosed></xml>", b"<html/>", b"<xml>" + b"x" * 70_000 + b"</xml>"):
        with pytest.raises(WeChatError):
            parse(bad)


def test_an_encoding_aes_key_must_be_43_base64_characters() -> None:
    with pytest.raises(ValueError, match="43"):
        WeChatCrypto(TOKEN, AES_KEY[:-1], APP_ID)
    with pytest.raises(ValueError, match="base64"):
        WeChatCrypto(TOKEN, "!" * 43, APP_ID)


# ---------------------------------------------------------------- the API, against a local fake
# (tests/notify/conftest.py: FakeWeChat)


async def test_replies_reach_the_customer_with_one_token_for_many_and_a_new_one_when_it_expires(
    wechat: tuple[FakeWeChat, str],
) -> None:
    fake, url = wechat
    fake.last_seen["oZhangWei"] = time.time()
    client = WeChatClient(APP_ID, fake.secret, base_url=url)
    try:
        # ten replies at once: one token fetched for all of them
        await asyncio.gather(*(client.send_text("oZhangWei", f"您好，第 {n} 条") for n in range(10)))
        assert fake.issued == ["ACCESS_TOKEN_1"] and len(fake.sent) == 10
        assert fake.sent[0] == {
            "touser": "oZhangWei",
            "msgtype": "text",
            "text": {"content": "您好，第 0 条"},
        }

        # WeChat expires the token early (another server of the account fetched one): fetched again, sent once
        fake.revoked.add("ACCESS_TOKEN_1")
        await client.send_text("oZhangWei", "房间已为您保留到 18:00")
        assert fake.issued == ["ACCESS_TOKEN_1", "ACCESS_TOKEN_2"] and len(fake.sent) == 11
        assert fake.sent[-1]["text"]["content"] == "房间已为您保留到 18:00"

        # past the 48-hour window WeChat refuses, and the refusal is said, not retried
        with pytest.raises(ApiError) as late:
            await client.send_text("oSomeoneQuiet", "您好")
        assert late.value.errcode == 45015 and len(fake.issued) == 2
    finally:
        await client.close()

    # a token about to run out (expires_in inside the 5-minute margin) is fetched again each time
    fake.expires_in = 120
    short = WeChatClient(APP_ID, fake.secret, base_url=url)
    try:
        await short.send_text("oZhangWei", "一")
        await short.send_text("oZhangWei", "二")
        assert short.fetched == 2
    finally:
        await short.close()


async def test_a_wrong_secret_or_an_absent_api_is_an_error_that_says_so(
    wechat: tuple[FakeWeChat, str],
) -> None:
    fake, url = wechat
    wrong = WeChatClient(APP_ID, "not-the-secret", base_url=url)
    try:
        with pytest.raises(ApiError) as refused:
            await wrong.send_text("oZhangWei", "您好")
        assert refused.value.errcode == 40125 and not fake.sent
    finally:
        await wrong.close()
    nowhere = WeChatClient(APP_ID, fake.secret, base_url=f"http://127.0.0.1:{free_port()}", timeout=2)
    try:
        with pytest.raises(WeChatError, match="did not answer"):
            await nowhere.send_text("oZhangWei", "您好")
    finally:
        await nowhere.close()
