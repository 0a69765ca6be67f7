"""Form errors in the browser, for a zh-CN user: a form sent with two wrong fields marks both, each
with its Chinese message on its field (the rules read from the API's schema, the same the server
applies); editing a field clears its mark; the server's answer to the browser is Chinese too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_two_wrong_fields_show_both_chinese_messages_on_their_fields(page: Page) -> None:
    page.goto("/login")
    page.get_by_test_id("login-username").fill("   ")
    page.get_by_test_id("login-submit").click()
    username = page.locator(".el-form-item", has=page.get_by_test_id("login-username"))
    password = page.locator(".el-form-item", has=page.get_by_test_id("login-password"))
    expect(username.locator(".el-form-item__error")).to_have_text("必填")
    expect(password.locator(".el-form-item__error")).to_have_text("必填")
    expect(page.get_by_test_id("login-error")).to_have_count(0)  # nothing was sent

    page.get_by_test_id("login-username").fill("agent1")
    expect(username.locator(".el-form-item__error")).to_have_count(0)
    expect(password.locator(".el-form-item__error")).to_have_text("必填")

    page.get_by_test_id("login-password").fill("wrong-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")


def test_the_server_answers_the_browser_in_its_language(page: Page) -> None:
    page.goto("/login")
    answer = page.evaluate(
        """async () => {
            const headers = {'Content-Type': 'application/json', 'Accept-Language': navigator.language}
            const body = JSON.stringify({username: '', password: ''})
            return (await fetch('/api/auth/login', {method: 'POST', headers, body})).json()
        }"""
    )
    assert {e["field"]: e["message"] for e in answer["errors"]} == {
        "body.username": "必填",
        "body.password": "必填",
    }
