"""What every `hotline` command shares: failing with a message, running a coroutine against
the database, a context for the services."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import typer

from hotline.core.config import get_settings
from hotline.core.errors import HotlineError

T = TypeVar("T")


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine; domain errors become a clear message and exit status 1."""
    try:
        return asyncio.run(make())
    except HotlineError as exc:
        fail(f"{exc.detail}" + (f" ({exc.field})" if exc.field else ""))
        raise  # unreachable: fail() exits
    except OSError as exc:
        fail(f"cannot reach the database: {exc}")
        raise


async def with_context(work: Callable[[Any], Awaitable[T]], actor_name: str = "cli") -> T:
    from hotline import domains
    from hotline.core.compute import ComputePool
    from hotline.core.context import Actor, Context
    from hotline.core.db import Database
    from hotline.core.events import InProcessBus

    settings = get_settings()
    domains.load_models()
    db = Database(settings.database_url)
    bus = InProcessBus()
    pool = ComputePool.from_settings(settings)
    await pool.start()
    try:
        return await work(Context(settings, db, bus, Actor.system(actor_name), pool=pool))
    finally:
        await pool.stop()
        await bus.stop()
        await db.dispose()
