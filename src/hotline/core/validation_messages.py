"""Pydantic's validation errors in the words of a form: zh-CN and English by error type.

Every type pydantic-core can report has both (tests/api/test_error_language.py walks
`list_all_errors()`); the parameters are the error's context, tidied (`min_length`, `ge`, `values`,
`pattern_name`). A pattern is described by what it accepts, never shown as a regular expression:
`PATTERNS` names each one our schemas use (the same names as frontend/src/forms.ts).
"""

# ruff: noqa: E501 - catalogue lines are as long as their sentences (CJK counts double)

from __future__ import annotations

import re
from typing import Any

T = tuple[str, str]  # (zh-CN, en)

TYPES: dict[str, T] = {
    "missing": ("必填", "Required"),
    "extra_forbidden": ("不支持此字段", "This field is not accepted"),
    "json_invalid": ("请求内容不是有效的 JSON", "The request body is not valid JSON"),
    "json_type": ("请求内容应为 JSON 文本", "The request body should be JSON text"),
    "string_too_short": ("至少 {min_length} 个字符", "At least {min_length} characters"),
    "string_too_long": ("最多 {max_length} 个字符", "At most {max_length} characters"),
    "string_pattern_mismatch": ("格式不正确", "Not in the expected format"),
    "string_type": ("请输入文字", "Enter text"),
    "string_unicode": ("请输入有效的文字", "Enter valid text"),
    "string_not_ascii": ("只能包含英文字母、数字和符号", "Only English letters, digits and symbols"),
    "too_short": ("至少 {min_length} 项", "At least {min_length} items"),
    "too_long": ("最多 {max_length} 项", "At most {max_length} items"),
    "greater_than": ("须大于 {gt}", "Must be more than {gt}"),
    "greater_than_equal": ("不能小于 {ge}", "Must be at least {ge}"),
    "less_than": ("须小于 {lt}", "Must be less than {lt}"),
    "less_than_equal": ("不能大于 {le}", "Must be at most {le}"),
    "multiple_of": ("须为 {multiple_of} 的倍数", "Must be a multiple of {multiple_of}"),
    "finite_number": ("请输入有限的数字", "Enter a finite number"),
    "int_type": ("请输入整数", "Enter a whole number"),
    "int_parsing": ("请输入整数", "Enter a whole number"),
    "int_parsing_size": ("数字太大", "The number is too large"),
    "int_from_float": ("请输入整数，不能有小数", "Enter a whole number, without decimals"),
    "float_type": ("请输入数字", "Enter a number"),
    "float_parsing": ("请输入数字", "Enter a number"),
    "decimal_type": ("请输入数字", "Enter a number"),
    "decimal_parsing": ("请输入数字", "Enter a number"),
    "decimal_max_digits": ("最多 {max_digits} 位数字", "At most {max_digits} digits"),
    "decimal_max_places": ("最多 {decimal_places} 位小数", "At most {decimal_places} decimal places"),
    "decimal_whole_digits": (
        "整数部分最多 {whole_digits} 位",
        "At most {whole_digits} digits before the point",
    ),
    "fraction_type": ("请输入数字", "Enter a number"),
    "fraction_parsing": ("请输入有效的分数", "Enter a valid fraction"),
    "complex_type": ("请输入数字", "Enter a number"),
    "complex_str_parsing": ("请输入数字", "Enter a number"),
    "bool_type": ("请选择是或否", "Choose yes or no"),
    "bool_parsing": ("请选择是或否", "Choose yes or no"),
    "enum": ("请从以下选项中选择：{values}", "Choose one of: {values}"),
    "literal_error": ("请从以下选项中选择：{values}", "Choose one of: {values}"),
    "date_type": ("请输入有效的日期", "Enter a valid date"),
    "date_parsing": ("请输入有效的日期（年-月-日）", "Enter a valid date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": ("请输入有效的日期（年-月-日）", "Enter a valid date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": ("请只填日期，不含时间", "Enter a date without a time"),
    "date_past": ("日期须早于今天", "The date must be in the past"),
    "date_future": ("日期须晚于今天", "The date must be in the future"),
    "time_type": ("请输入有效的时间", "Enter a valid time"),
    "time_parsing": ("请输入有效的时间（时:分）", "Enter a valid time (HH:MM)"),
    "datetime_type": ("请输入有效的日期和时间", "Enter a valid date and time"),
    "datetime_parsing": ("请输入有效的日期和时间", "Enter a valid date and time"),
    "datetime_object_invalid": ("请输入有效的日期和时间", "Enter a valid date and time"),
    "datetime_from_date_parsing": ("请输入有效的日期和时间", "Enter a valid date and time"),
    "datetime_past": ("时间须早于现在", "The time must be in the past"),
    "datetime_future": ("时间须晚于现在", "The time must be in the future"),
    "timezone_naive": ("时间不能带时区", "The time must not have a time zone"),
    "timezone_aware": ("时间须带时区（例如 +08:00）", "The time needs its time zone (e.g. +08:00)"),
    "timezone_offset": ("时区须为 {tz_expected}", "The time zone must be {tz_expected}"),
    "time_delta_type": ("请输入有效的时长", "Enter a valid duration"),
    "time_delta_parsing": ("请输入有效的时长", "Enter a valid duration"),
    "url_type": ("请输入网址", "Enter an address (URL)"),
    "url_parsing": ("请输入有效的网址", "Enter a valid address (URL)"),
    "url_syntax_violation": ("请输入有效的网址", "Enter a valid address (URL)"),
    "url_too_long": ("网址最多 {max_length} 个字符", "At most {max_length} characters"),
    "url_scheme": ("网址须以 {expected_schemes} 开头", "The address must start with {expected_schemes}"),
    "uuid_type": ("请输入有效的 UUID", "Enter a valid UUID"),
    "uuid_parsing": ("请输入有效的 UUID", "Enter a valid UUID"),
    "uuid_version": ("须为第 {expected_version} 版 UUID", "Must be a version {expected_version} UUID"),
    "bytes_type": ("请上传文件内容", "Upload the file's content"),
    "bytes_too_short": ("至少 {min_length} 字节", "At least {min_length} bytes"),
    "bytes_too_long": ("最多 {max_length} 字节", "At most {max_length} bytes"),
    "bytes_invalid_encoding": ("内容编码不是 {encoding}", "The content is not valid {encoding}"),
    "value_error": ("取值无效：{error}", "Invalid value: {error}"),
    "assertion_error": ("取值无效：{error}", "Invalid value: {error}"),
    "dict_type": ("应为一组键值", "Should be a set of named values"),
    "frozen_dict_type": ("应为一组键值", "Should be a set of named values"),
    "ordered_dict_type": ("应为一组键值", "Should be a set of named values"),
    "counter_type": ("应为一组键值", "Should be a set of named values"),
    "mapping_type": ("应为一组键值", "Should be a set of named values"),
    "model_type": ("应为一组键值", "Should be a set of named values"),
    "model_attributes_type": ("应为一组键值", "Should be a set of named values"),
    "dataclass_type": ("应为一组键值", "Should be a set of named values"),
    "dataclass_exact_type": ("应为一组键值", "Should be a set of named values"),
    "named_tuple_type": ("应为一组值", "Should be a list of values"),
    "invalid_key": ("键须为文字", "Keys must be text"),
    "list_type": ("应为列表", "Should be a list"),
    "deque_type": ("应为列表", "Should be a list"),
    "tuple_type": ("应为列表", "Should be a list"),
    "set_type": ("应为列表", "Should be a list"),
    "frozen_set_type": ("应为列表", "Should be a list"),
    "iterable_type": ("应为列表", "Should be a list"),
    "iteration_error": ("列表无法读取", "The list cannot be read"),
    "set_item_not_hashable": ("列表中的项无效", "An item of the list is not valid"),
    "none_required": ("此处应为空", "Should be empty"),
    "union_tag_invalid": (
        "类型 {tag} 无效，应为：{expected_tags}",
        "Type {tag} is not one of: {expected_tags}",
    ),
    "union_tag_not_found": ("缺少类型字段 {discriminator}", "The type field {discriminator} is missing"),
    "no_such_attribute": ("没有此属性", "No such attribute"),
    "frozen_field": ("此字段不能修改", "This field cannot be changed"),
    "frozen_instance": ("不能修改", "Cannot be changed"),
    "get_attribute_error": ("取值无效", "Invalid value"),
    "is_instance_of": ("取值类型不正确", "A value of the wrong type"),
    "is_subclass_of": ("取值类型不正确", "A value of the wrong type"),
    "callable_type": ("取值类型不正确", "A value of the wrong type"),
    "needs_python_object": ("取值类型不正确", "A value of the wrong type"),
    "default_factory_not_called": ("因其他字段有误，无法确定默认值", "No default: other fields are wrong"),
    "recursion_loop": ("内容嵌套成环", "The content refers to itself"),
    "recursion_depth_exceeded": ("内容嵌套过深", "The content is nested too deeply"),
    "missing_sentinel_error": ("取值无效", "Invalid value"),
    "ellipsis_error": ("取值无效", "Invalid value"),
    "arguments_type": ("参数无效", "Invalid arguments"),
    "missing_argument": ("必填", "Required"),
    "missing_keyword_only_argument": ("必填", "Required"),
    "missing_positional_only_argument": ("必填", "Required"),
    "unexpected_keyword_argument": ("不支持此参数", "This argument is not accepted"),
    "unexpected_positional_argument": ("不支持此参数", "This argument is not accepted"),
    "multiple_argument_values": ("参数重复", "The argument is given twice"),
}

# What each pattern in our schemas accepts, by name; `\S` is "not blank".
PATTERN_NAMES: dict[str, str] = {
    r"\S": "not-blank",
    r"^\+?[0-9 ()-]{7,20}$": "phone",
    r"^\+?[0-9]{3,20}$": "phone",
    r"^(\+?[0-9]{3,20})?$": "phone",
    r"^(\+?[0-9 ()-]{7,20})?$": "phone",
    r"^[+0-9 \-]{3,32}$": "phone",
    r"^[+0-9 \-]*$": "phone",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "email",
    r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$": "email",
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$": "clock",
    r"^[0-9]{8}$": "member-number",
    r"^[0-9]{6}$": "sms-code",
    r"^[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*$": "jwt",
    r"^[0-9]{1,8}$": "digits",
    r"^[0-9]{3,6}$": "extension",
    r"^[0-9*#A-D]{1,32}$": "keys",
    r"^[0-9A-Za-z]+$": "letters-digits",
    r"^[A-Z0-9][A-Z0-9-]{0,15}$": "upper-code",
    r"^[a-z][a-z0-9_-]{0,63}$": "code",
    r"^[a-z][a-z0-9_.-]{1,39}$": "code",
    r"^[a-z][a-z0-9_\-]{1,31}$": "code",
    r"^[a-z][a-z0-9_]{0,31}$": "code",
    r"^[a-z_]{1,40}$": "code",
    r"^[a-z_]{1,12}$": "code",
    r"^[a-z_,]{1,120}$": "codes",
    r"^[A-Za-z0-9._-]{1,64}$": "name",
    r"^[A-Za-z0-9_-]{8,40}$": "name",
    r"^[A-Za-z0-9_-]+$": "name",
    r"^[A-Za-z0-9_.-]*$": "name",
    r"^[A-Za-z0-9._:-]+$": "name",
    r"^[A-Za-z0-9-]{1,20}$": "name",
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$": "name",
    r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$": "name",
    r"^[\x21-\x7e]+$": "printable",
    r"^[\x21-\x7e]*$": "printable",
    r"^([\x21-\x7e]{32,200})?$": "printable",
    r"^[A-Za-z0-9.:\[\]-]+$": "host",
    r"^[0-9A-Fa-f.:]+$": "host",
    r"^\d{4}-\d{2}$": "month",
}

PATTERNS: dict[str, T] = {
    "not-blank": ("不能只填空格", "Cannot be blank"),
    "phone": ("请输入有效的电话号码", "Enter a valid phone number"),
    "email": ("请输入有效的电子邮件地址", "Enter a valid e-mail address"),
    "clock": ("请输入时间，例如 09:30", "Enter a time such as 09:30"),
    "member-number": ("会员号为 8 位数字", "A member number has 8 digits"),
    "sms-code": ("验证码为 6 位数字", "The code has 6 digits"),
    "jwt": ("不是有效的令牌（JWT）", "Not a valid token (JWT)"),
    "digits": ("只能填数字", "Digits only"),
    "extension": ("分机号为 3 到 6 位数字", "An extension has 3 to 6 digits"),
    "keys": ("只能是电话按键 0-9、*、#、A-D", "Phone keys only: 0-9, *, #, A-D"),
    "letters-digits": ("只能包含字母和数字", "Letters and digits only"),
    "upper-code": ("只能包含大写字母、数字和 -", "Capital letters, digits and - only"),
    "code": (
        "以小写字母开头，只含小写字母、数字、_ 和 -",
        "Lower-case letters, digits, _ and -, starting with a letter",
    ),
    "codes": ("只能包含小写字母、_ 和逗号", "Lower-case letters, _ and commas only"),
    "name": ("只能包含字母、数字和 . _ -（不含空格和中文）", "Letters, digits, . _ and - only (no spaces)"),
    "printable": (
        "只能包含字母、数字和符号（不含空格和中文）",
        "Letters, digits and symbols only (no spaces)",
    ),
    "host": ("请输入主机名或 IP 地址", "Enter a host name or IP address"),
    "month": ("请输入月份，例如 2026-03", "Enter a month such as 2026-03"),
    "choice": ("请从以下选项中选择：{values}", "Choose one of: {values}"),
}

# The few rules our schemas check in code (a `ValueError` in a validator), by their English.
VALUE_ERRORS: dict[str, str] = {
    "must not contain NUL characters": "不能包含空字符（NUL）",
    "two windows start at the same notice": "两个时段的提前通知时间相同",
    "the policy needs a window from 0 hours (a late cancellation)": "取消政策需要一个从 0 小时开始的时段（临时取消）",
    "shorter notice cannot refund more than longer notice": "提前时间越短，退款不能越多",
    "more rooms out of order than there are": "维修房数量超过了房间总数",
    "leave a phone number or an e-mail address": "请留下手机号或邮箱，方便我们联系您",
    "the itinerary has one entry per day, days 1…days in order": "行程须每天一条，按第 1 天到最后一天的顺序",
    "name an agent or a queue to pass it to, one of the two": "请选择转给一位坐席或一个队列（二选一）",
}
VALUE_ERROR_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"unknown time zone (?P<zone>.+)"), "未知时区 {zone}"),
    (re.compile(r"condition (?P<key>.+) needs 1–100 allowed values"), "条件 {key} 需要 1 到 100 个取值"),
]

