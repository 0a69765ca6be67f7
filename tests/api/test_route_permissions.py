"""Every route declares who may call it (SPEC X5): a permission, signed-in, or public."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute

from hotline.api.app import create_app
from hotline.core.config import Settings
from hotline.core.permissions import Permission

# Public by design; anything else public must be added here, in review.
PUBLIC = {
    "/healthz", "/readyz", "/metrics", "/api/auth/login", "/{path:path}", "/api/notify/dlr/kannel",
    "/api/notify/mo/kannel", "/api/notify/wechat", "/api/notify/wecom",
    "/api/chat/start", "/api/chat/state", "/api/chat/messages", "/api/chat/typing", "/api/chat/read",
    "/api/chat/end", "/api/chat/availability", "/api/chat/leave-message", "/api/chat/files",
    "/api/chat/files/{file_id}", "/api/chat/verify/send", "/api/chat/verify", "/api/chat/identify",
    "/openapi.json", "/docs", "/api/quality/media/{token}", "/api/outbound/surveys/{token}",
    "/api/outbound/surveys/{token}/answers",
}  # fmt: skip


def access_of(dependant: Dependant) -> set[str]:
    found: set[str] = set()
    for dep in dependant.dependencies:
        marker = getattr(dep.call, "__access__", None)
        if marker:
            found.add(marker)
        found |= access_of(dep)
    return found


def walk(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, looking inside included routers (FastAPI keeps them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from walk(inner.routes)
        else:
            yield route


def declared(app: FastAPI) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for route in walk(app.routes):
        if isinstance(route, APIRoute | APIWebSocketRoute):
            methods = ",".join(sorted(getattr(route, "methods", None) or {"WS"}))
            routes[f"{methods} {route.path}"] = access_of(route.dependant)
    return routes


def test_every_route_declares_exactly_one_access_rule(settings: Settings) -> None:
    routes = declared(create_app(settings))
    assert len(routes) > 15
    missing = sorted(route for route, access in routes.items() if len(access) != 1)
    assert missing == [], f"routes without exactly one access declaration: {missing}"
    known = {p.value for p in Permission} | {"public", "signed-in"}
    assert all(access <= known for access in routes.values())
    public = sorted(route.split(" ", 1)[1] for route, access in routes.items() if access == {"public"})
    assert set(public) <= PUBLIC, f"unexpected public routes: {set(public) - PUBLIC}"


def test_admin_routes_need_their_permissions(settings: Settings) -> None:
    routes = declared(create_app(settings))
    assert routes["POST /api/users"] == {"users.write"}
    assert routes["GET /api/audit"] == {"audit.read"}
    assert routes["GET /api/auth/me"] == {"signed-in"}
