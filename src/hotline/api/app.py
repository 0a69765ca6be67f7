"""The app factory: one FastAPI app per process, wired to the database, bus and scheduler."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from hotline import __version__, domains
from hotline.admin import audit
from hotline.admin.auth import Authenticator
from hotline.admin.events import SessionRevoked, UserChanged
from hotline.api import live, phone, problems
from hotline.api.deps import AppState, public_as
from hotline.api.middleware import RequestContextMiddleware
from hotline.api.router_link import RouterForward, RouterLink
from hotline.api.voice_plane import start_voice, stop_voice, system_context
from hotline.core.compute import ComputePool
from hotline.core.config import Settings, get_settings
from hotline.core.context import Context
from hotline.core.db import Database
from hotline.core.events import create_bus
from hotline.core.jobs import JobScheduler, schedule_cron
from hotline.core.logging import configure_logging
from hotline.core.ratelimit import RouteKind, create_limiter
from hotline.exports.runner import ExportRunner
from hotline.notify import chat_files, chat_media
from hotline.notify.chat_files_api import UPLOAD_PATHS as CHAT_UPLOAD_PATHS
from hotline.notify.events import ChatWindowMoved, ConversationChanged
from hotline.notify.outbox import Sender
from hotline.notify.rules import handlers as notify_handlers

OPEN = public_as(RouteKind.OPEN)
"""The web UI's files and the API's documents: public and not rate-limited."""

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Hotline</title>
<p>The web UI has not been built. Run <code>make run</code> (or <code>npm run build</code> in
<code>frontend/</code>). The API is at <a href="/docs">/docs</a>.</p>"""


async def ensure_builtin_jobs(ctx: Context) -> None:
    async with ctx.db.write() as session:
        for job in domains.builtin_jobs():
            await schedule_cron(
                session,
                job.key,
                job.handler,
                job.cron_for(ctx.settings),
                timezone=ctx.settings.default_timezone,
            )


def _serve_web_ui(app: FastAPI, dist: Path) -> None:
    """The built Vue app: hashed assets under /assets, index.html for every client-side route.

    Unknown paths under /api stay 404 problems (405 when the path exists for other methods);
    any other unknown path is a client-side route.
    """
    index = dist / "index.html"
    built = index.is_file()
    top_level = {p.name: p for p in dist.iterdir() if p.is_file()} if built else {}
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False, response_model=None)
    async def web_ui(path: str, request: Request, ctx: Annotated[Context, Depends(OPEN)]) -> Response:
        if path == "api" or path.startswith("api/"):
            if problems.allowed_methods(request):
                raise StarletteHTTPException(405)
            raise StarletteHTTPException(404, f"No API route /{path}")
        if not built:
            return HTMLResponse(_NOT_BUILT)
        if path in top_level:
            return FileResponse(top_level[path])
        return FileResponse(index, headers={"Cache-Control": "no-cache"})


def compile_routes(app: FastAPI) -> None:
    """FastAPI builds each route's dependencies and validators on the first request that looks at
    it: half a second of CPU. Asking every route whether it matches a path none has does it now
    (in a thread at start-up: FastAPI guards the build with a lock for that)."""
    scope = {"type": "http", "method": "GET", "path": "/-/compile", "root_path": "", "headers": [],
             "query_string": b""}  # fmt: skip
    for route in app.routes:
        route.matches(scope)


