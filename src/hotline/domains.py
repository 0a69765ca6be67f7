"""The domains that make up Hotline: their routers, models and built-in jobs.

Adding a domain means adding it here; the app factory, Alembic and the demo
data read this list and nothing else.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from fastapi import APIRouter


@dataclass(frozen=True)
class BuiltinJob:
    key: str
    handler: str
    cron: str


@dataclass(frozen=True)
class Domain:
    name: str
    models: tuple[str, ...]
    api: str | None = None
    jobs_module: str | None = None
    builtin_jobs: tuple[BuiltinJob, ...] = field(default_factory=tuple)


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "core",
        models=("hotline.core.audit", "hotline.core.jobs", "hotline.core.durable"),
        api="hotline.api.system",
    ),
    Domain(
        "admin",
        models=("hotline.admin.models",),
        api="hotline.admin.api",
        jobs_module="hotline.admin.jobs",
        builtin_jobs=(BuiltinJob("admin.purge_sessions", "admin.purge_sessions", "17 * * * *"),),
    ),
    Domain("telephony", models=("hotline.telephony.models",), api="hotline.telephony.api"),
    Domain("routing", models=("hotline.routing.models",), api="hotline.routing.api"),
    Domain(
        "crm",
        models=("hotline.crm.models",),
        api="hotline.crm.api",
        jobs_module="hotline.crm.jobs",
        builtin_jobs=(BuiltinJob("crm.expire_points", "crm.expire_points", "10 3 * * *"),),
    ),
    Domain("knowledge", models=("hotline.knowledge.models",), api="hotline.knowledge.api"),
    Domain(
        "notify",
        models=("hotline.notify.models",),
        api="hotline.notify.api",
        jobs_module="hotline.notify.jobs",
        builtin_jobs=(
            BuiltinJob("notify.schedules", "notify.schedules", "*/5 * * * *"),
            BuiltinJob("notify.purge_events", "notify.purge_events", "40 3 * * *"),
        ),
    ),
    Domain(
        "hotels",
        models=("hotline.hotels.models",),
        api="hotline.hotels.api",
        jobs_module="hotline.hotels.jobs",
        builtin_jobs=(
            BuiltinJob("hotels.no_show_sweep", "hotels.no_show_sweep", "*/15 * * * *"),
            BuiltinJob("hotels.release_groups", "hotels.release_groups", "10 0 * * *"),
        ),
    ),
    Domain(
        "travel",
        models=("hotline.travel.models",),
        api="hotline.travel.api",
        jobs_module="hotline.travel.jobs",
        builtin_jobs=(BuiltinJob("travel.return_visits", "travel.return_visits", "20 * * * *"),),
    ),
)


def load_models() -> None:
    for domain in DOMAINS:
        for module in domain.models:
            importlib.import_module(module)


def load_job_handlers() -> None:
    for domain in DOMAINS:
        if domain.jobs_module:
            importlib.import_module(domain.jobs_module)


def routers() -> list[APIRouter]:
    return [importlib.import_module(domain.api).router for domain in DOMAINS if domain.api is not None]


def builtin_jobs() -> list[BuiltinJob]:
    return [job for domain in DOMAINS for job in domain.builtin_jobs]
