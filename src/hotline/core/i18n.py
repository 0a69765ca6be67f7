"""Server-side messages in zh-CN and English, chosen by Accept-Language.

The web UI translates by `code` itself; these catalogues serve API clients and the CLI.
"""

from __future__ import annotations

CATALOGUES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "errors.not-found": "未找到",
        "errors.not-authenticated": "请先登录",
        "errors.session-expired": "会话已过期，请重新登录",
        "errors.permission-denied": "您没有执行此操作的权限",
        "errors.validation-failed": "请求参数有误",
        "errors.malformed-json": "请求内容不是有效的 JSON",
        "errors.payload-too-large": "请求内容过大",
        "errors.invalid-credentials": "用户名或密码错误",
        "errors.login-locked": "登录失败次数过多，请稍后再试",
        "errors.account-disabled": "该账号已停用",
        "errors.password-policy": "密码不符合安全策略",
        "errors.wrong-password": "当前密码不正确",
        "errors.username-taken": "用户名已被使用",
        "errors.work-number-taken": "工号已被使用",
        "errors.unknown-role": "未知角色",
        "errors.last-admin": "不能停用或移除最后一位管理员",
        "errors.user-not-found": "用户不存在",
        "errors.token-not-found": "API 令牌不存在",
        "errors.method-not-allowed": "不支持该请求方法",
        "errors.internal-error": "系统内部错误",
        "errors.computation-too-long": "计算时间过长，已停止，请缩小范围后重试",
        "errors.computation-too-big": "计算所需内存过多，已停止，请缩小范围后重试",
        "errors.compute-busy": "系统正忙于其他计算，请稍后再试",
    },
}


def pick_locale(accept_language: str) -> str:
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"


def translate(key: str, accept_language: str, *, default: str) -> str:
    return CATALOGUES.get(pick_locale(accept_language), {}).get(key, default)