def _serve_api_docs(app: FastAPI) -> None:
    building = asyncio.Lock()
    served: list[bytes] = []

    def build() -> bytes:
        return bytes(JSONResponse(app.openapi()).body)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(ctx: Annotated[Context, Depends(OPEN)]) -> Response:
        # Built and encoded once per node, in a thread: over a second of CPU, and a third of a
        # second more to encode the document, that would otherwise hold the loop. It depends on
        # no input, so unlike the compute pool's work it needs no time limit.
        async with building:
            if not served:
                served.append(await asyncio.to_thread(build))
        return Response(served[0], media_type="application/json")

    @app.get("/docs", include_in_schema=False)
    async def docs(ctx: Annotated[Context, Depends(OPEN)]) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - Swagger UI")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    if settings.is_sqlite:
        # aiosqlite hands every query to a worker thread and back; with the default 5 ms GIL
        # switch interval each hand-off can wait that long. 0.5 ms keeps reads quick.
        sys.setswitchinterval(0.0005)
    domains.load_models()
    domains.load_job_handlers()
    db = Database(settings.database_url)
    bus = create_bus(settings.redis_url)
    compute = ComputePool.from_settings(settings)
    limiter = create_limiter(settings.redis_url)
    state = AppState(settings, db, bus, Authenticator(settings, db, bus), compute, limiter)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.hub.attach(bus)
        bus.subscribe(ConversationChanged, state.chat_waits.changed)  # type: ignore[arg-type]
        bus.subscribe(ChatWindowMoved, state.chat_waits.changed)  # type: ignore[arg-type]
        await bus.start()
        await state.monitor.start()
        await compute.start(warm=settings.compute_warm)
        if "jobs" in settings.roles:
            ctx = system_context(state, "system:jobs")
            await ensure_builtin_jobs(ctx)
            # A node that was down longer than the interval checkpoints at once, so a restart
            # leaves no gap; the interval job takes over from there.
            await audit.checkpoint_safely(ctx, "startup", only_if_stale=True)
            state.scheduler = JobScheduler(
                ctx,
                node_id=settings.node_id,
                poll_seconds=settings.jobs_poll_seconds,
                lease_seconds=settings.jobs_lease_seconds,
            )
            await state.scheduler.start()
            state.sender = Sender(
                system_context(state, "system:notify"), node_id=settings.node_id,
                handlers=notify_handlers(),
            )  # fmt: skip
            await state.sender.start()
        await asyncio.to_thread(compile_routes, app)
        # Everything loaded so far lives for the whole process: keep it out of the cyclic
        # collector's generations so collections stay short (fewer latency spikes). Both this
        # and the compilation above come before the voice plane takes calls.
        gc.collect()
        gc.freeze()
        # Full collections (every unfrozen object, ~20 ms under API load) ten times rarer, young
        # ones a little larger (up to ~7 ms): benchmarks/README.md, "Heavy requests" has figures.
        gc.set_threshold(2_000, 10, 100)
        if "voice" in settings.roles:
            await start_voice(state)
        state.wallboard = live.WallboardFeed(state, system_context(state, "system:wallboard"))
        state.wallboard.start()
        state.desks = live.Desks(bus, grace=settings.desk_grace_seconds)
        state.phones = phone.PhoneSockets(state.auth)
        bus.subscribe(SessionRevoked, state.phones.session_revoked)
        bus.subscribe(UserChanged, state.phones.user_changed)
        state.exports = ExportRunner(settings.exports_parallel)
        try:
            yield
        finally:
            await state.exports.stop()
            await state.wecom.stop()
            await chat_media.close_clients()
            await state.wallboard.stop()
            if state.sender is not None:
                await state.sender.stop()
            if state.scheduler is not None:
                await state.scheduler.stop()
            await state.auth.close()
            await stop_voice(state)
            if state.router_link is not None:
                await state.router_link.close()
            if "jobs" in settings.roles:
                # Last, once nothing else writes: what the node wrote is vouched for, and the quiet
                # time until the next start-up is not a gap.
                await audit.checkpoint_safely(system_context(state, "system:jobs"), "shutdown")
            await compute.stop()
            await state.monitor.stop()
            await limiter.close()
            await bus.stop()
            await db.dispose()

    app = FastAPI(
        title="Hotline",
        version=__version__,
        summary="Contact-center platform for hotel chains and travel agencies",
        lifespan=lifespan,
        docs_url=None,  # both served below, the document built off the event loop
        redoc_url=None,
        openapi_url=None,
        responses=problems.PROBLEM_RESPONSES,
    )
    app.state.hotline = state
    problems.install(app)
    for router in domains.routers():
        app.include_router(router)
    app.include_router(live.router)
    app.include_router(phone.router)
    _serve_api_docs(app)
    if settings.cluster:
        # Inside the body limits: what only the router can do goes to the router's node.
        state.router_link = RouterLink(settings)
        app.add_middleware(RouterForward, link=state.router_link)
    uploads = chat_files.upload_limit(settings) + 64 * 1024  # room for the multipart around the file
    app.add_middleware(
        RequestContextMiddleware, max_body_bytes=settings.max_body_bytes,
        large_bodies=tuple((path, uploads) for path in CHAT_UPLOAD_PATHS),
    )  # fmt: skip
    if settings.cors_origins:
        # Outside the request context, so preflights are answered before anything else and the
        # errors (a 429 too) carry the headers a widget's page needs to read them.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Accept-Language", "X-Request-Id"],
            expose_headers=["Retry-After", "X-Request-Id"],
            max_age=600,
        )
    if settings.trusted_proxies:
        # Outermost: the rate limits, the audit trail and the access log all see the client that a
        # trusted proxy names; the server runs without its own (cli `serve`), so this is the one place.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    _serve_web_ui(app, settings.frontend_dist)

    return app
