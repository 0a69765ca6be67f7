"""What a domain's routes need from the web layer, below the domains: the access declarations.

Every route takes its `Context` from exactly one of `requires(permission)`, `signed_in` or
`public` (or `public_as(kind)`); each carries an `__access__` marker, and
tests/api/test_route_permissions.py fails for any route without one. A public route is rate-limited
per client address by its kind (core/ratelimit.py). `IdPath` bounds the ids in paths.

The app (hotline.api) puts its state on `request.app.state.hotline`; this module reads it only
through the `WebState` protocol (settings, database, bus, rate limiter and the authenticator), so the domains'
routes depend on core alone and the app's wiring stays above them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.errors import NotAuthenticated
from hotline.core.events import EventBus
from hotline.core.i18n import asked_locale
from hotline.core.permissions import Permission
from hotline.core.ratelimit import Limiter, RouteKind, client_key, refuse
from hotline.core.schemas import MAX_ID

if TYPE_CHECKING:
    from hotline.core.compute import ComputePool

SESSION_COOKIE = "hotline_session"
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Row id")]

_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Web UI session")
_bearer = HTTPBearer(auto_error=False, description="API token (`hl_…`) for integrations")

MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One wrong field: `message` in the client's language (Accept-Language), `type` a stable code
    (pydantic's error type, e.g. `string_too_short`, or a domain reason such as `arrival-in-past`),
    `params` the values the message names (`min_length`, `pattern_name`, `values`…)."""

    field: str
    message: str
    type: str
    params: dict[str, Any] = Field(default_factory=dict)


class Problem(BaseModel):
    """An error answer (RFC 9457 problem details); `errors` names each field at fault."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] = Field(default_factory=list)
    retry_after: int | None = None
    reason: str | None = Field(
        default=None, description="Which rule a domain error broke, e.g. `arrival-in-past`"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="The values `detail` names")


def problem_doc(description: str) -> dict[str, Any]:
    """An OpenAPI response entry whose body is a Problem."""
    return {"description": description, "model": Problem, "content": {MEDIA_TYPE: {}}}


COMPUTED: dict[int | str, dict[str, Any]] = {
    503: problem_doc(
        "The computation ran past its time or memory limit (`computation-too-long`, `computation-too-big`), "
        "or too many wait for a worker (`compute-busy`, see `retry_after`)"
    ),
}
"""For routes whose work runs in the compute pool (core/compute.py)."""
SHARED_PATH: dict[int | str, dict[str, Any]] = {
    405: problem_doc("The path names a resource of another route, which `Allow` lists the methods of")
}
"""For routes whose paths overlap another's (a prompt by id, a prompt by name)."""


class Authenticates(Protocol):
    """Turns a session cookie or an API token into the actor (admin's Authenticator)."""

    async def session_actor(self, secret: str, /) -> Actor: ...
    async def token_actor(self, token: str, /) -> Actor: ...


class WebState(Protocol):
    """The part of the app's state a route's context is made from."""

    settings: Settings
    db: Database
    bus: EventBus
    compute: ComputePool | None
    limiter: Limiter

    @property
    def auth(self) -> Authenticates: ...


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.hotline
    return state


def anonymous_context(request: Request) -> Context:
    state = web_state(request)
    return Context(
        state.settings,
        state.db,
        state.bus,
        Actor(None, "anonymous", via="anonymous"),
        ip=request.client.host if request.client else None,
        request_id=request.scope.get("state", {}).get("request_id"),
        pool=state.compute,
        asked_locale=asked_locale(request.headers.get("accept-language")),
    )


async def _authenticated_context(
    request: Request,
    cookie: Annotated[str | None, Depends(_cookie)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Context:
    state = web_state(request)
    if bearer is not None:
        actor = await state.auth.token_actor(bearer.credentials)
    elif cookie:
        actor = await state.auth.session_actor(cookie)
    else:
        raise NotAuthenticated()
    return anonymous_context(request).as_actor(actor)


ContextDependency = Callable[..., Awaitable[Context]]


@cache
def requires(permission: Permission) -> ContextDependency:
    async def dependency(ctx: Annotated[Context, Depends(_authenticated_context)]) -> Context:
        ctx.require(permission)
        return ctx

    dependency.__access__ = permission.value  # type: ignore[attr-defined]
    return dependency


async def signed_in(ctx: Annotated[Context, Depends(_authenticated_context)]) -> Context:
    """Any signed-in user (their own profile, password, tokens)."""
    return ctx


async def _within_limit(request: Request, kind: RouteKind) -> None:
    """Counts the request against its address's limit for `kind`; over it, 429 and nothing done."""
    state = web_state(request)
    per_minute = kind.per_minute(state.settings)
    if per_minute:
        wait = await state.limiter.hit(
            client_key(kind, request.client.host if request.client else None), per_minute
        )
        if wait:
            raise refuse(per_minute, wait)


@cache
def public_as(kind: RouteKind) -> ContextDependency:
    """No sign-in needed, limited per client address as `kind` routes are (login, signed links,
    gateways' callbacks; open: health probes and the web UI's files, not limited)."""

    async def dependency(request: Request) -> Context:
        await _within_limit(request, kind)
        return anonymous_context(request)

    dependency.__access__ = "public"  # type: ignore[attr-defined]
    return dependency


async def public(request: Request) -> Context:
    """No sign-in needed; limited per client address as a gateway's callbacks are
    (`HOTLINE_RATE_LIMIT_CALLBACKS`), unless `public_as` gives the route another kind. Use
    sparingly: each one is reviewed."""
    await _within_limit(request, RouteKind.CALLBACK)
    return anonymous_context(request)


signed_in.__access__ = "signed-in"  # type: ignore[attr-defined]
public.__access__ = "public"  # type: ignore[attr-defined]
