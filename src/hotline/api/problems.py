"""The one place where errors become RFC 9457 problem details.

Every error answer has `type`, `title`, `status`, `detail`, a stable `code`, the
`instance` path and the `request_id`; validation errors add `errors`, a list of
`{field, message, type, params}` naming each offending field (e.g. `body.username`); a domain
error adds its `reason` and `params`. `title`, `detail` and each `message` are in the language the
client asks for (Accept-Language; zh-CN by default, see core/i18n.py); the codes never change.
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
from hotline.core.i18n import has_chinese, pick_locale, reason_message, translate
from hotline.core.validation_messages import params_of, validation_message
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
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """`title` and `detail` in English; the title is translated here by `code`, a detail that is
    English where the client wants Chinese becomes the title (callers translate what they can)."""
    locale = locale_of(request)
    title = translate(f"errors.{code}", locale, default=title)
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail if locale == "en" or has_chinese(detail) else title,
        "code": code,
        "instance": request.url.path,
        "request_id": request.scope.get("state", {}).get("request_id"),
        "errors": errors or [],
    }
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def locale_of(request: Request) -> str:
    return pick_locale(request.headers.get("accept-language"))


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _hotline_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(HotlineError, exc)
    locale = locale_of(request)
    extra = dict(exc.extra)
    detail = _domain_words(exc.reason, exc.params, exc.detail, locale) or translate(
        f"errors.{exc.code}", locale, default=exc.title
    )
    # An error may name several fields (a form's broken rules, a flow's problems in several nodes).
    errors = []
    for error in extra.pop("errors", None) or ([exc.field_error()] if exc.field else []):
        params = error.get("params") or {}
        words = _domain_words(error.get("type"), params, str(error.get("message", "")), locale)
        errors.append({**error, "message": words or detail, "params": params})
    if exc.reason:
        extra = {**extra, "reason": exc.reason, "params": exc.params}
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    if exc.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="hotline"'}
    return problem_response(
        request,
        exc.status,
        exc.code,
        exc.title,
        detail,
        errors=errors,
        extra=extra,
        headers=headers,
    )


def _domain_words(reason: Any, params: dict[str, Any], english: str, locale: str) -> str | None:
    """A domain error's words in `locale`: by its reason; Chinese it was written in stays (a custom
    field's rule is written by the hotel); None when there is nothing to say in that language."""
    words = reason_message(str(reason) if reason else None, locale, params, english=english)
    return words if words is not None else (english if has_chinese(english) else None)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, exc)
    raw = exc.errors()
    if any((err.get("loc") or ("",))[0] == "path" for err in raw) and allowed_methods(request):
        # PATCH /api/customers/export: no customer "export", but the path names the export, which
        # other methods answer (a prompt's name, DELETE /api/telephony/prompts/welcome, likewise).
        return await _http_error(request, StarletteHTTPException(405))
    locale = locale_of(request)
    zh = locale == "zh-CN"
    if any(err.get("type") == "json_invalid" for err in raw):
        message = validation_message("json_invalid", {}, zh)
        return problem_response(
            request,
            400,
            "malformed-json",
            "Malformed JSON",
            message,
            errors=[{"field": "body", "message": message, "type": "json_invalid", "params": {}}],
        )
    errors: list[dict[str, Any]] = []
    for err in raw:
        kind = str(err.get("type", ""))
        params = params_of(dict(err))
        errors.append(
            {
                "field": _field_name(err.get("loc", ())),
                "message": validation_message(kind, params, zh),
                "type": kind,
                "params": params,
            }
        )
    fields = ", ".join(str(e["field"]) for e in errors)
    one = "-one" if len(errors) == 1 else ""
    return problem_response(
        request,
        422,
        "validation-failed",
        "Invalid request",
        translate(
            f"details.validation-failed{one}", locale, default=f"Invalid value for: {fields}", fields=fields
        ),
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
        translate("details.internal-error", locale_of(request), default="An unexpected error occurred"),
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
