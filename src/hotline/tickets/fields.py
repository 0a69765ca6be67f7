"""Custom fields of ticket types, as data (S1): admins define them, the server checks every value
against its definition. No code per type."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hotline.tickets.errors import InvalidFieldValue

FIELD_TYPES = ("text", "textarea", "integer", "number", "boolean", "date", "datetime", "choice", "phone")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def check_definitions(fields: list[dict[str, Any]], *, where: str = "body.fields") -> list[dict[str, Any]]:
    """A type's field list as an admin wrote it: unique keys, known types, choices for a choice."""
    seen: set[str] = set()
    clean = []
    for n, field in enumerate(fields):
        key = str(field.get("key", ""))
        if not KEY.match(key):
            raise InvalidFieldValue(
                "A field key is lower-case letters, digits and _",
                field=f"{where}.{n}.key",
                reason="field-key-lower-case-letters",
            )
        if key in seen:
            raise InvalidFieldValue(
                f"The field key {key} is used twice",
                field=f"{where}.{n}.key",
                reason="field-key-used-twice",
                params={"key": key},
            )
        seen.add(key)
        kind = field.get("type")
        if kind not in FIELD_TYPES:
            raise InvalidFieldValue(
                f"A field's type is one of {', '.join(FIELD_TYPES)}",
                field=f"{where}.{n}.type",
                reason="field-type-one",
                params={"value": ", ".join(FIELD_TYPES)},
            )
        choices = [str(c) for c in field.get("choices") or []]
        if kind == "choice" and not choices:
            raise InvalidFieldValue(
                "A choice field lists its choices",
                field=f"{where}.{n}.choices",
                reason="choice-field-lists-choices",
            )
        clean.append({
            "key": key, "label": str(field.get("label") or key)[:40], "type": kind,
            "required": bool(field.get("required", False)), "choices": choices,
            "max_length": field.get("max_length"), "min": field.get("min"), "max": field.get("max"),
        })  # fmt: skip
    return clean


def _number(value: Any, integer: bool) -> int | Decimal:
    if isinstance(value, bool):
        raise ValueError
    if integer:
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,12}", value.strip()):
            return int(value)
        raise ValueError
    if isinstance(value, int | float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError from exc
        if not number.is_finite():
            raise ValueError
        return number
    raise ValueError


def check_values(
    definitions: list[dict[str, Any]],
    values: dict[str, Any],
    *,
    where: str = "body.fields",
    partial: bool = False,
) -> dict[str, Any]:
    """The values of a ticket's custom fields, checked and normalised; unknown keys, a missing
    required field or a value of the wrong type raise `ticket-field-invalid` naming the field.
    `partial`: required fields may be missing (a ticket from voicemail or e-mail, completed by
    staff later)."""
    by_key = {d["key"]: d for d in definitions}
    for key in values:
        if key not in by_key:
            raise InvalidFieldValue(
                f"{key} is not a field of this ticket type",
                field=f"{where}.{key}",
                reason="not-field-ticket-type",
                params={"key": key},
            )
    clean: dict[str, Any] = {}
    for definition in definitions:
        key, kind, label = definition["key"], definition["type"], definition["label"]
        name = f"{where}.{key}"
        value = values.get(key)
        if value is None or value == "":
            if definition.get("required") and not partial:
                raise InvalidFieldValue(
                    f"{label} is required", field=name, reason="field-required", params={"label": label}
                )
            continue
        try:
            clean[key] = _one(definition, kind, value)
        except _Broken as exc:
            raise InvalidFieldValue(
                str(exc), field=name, reason=exc.reason, params={"label": label, **exc.params}
            ) from exc
        except ValueError as exc:
            raise InvalidFieldValue(
                f"{label} must be {_article(kind)}",
                field=name,
                reason="field-must-be",
                params={"label": label, "kind": KIND_WORDS.get(kind, "文字")},
            ) from exc
    return clean


class _Broken(ValueError):
    """A value against one of its field's own rules (its words in core/messages.py by `reason`)."""

    def __init__(self, english: str, reason: str, **params: Any) -> None:
        super().__init__(english)
        self.reason, self.params = reason, params


KIND_WORDS = {
    "integer": "整数", "number": "数字", "boolean": "是或否", "date": "日期（YYYY-MM-DD）",
    "datetime": "日期和时间", "choice": "选项之一", "phone": "电话号码",
}  # fmt: skip


def _article(kind: str) -> str:
    return {
        "integer": "a whole number", "number": "a number", "boolean": "yes or no", "date": "a date (YYYY-MM-DD)",  # noqa: E501
        "datetime": "a date and time (ISO 8601)", "choice": "one of its choices", "phone": "a phone number",
    }.get(kind, "text")  # fmt: skip


def _one(definition: dict[str, Any], kind: str, value: Any) -> Any:
    label = definition["label"]
    if kind in ("text", "textarea"):
        if not isinstance(value, str):
            raise ValueError
        limit = definition.get("max_length") or (2000 if kind == "textarea" else 200)
        if len(value) > int(limit):
            raise _Broken(f"{label} is at most {limit} characters", "field-too-long", limit=limit)
        return value.strip()
    if kind in ("integer", "number"):
        number = _number(value, kind == "integer")
        low, high = definition.get("min"), definition.get("max")
        if low is not None and number < Decimal(str(low)):
            raise _Broken(f"{label} is at least {low}", "field-at-least", low=low)
        if high is not None and number > Decimal(str(high)):
            raise _Broken(f"{label} is at most {high}", "field-at-most", high=high)
        return number if isinstance(number, int) else str(number)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError
        return value
    if kind == "date":
        if not isinstance(value, str):
            raise ValueError
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError from None
    if kind == "datetime":
        if not isinstance(value, str):
            raise ValueError
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError from None
        if moment.tzinfo is None:
            raise _Broken(f"{label} needs a time zone (e.g. +08:00)", "field-needs-zone")
        return moment.isoformat()
    if kind == "choice":
        if not isinstance(value, str) or value not in definition["choices"]:
            choices = "、".join(definition["choices"])
            raise _Broken(f"{label} is one of: {choices}", "field-one-of", choices=choices)
        return value
    if kind == "phone":
        if not isinstance(value, str) or not re.fullmatch(r"\+?[0-9][0-9 \-]{5,30}", value):
            raise ValueError
        return value.strip()
    raise ValueError
