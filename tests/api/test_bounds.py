"""Every number a request carries has physical bounds, stated in the OpenAPI document (so the
schema refuses 5e-324 seconds of patience or a billion rooms before any code sees them), and
the examples of issue 17 get a 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hotline.api.app import create_app
from hotline.core.config import Settings
from hotline.core.context import Context
from tests.conftest import Users, assert_problem


def numbers(
    schema: Any, where: str, components: dict[str, Any], seen: frozenset[str]
) -> Iterator[tuple[str, Any]]:
    """(place, schema) of every integer or number inside `schema`, references followed."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from numbers(components[name], name, components, seen | {name})
        return
    if schema.get("type") in ("integer", "number"):
        yield where, schema
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from numbers(option, where, components, seen)
    if "items" in schema:
        yield from numbers(schema["items"], f"{where}[]", components, seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from numbers(schema["additionalProperties"], f"{where}{{}}", components, seen)
    for name, field in schema.get("properties", {}).items():
        yield from numbers(field, f"{where}.{name}", components, seen)


def test_every_number_in_a_request_has_a_lower_and_an_upper_bound(settings: Settings) -> None:
    document = create_app(settings).openapi()
    components = document["components"]["schemas"]
    found, unbounded = 0, []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            places = [
                (f"{p['in']} {p['name']}", p.get("schema", {})) for p in operation.get("parameters", [])
            ]
            places += [
                ("body", c.get("schema", {}))
                for c in operation.get("requestBody", {}).get("content", {}).values()
            ]
            for where, schema in places:
                for place, number in numbers(schema, where, components, frozenset()):
                    found += 1
                    low = "minimum" in number or "exclusiveMinimum" in number
                    high = "maximum" in number or "exclusiveMaximum" in number
                    if not (low and high):
                        unbounded.append(f"{method.upper()} {path}: {place}")
    assert found > 100
    assert unbounded == []


async def test_the_requests_that_stalled_or_failed_a_node_are_refused_naming_the_field(
    seeded: Context, users: Users
) -> None:
    teamlead = await users("teamlead")
    base = {"calls_per_hour": 100, "handle_seconds": 180}
    for field, value in [("patience_seconds", 5e-324), ("calls_per_hour", 5e-324), ("handle_seconds", 5e-324),
                         ("patience_seconds", 1e308), ("handle_seconds", 4 * 3600 + 1)]:  # fmt: skip
        answer = await teamlead.post("/api/routing/staffing", json={**base, field: value})
        assert_problem(answer, 422, "validation-failed", f"body.{field}")
    worst = await teamlead.post(
        "/api/routing/staffing",
        json={"calls_per_hour": 100_000, "handle_seconds": 1, "patience_seconds": 3600,
              "target_seconds": 3600, "service_level": 0.999},
    )  # fmt: skip
    assert worst.status_code == 200, worst.text
    assert worst.json()["agents_needed"] >= 28
    supervisor = await users("supervisor")
    preview = await supervisor.post(
        "/api/notify/templates/preview", json={"topic": "no.such.topic", "channel": "sms", "body": "您好"}
    )
    assert_problem(preview, 422, "invalid-input", "body.topic")


async def test_json_that_python_reads_as_infinity_or_nan_is_refused(seeded: Context, users: Users) -> None:
    teamlead = await users("teamlead")
    for text in ("NaN", "Infinity", "-Infinity"):
        answer = await teamlead.post(
            "/api/routing/staffing",
            content=f'{{"calls_per_hour": 100, "handle_seconds": 180, "patience_seconds": {text}}}',
            headers={"content-type": "application/json"},
        )
        assert_problem(answer, 422, "validation-failed", "body.patience_seconds")
