"""Access declarations for routes.

Every route takes its `Context` from exactly one of `requires(permission)`,
`signed_in` or `public`; each carries an `__access__` marker, and
tests/api/test_route_permissions.py fails for any route without one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from hotline.admin.service import Authenticator
from hotline.core.compute import ComputePool
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.errors import NotAuthenticated
from hotline.core.events import EventBus
from hotline.core.jobs import JobScheduler
from hotline.core.live import Hub
from hotline.core.monitor import LoopLagMonitor
from hotline.core.permissions import Permission
from hotline.core.schemas import MAX_ID
from hotline.notify.outbox import Sender
from hotline.routing.app import CallRouter
from hotline.voice.sip.server import SipServer

SESSION_COOKIE = "hotline_session"
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Row id")]

_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Web UI session")
_bearer = HTTPBearer(auto_error=False, description="API token (`hl_…`) for integrations")


@dataclass
class AppState:
    settings: Settings
    db: Database
    bus: EventBus
    auth: Authenticator
    compute: ComputePool
    monitor: LoopLagMonitor = field(default_factory=LoopLagMonitor)
    scheduler: JobScheduler | None = None
    sender: Sender | None = None
    hub: Hub = field(default_factory=Hub)
    wallboard: Any = None
    """The wallboard feed (api/live.py) on API nodes."""
    desks: Any = None
    """Which agents have their desktop open on this node (api/live.py)."""
    sip: SipServer | None = None
    router: CallRouter | None = None


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.hotline
    return state


def _anonymous_context(request: Request) -> Context:
    state = app_state(request)
    return Context(
        state.settings,
        state.db,
        state.bus,
        Actor(None, "anonymous", via="anonymous"),
        ip=request.client.host if request.client else None,
        request_id=request.scope.get("state", {}).get("request_id"),
        pool=state.compute,
    )


async def _authenticated_context(
    request: Request,
    cookie: Annotated[str | None, Depends(_cookie)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Context:
    state = app_state(request)
    if bearer is not None:
        actor = await state.auth.token_actor(bearer.credentials)
    elif cookie:
        actor = await state.auth.session_actor(cookie)
    else:
        raise NotAuthenticated()
    return _anonymous_context(request).as_actor(actor)


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


async def public(request: Request) -> Context:
    """No sign-in needed (login, health checks). Use sparingly: each one is reviewed."""
    return _anonymous_context(request)


signed_in.__access__ = "signed-in"  # type: ignore[attr-defined]
public.__access__ = "public"  # type: ignore[attr-defined]
