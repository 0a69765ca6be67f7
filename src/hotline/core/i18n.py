"""Server-side messages in zh-CN and English, chosen by Accept-Language.

zh-CN is the product's language (its users are Chinese hotel and travel staff; the web UI starts in
it), so a client that asks for neither language, or asks for none, gets Chinese; `Accept-Language:
en` gets English. Only human text is translated: codes, types and field names stay as they are.

Titles are looked up by the problem's `code`; a domain error's detail by its `reason`
(`hotline.core.messages`); a validation error's message by pydantic's type
(`hotline.core.validation_messages`).
"""

from __future__ import annotations

from decimal import Decimal
from string import Formatter
from typing import Any

from hotline.core.messages import REASONS_ZH

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")

CATALOGUES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "errors.error": "请求无法处理",
        "errors.bad-request": "请求有误",
        "errors.http-error": "HTTP 错误",
        "errors.not-found": "未找到",
        "errors.conflict": "与当前状态冲突",
        "errors.gone": "已失效",
        "errors.invalid-input": "输入有误",
        "errors.invalid-transition": "当前状态下不允许此操作",
        "errors.not-authenticated": "请先登录",
        "errors.session-expired": "会话已过期，请重新登录",
        "errors.permission-denied": "您没有执行此操作的权限",
        "errors.validation-failed": "请求参数有误",
        "errors.malformed-json": "请求内容不是有效的 JSON",
        "errors.payload-too-large": "请求内容过大",
        "errors.not-acceptable": "无法提供所要求的格式",
        "errors.unsupported-media-type": "不支持的内容类型",
        "errors.rate-limited": "请求过于频繁，请稍后再试",
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
        "errors.already-earned": "该笔积分已发放过",
        "errors.audit-checkpoint-file": "审计检查点文件无法使用",
        "errors.audit-key-error": "审计签名密钥无法使用",
        "errors.backup-error": "备份或恢复失败",
        "errors.balance-outstanding": "订单全额付清后才能关闭",
        "errors.did-taken": "该号码已由其他中继接入",
        "errors.extension-taken": "该分机号已被使用",
        "errors.flow-invalid": "流程有问题，已在各节点标出",
        "errors.flow-name-mismatch": "流程名称须与地址中的一致",
        "errors.id-number-taken": "其他客户已使用该证件号码",
        "errors.invalid-schedule": "时间安排无效",
        "errors.items-locked": "合同已签订：订单项目不能再修改",
        "errors.not-enough-points": "会员积分不足",
        "errors.not-your-order": "该订单由他人负责",
        "errors.nothing-to-publish": "该流程没有可发布的草稿",
        "errors.order-closed": "订单已关闭：只能由财务记录带原因的调整",
        "errors.overpayment": "收款金额超过订单未收余额",
        "errors.phone-taken": "该客户已有这个号码",
        "errors.prompt-too-long": "提示音最长 10 分钟",
        "errors.refund-required": "已付款的订单须先退款才能作废",
        "errors.registration-needs-credentials": "需要注册的中继须填写用户名和密码",
        "errors.rooms-sold-out": "这些日期该房型已无空房",
        "errors.rooms-still-sold": "房间已售出或保留，不能减少",
        "errors.seats-sold-out": "该团期剩余座位不足",
        "errors.speech-unavailable": "本服务器未安装语音合成（espeak-ng 和 sox）",
        "errors.ticket-audit-by-processor": "处理人不能审核自己的工作",
        "errors.ticket-field-invalid": "自定义字段的取值不符合规则",
        "errors.ticket-not-a-complaint": "只有投诉工单才有此项",
        "errors.ticket-not-found": "工单不存在",
        "errors.ticket-not-unit-member": "此人不是该部门的员工",
        "errors.ticket-note-required": "此步骤需要填写说明",
        "errors.ticket-result-not-told": "关闭投诉前须告知客户处理结果",
        "errors.ticket-result-required": "完成工单时须填写处理结果",
        "errors.ticket-transition-refused": "工单当前状态不允许此操作",
        "errors.ticket-unit-inactive": "不能派发给已停用的部门",
        "errors.ticket-unit-required": "请选择部门或工作区",
        "errors.trunk-name-taken": "已有同名中继",
        "errors.unknown-action": "没有此操作",
        "errors.unreadable-audio": "该文件不是可播放的 WAV 录音",
        "errors.user-has-extension": "该用户已有分机",
        "errors.voice-node-unavailable": "坐席状态由语音节点管理；本节点未运行语音服务",
        "errors.weak-sip-password": "SIP 密码太容易被猜到",
        "errors.wrap-up-required": "该队列要求先填写话后小结，才能接听下一通电话",
        "errors.wrong-role": "您的角色不能执行此步骤",
        "details.validation-failed": "请检查以下字段：{fields}",
        "details.validation-failed-one": "请检查此字段：{fields}",
        "details.malformed-json": "请求内容不是有效的 JSON",
        "details.internal-error": "发生意外错误，已记录日志",
    },
    "en": {
        "details.validation-failed": "Check these fields: {fields}",
        "details.validation-failed-one": "Check this field: {fields}",
        "details.malformed-json": "The request body is not valid JSON",
        "details.internal-error": "An unexpected error occurred; it has been logged",
    },
}


def asked_locale(accept_language: str | None) -> str | None:
    """The best of our locales for an Accept-Language header (q-values honoured); None when the
    header is absent or names neither of them."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, *options = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for option in options:
            if option.startswith("q="):
                try:
                    weight = float(option[2:])
                except ValueError:
                    weight = 0.0
        tag = tag.lower()
        locale = "zh-CN" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if locale and weight > 0:
            ranked.append((-weight, index, locale))
    return min(ranked)[2] if ranked else None


def pick_locale(accept_language: str | None) -> str:
    """The best of our locales for an Accept-Language header (q-values honoured), else zh-CN."""
    return asked_locale(accept_language) or DEFAULT_LOCALE


def translate(key: str, locale: str, *, default: str, **params: Any) -> str:
    """The catalogue's words for `key` in `locale` (a locale from `pick_locale`), else `default`."""
    template = CATALOGUES.get(locale, {}).get(key)
    return fill(template, params) if template is not None else default


def reason_message(reason: str | None, locale: str, params: dict[str, Any], *, english: str) -> str | None:
    """A domain error's words: the Chinese for its reason, or the English it was raised with.

    None when Chinese is wanted and the reason has none (the caller falls back to the title)."""
    if locale == "en":
        return english
    template = REASONS_ZH.get(reason or "")
    return fill(template, params) if template is not None else None


def fill(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):  # a parameter missing: the words without it
        return "".join(text for text, *_ in Formatter().parse(template))


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def yuan(value: Decimal | int | float) -> str:
    """An amount as staff read it in a Chinese text: ¥1,509.30 (two decimals, thousands marked)."""
    return f"¥{Decimal(value):,.2f}"
