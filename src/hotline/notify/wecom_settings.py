"""The WeCom (微信客服) gateway's settings: what 消息网关 keeps for it and the checks that refuse
settings that cannot work, each at its field (notify/service.py `set_gateway` calls them)."""

from __future__ import annotations

import re
from typing import Any

from hotline.core.errors import InvalidInput
from hotline.notify.wechat import WeChatCrypto

WECOM_KEYS = {"corp_id", "token", "encoding_aes_key", "api_base", "timeout"}
"""CorpID, the callback's Token and EncodingAESKey (never shown back), the API's address (empty:
WeCom's; a test's fake otherwise); the 微信客服 Secret is the gateway's secret."""


def check_keys(config: dict[str, Any], secret: str) -> None:
    """A corporation's 微信客服 settings, with what is kept from before, as WeCom issues them:
    every one is needed (WeCom's callbacks are always encrypted)."""
    if not re.fullmatch(r"w[wx][0-9a-f]{16}", str(config.get("corp_id", ""))):
        raise InvalidInput(
            "The CorpID is ww and 16 hexadecimal digits", field="body.config.corp_id",
            reason="wecom-corp-id-format",
        )  # fmt: skip
    check_callback(config, key_required=True)
    if not secret:
        raise InvalidInput("The 微信客服 Secret", field="body.secret", reason="wecom-secret-needed")


def check_callback(config: dict[str, Any], *, key_required: bool) -> None:
    """The callback settings a WeChat account and a WeCom corporation share, each at its field: the
    Token, the EncodingAESKey (a WeChat account's only for safe mode) and the API's address."""
    if not re.fullmatch(r"[A-Za-z0-9]{3,32}", str(config.get("token", ""))):
        raise InvalidInput(
            "The Token is 3 to 32 letters or digits", field="body.config.token", reason="wechat-token-format"
        )
    key = str(config.get("encoding_aes_key", ""))
    if key or key_required:
        try:
            WeChatCrypto("token", key, "wx")
        except ValueError:
            raise InvalidInput(
                "The EncodingAESKey is 43 letters, digits, + or /", field="body.config.encoding_aes_key",
                reason="wechat-aes-key-format",
            ) from None  # fmt: skip
    base = str(config.get("api_base", ""))
    if base and not base.startswith(("http://", "https://")):
        raise InvalidInput(
            "An http:// or https:// address", field="body.config.api_base", reason="http-https-address"
        )
