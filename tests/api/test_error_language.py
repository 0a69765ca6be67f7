"""Problems in the language the client asks for: titles, details and every field's message, from
stable codes (pydantic's error types, each domain error's reason) with their parameters; every
reason raised in src/ and every pydantic error type has zh-CN and English; a form's broken rules
come back together."""

from __future__ import annotations

import ast
import json
import pickle
import re
import string
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic_core._pydantic_core import list_all_errors

from hotline.core import errors as core_errors
from hotline.core.context import Context
from hotline.core.i18n import pick_locale
from hotline.core.messages import REASONS_ZH
from hotline.core.validation_messages import PATTERN_NAMES, PATTERNS, TYPES
from tests.conftest import Users, assert_problem
from tests.hotels.test_reservations import hotel_today, ids, stay

ROOT = Path(__file__).resolve().parents[2]
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def messages(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


async def booking(seeded: Context, **change: Any) -> dict[str, Any]:
    return {**await ids(seeded), **stay(), "guest_name": "李雷", "guest_phone": "13912345678",
            "rooms": 1, "guests": 2, **change}  # fmt: skip


async def test_the_issue_s_three_messages_come_in_chinese(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    blank = await agent.post("/api/reservations", json=await booking(seeded, guest_name=""), headers=ZH)
    body = assert_problem(blank, 422, "validation-failed", "body.guest_name")
    assert body["title"] == "请求参数有误" and body["detail"] == "请检查此字段：body.guest_name"
    assert messages(body) == {"body.guest_name": "必填"}
    assert body["errors"][0]["type"] == "string_too_short" and body["errors"][0]["params"]["min_length"] == 1

    phone = await agent.post(
        "/api/reservations", json=await booking(seeded, guest_phone="138-abc"), headers=ZH
    )
    body = assert_problem(phone, 422, "validation-failed", "body.guest_phone")
    assert messages(body) == {"body.guest_phone": "请输入有效的电话号码"}
    assert body["errors"][0]["params"]["pattern_name"] == "phone"

    past = stay(days_ahead=-2, nights=1)
    late = await agent.post("/api/reservations", json=await booking(seeded, **past), headers=ZH)
    body = assert_problem(late, 422, "invalid-input", "body.arrival")
    assert (body["title"], body["detail"], body["reason"]) == ("输入有误", "入住日期已过", "arrival-in-past")
    assert body["errors"] == [
        {"field": "body.arrival", "message": "入住日期已过", "type": "arrival-in-past", "params": {}}
    ]


async def test_english_clients_get_english_with_the_same_codes(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    wrong = await booking(seeded, guest_name="", guest_phone="138-abc", rooms=0)
    body = assert_problem(
        await agent.post("/api/reservations", json=wrong, headers=EN), 422, "validation-failed"
    )
    assert body["title"] == "Invalid request"
    assert messages(body) == {
        "body.guest_name": "Required",
        "body.guest_phone": "Enter a valid phone number",
        "body.rooms": "Must be at least 1",
    }
    assert [e["type"] for e in body["errors"]] == [
        "string_too_short",
        "string_pattern_mismatch",
        "greater_than_equal",
    ]
    late = await agent.post("/api/reservations", json=await booking(seeded, **stay(-2, 1)), headers=EN)
    body = assert_problem(late, 422, "invalid-input", "body.arrival")
    assert (body["title"], body["detail"]) == ("Invalid input", "The arrival date is in the past")


async def test_no_language_or_an_unknown_one_is_chinese(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    for headers in ({}, {"Accept-Language": "fr-FR,de;q=0.8"}, {"Accept-Language": "en;q=0.3, zh-CN"}):
        body = (
            await agent.post("/api/reservations", json=await booking(seeded, rooms=99), headers=headers)
        ).json()
        assert messages(body) == {"body.rooms": "不能大于 20"}, headers
    assert pick_locale("zh-TW") == "zh-CN" and pick_locale("en-US,zh;q=0.1") == "en"
    assert pick_locale("zh;q=0, en;q=0.2") == "en"


async def test_a_form_s_broken_rules_come_back_together(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    today = hotel_today()
    both = {"arrival": str(today - timedelta(days=3)), "departure": str(today - timedelta(days=4))}
    body = assert_problem(
        await agent.post("/api/reservations", json=await booking(seeded, **both), headers=ZH),
        422,
        "invalid-input",
    )
    assert messages(body) == {
        "body.arrival": "入住日期已过",
        "body.departure": "离店日期至少要在入住日期之后一晚",
    }
    # pydantic's rules likewise: every wrong field of the form at once, each with its own words
    wrong = await booking(seeded, guest_name=" ", guest_phone="x", rooms=0, guests=100, arrival="明天")
    body = assert_problem(
        await agent.post("/api/reservations", json=wrong, headers=ZH), 422, "validation-failed"
    )
    assert messages(body) == {
        "body.guest_name": "必填",  # blanks are stripped: nothing was filled in
        "body.guest_phone": "请输入有效的电话号码",
        "body.rooms": "不能小于 1",
        "body.guests": "不能大于 80",
        "body.arrival": "请输入有效的日期（年-月-日）",
    }


async def test_empty_follow_up_and_zero_receipt_mark_their_field(seeded: Context, users: Users) -> None:
    planner, finance = await users("planner"), await users("finance")
    empty = await planner.post("/api/travel/orders/1/follow-ups", json={"note": "  "}, headers=ZH)
    assert messages(assert_problem(empty, 422, "validation-failed")) == {"body.note": "必填"}
    zero = await finance.post(
        "/api/travel/orders/1/receipts", json={"amount": "0", "method": "cheque"}, headers=ZH
    )
    body = assert_problem(zero, 422, "validation-failed")
    assert messages(body) == {
        "body.amount": "须大于 0",
        "body.method": "请从以下选项中选择：cash、card、transfer、online",
    }
    method = next(e for e in body["errors"] if e["field"] == "body.method")
    assert method["type"] == "literal_error" and method["params"]["values"] == [
        "cash",
        "card",
        "transfer",
        "online",
    ]


async def test_malformed_json_and_unknown_fields_in_both_languages(
    client: httpx.AsyncClient, seeded: Context
) -> None:
    broken = await client.post(
        "/api/auth/login", content=b"{", headers={**ZH, "Content-Type": "application/json"}
    )
    body = assert_problem(broken, 400, "malformed-json")
    assert body["detail"] == "请求内容不是有效的 JSON" and body["errors"][0]["message"] == body["detail"]
    extra = {"username": "admin", "password": "x", "role": "admin"}
    body = assert_problem(
        await client.post("/api/auth/login", json=extra, headers=EN), 422, "validation-failed"
    )
    assert messages(body) == {"body.role": "This field is not accepted"}


# ---------------------------------------------------------------- coverage of the catalogues


def _domain_error_names() -> set[str]:
    names = {"HotlineError"}
    trees = [ast.parse(path.read_text()) for path in (ROOT / "src").rglob("*.py")]
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                bases = {
                    getattr(b, "id", None) or getattr(b, "attr", None) for b in getattr(node, "bases", [])
                }
                if isinstance(node, ast.ClassDef) and node.name not in names and bases & names:
                    names.add(node.name)
                    grew = True
    return names


KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")


def _raised() -> list[tuple[str, str, str | None, set[str] | None]]:
    """Every domain error built in src/ with words: (where, reason, English, parameters given).

    A reason chosen among several is written beside its English as a pair (`"The call is being
    transferred", "call-being-transferred"`); those pairs count too. Parameters passed as a variable
    are not known here (None)."""
    names, found = _domain_error_names(), []
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Tuple) and len(node.elts) == 2:
                english, reason = node.elts
                if (
                    isinstance(english, ast.Constant | ast.JoinedStr)
                    and isinstance(reason, ast.Constant)
                    and KEBAB.match(str(reason.value))
                    and " " in ast.unparse(english)
                ):
                    found.append((where, str(reason.value), ast.unparse(english), None))
                continue
            if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["reason"]:
                if isinstance(node.value, ast.Constant) and KEBAB.match(str(node.value.value)):
                    found.append((where, str(node.value.value), "(beside it)", None))
                continue
            func = getattr(node, "func", None)
            if (
                not isinstance(node, ast.Call)
                or (getattr(func, "id", None) or getattr(func, "attr", None)) not in names
            ):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            reason_node = keywords.get("reason")
            words = node.args[0] if node.args else None
            if isinstance(words, ast.Constant | ast.JoinedStr) and reason_node is None:
                found.append((where, "", None, set()))  # words without a reason: cannot be translated
            elif isinstance(reason_node, ast.Constant):
                given = keywords.get("params")
                keys = (
                    {k.value for k in given.keys if isinstance(k, ast.Constant)}
                    if isinstance(given, ast.Dict)
                    else (set() if given is None else None)
                )
                found.append((where, str(reason_node.value), ast.unparse(words) if words else None, keys))
    return found


def test_every_domain_reason_raised_has_chinese_and_english() -> None:
    raised = _raised()
    assert len(raised) > 300
    assert not [where for where, reason, _, _ in raised if not reason], "errors with words but no reason"
    missing = sorted({reason for _, reason, _, _ in raised if reason not in REASONS_ZH})
    assert not missing, f"reasons without Chinese in core/messages.py: {missing}"
    no_english = [where for where, _, english, _ in raised if not english]
    assert not no_english, f"reasons raised without their English: {no_english}"
    for where, reason, _, keys in raised:  # the Chinese names only parameters the raise gives
        named = {field for _, field, _, _ in string.Formatter().parse(REASONS_ZH[reason]) if field}
        assert keys is None or named <= keys, (where, reason, named - keys)
    assert {"call-being-transferred", "step-other-roles", "fewer-rooms-than-sold"} <= {
        r for _, r, _, _ in raised
    }


@pytest.mark.parametrize("kind", [error["type"] for error in list_all_errors()])
def test_every_pydantic_error_type_has_both_languages(kind: str) -> None:
    zh, en = TYPES[kind]
    assert zh and en and zh != en
    assert any("\u4e00" <= c <= "\u9fff" for c in zh) and not any("\u4e00" <= c <= "\u9fff" for c in en)


def test_every_pattern_in_the_api_is_described_in_words() -> None:
    spec = json.loads((ROOT / "frontend" / "openapi.json").read_text())
    patterns: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    undescribed = [p for p in patterns if PATTERN_NAMES.get(p) not in PATTERNS and not p.startswith("^(")]
    assert not undescribed, undescribed
    frontend = (ROOT / "frontend" / "src" / "forms.ts").read_text()
    for name in PATTERNS:  # the browser describes patterns by the same names
        assert f"'{name}'" in frontend, name


def test_domain_errors_keep_reason_and_params_across_processes() -> None:
    error = core_errors.InvalidInput(
        "x", field="body.a", reason="arrival-in-past", params={"day": timedelta(1)}
    )
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, as core/compute.py sends them
    assert (back.reason, back.params, back.field) == ("arrival-in-past", {"day": "1 day, 0:00:00"}, "body.a")