_CHOICE = re.compile(r"^\^\(([\w|-]+)\)\$$")


def params_of(error: dict[str, Any]) -> dict[str, Any]:
    """The parameters a form needs to word an error: the context, JSON-plain, plus derived names."""
    ctx = error.get("ctx") or {}
    params: dict[str, Any] = {
        key: value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else str(value)
        for key, value in ctx.items()
    }
    if "expected" in ctx:  # "'a', 'b' or 'c'": the values, for the form to label
        params["values"] = re.findall(r"'([^']*)'", str(ctx["expected"])) or [str(ctx["expected"])]
    if "pattern" in ctx:
        pattern = str(ctx["pattern"])
        choice = _CHOICE.match(pattern)
        if choice:
            params["values"] = choice.group(1).split("|")
        params["pattern_name"] = "choice" if choice else PATTERN_NAMES.get(pattern, "")
    if "error" in ctx:
        params["error"] = str(ctx["error"])
    return params


def validation_message(kind: str, params: dict[str, Any], zh: bool) -> str:
    """The words for one pydantic error of type `kind` in zh-CN or English."""
    if kind == "string_too_short" and params.get("min_length") == 1:
        template = TYPES["missing"][0 if zh else 1]  # an empty text is a field not filled in
    elif kind == "string_pattern_mismatch" and params.get("pattern_name") in PATTERNS:
        template = PATTERNS[params["pattern_name"]][0 if zh else 1]
    elif kind == "value_error" and zh:
        template = _value_error_zh(str(params.get("error", "")))
    else:
        template = TYPES.get(kind, ("取值无效", "Invalid value"))[0 if zh else 1]
    values = params.get("values")
    shown = {**params, "values": ("、" if zh else ", ").join(values) if isinstance(values, list) else ""}
    try:
        return template.format(**shown)
    except (KeyError, IndexError, ValueError):
        return template


def _value_error_zh(error: str) -> str:
    if error in VALUE_ERRORS:
        return VALUE_ERRORS[error].replace("{", "{{").replace("}", "}}")
    for pattern, zh in VALUE_ERROR_PATTERNS:
        found = pattern.fullmatch(error)
        if found:
            return zh.format(**found.groupdict()).replace("{", "{{").replace("}", "}}")
    return TYPES["value_error"][0]
