"""The one place where errors become RFC 9457 problem details.

Every error answer has `type`, `title`, `status`, `detail`, a stable `code`, the
`instance` path and the `request_id`; validation errors add `errors`, a list of
`{field, message, type}` naming each offending field (e.g. `body.username`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, cast

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from hotline.core.errors import HotlineError
from hotline.core.i18n import translate
from hotline.core.web import COMPUTED, MEDIA_TYPE, SHARED_PATH, FieldError, Problem, problem_doc

log = structlog.get_logger(__name__)
PROBLEM_TYPE = "https://hotline.dev/problems/"

__all__ = ["COMPUTED", "MEDIA_TYPE", "SHARED_PATH", "FieldError", "Problem"]


def _status_title(status: int) -> tuple[str, str]:
    return {
        400: ("bad-request", "Bad request"),
        401: ("not-authenticated", "Authentication required"),
        403: ("permission-denied", "You do not have permission to do this"),
        404: ("not-found", "Not found"),
        405: ("method-not-allowed", "Method not allowed"),
        406: ("not-acceptable", "Not acceptable"),
        413: ("payload-too-large", "Request body too large"),
        415: ("unsupported-media-type", "Unsupported media type"),
        429: ("rate-limited", "Too many requests"),
    }.get(status, ("http-error", "HTTP error"))


def problem_response(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    locale = request.headers.get("accept-language", "")
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": translate(f"errors.{code}", locale, default=title),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": request.scope.get("state", {}).get("request_id"),
        "errors": errors or [],
    }
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _hotline_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(HotlineError, exc)
    extra = dict(exc.extra)
    errors = extra.pop("errors", None) or (
        [{"field": exc.field, "message": exc.detail, "type": exc.code}] if exc.field else []
    )  # an error may name several fields (a flow with problems in several nodes)
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    if exc.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="hotline"'}
    return problem_response(
        request,
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        errors=errors,
        extra=extra,
        headers=headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, exc)
    raw = exc.errors()
    if any((err.get("loc") or ("",))[0] == "path" for err in raw) and allowed_methods(request):
        # PATCH /api/customers/export: no customer "export", but the path names the export, which
        # other methods answer (a prompt's name, DELETE /api/telephony/prompts/welcome, likewise).
        return await _http_error(request, StarletteHTTPException(405))
    if any(err.get("type") == "json_invalid" for err in raw):
        return problem_response(
            request,
            400,
            "malformed-json",
            "Malformed JSON",
            "The request body is not valid JSON",
            errors=[{"field": "body", "message": "not valid JSON", "type": "json_invalid"}],
        )
    errors = [
        {
            "field": _field_name(err.get("loc", ())),
            "message": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in raw
    ]
    fields = ", ".join(e["field"] for e in errors)
    return problem_response(
        request,
        422,
        "validation-failed",
        "Invalid request",
        f"Invalid value for: {fields}",
        errors=errors,
    )


def _leaf_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI keeps included routers nested
        yield from _leaf_routes(inner.routes) if inner is not None else (route,)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path (the web UI's catch-all aside).

    A 405 must list them all in `Allow` (RFC 9110), where the router names only those of the first
    route that matched. A route counts when its path parameters are valid too: /api/customers/export
    is the export (GET), not customer "export" (PATCH, DELETE).
    """
    return sorted({method for route in _routes_at(request) for method in getattr(route, "methods", ())})


def _routes_at(request: Request) -> Iterator[BaseRoute]:
    for route in _leaf_routes(request.app.router.routes):
        if not getattr(route, "methods", None) or getattr(route, "name", "") == "web_ui":
            continue
        match, child = route.matches(request.scope)
        if match is not Match.NONE and _valid_path(route, child.get("path_params", {})):
            yield route


def _valid_path(route: BaseRoute, params: dict[str, Any]) -> bool:
    dependant = getattr(route, "dependant", None)
    fields = dependant.path_params if dependant is not None else []
    return not any(field.validate(params.get(field.name), loc=("path",))[1] for field in fields)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, exc)
    code, title = _status_title(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return problem_response(request, exc.status_code, code, title, detail, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path)
    return problem_response(
        request,
        500,
        "internal-error",
        "Internal error",
        "An unexpected error occurred; it has been logged",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(HotlineError, _hotline_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_doc("Malformed request"),
    401: problem_doc("Not signed in, or the session expired"),
    403: problem_doc("Signed in, but not allowed"),
    404: problem_doc("Not found"),
    409: problem_doc("Conflicts with the current state"),
    413: problem_doc("Request body too large"),
    422: problem_doc("Invalid input; `errors` names each field"),
    429: problem_doc("Too many attempts; see `retry_after`"),
}
