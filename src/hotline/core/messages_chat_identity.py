"""Chinese for the error reasons of the web chat's identification (notify/chat_identity.py,
notify/member_token.py); merged into `messages.REASONS_ZH`."""

from __future__ import annotations

CHAT_IDENTITY_ZH: dict[str, str] = {
    "chat-code-off": "短信验证码功能已停用（验证码短信模板未启用）",
    "chat-code-too-soon": "验证码刚刚已发送，请 {seconds} 秒后再试",
    "chat-code-hourly-cap": "此号码一小时内最多接收 {most} 条验证码，请稍后再试",
    "chat-code-none": "请先获取验证码",
    "chat-code-expired": "验证码已过期，请重新获取",
    "chat-code-tries-used": "验证码错误已达 {most} 次，请重新获取",
    "chat-code-wrong": "验证码错误，还可再试 {left} 次",
    "no-chat-site": "没有网站 {site}",
    "member-token-not-enabled": "此网站未启用会员身份令牌",
    "member-token-malformed": "会员身份令牌格式不正确",
    "member-token-algorithm": "会员身份令牌须以 HS256 签名",
    "member-token-signature": "会员身份令牌的签名不正确",
    "member-token-site": "会员身份令牌不是为此网站签发的",
    "member-token-expired": "会员身份令牌已过期",
    "member-token-future": "会员身份令牌的有效期超过 15 分钟或尚未生效",
    "member-token-claims": "会员身份令牌的内容不完整或不正确（sub、name、phone、email、exp、iat）",
}
