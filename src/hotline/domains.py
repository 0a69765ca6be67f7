"""The domains that make up Hotline: their routers, models and built-in jobs.

Adding a domain means adding it here; the app factory, Alembic and the demo
data read this list and nothing else.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from hotline.core.config import Settings


@dataclass(frozen=True)
class BuiltinJob:
    key: str
    handler: str
    cron: str | Callable[[Settings], str]
    """A cron expression, or how to make one from the settings (an interval that is configurable)."""

    def cron_for(self, settings: Settings) -> str:
        return self.cron if isinstance(self.cron, str) else self.cron(settings)


@dataclass(frozen=True)
class Domain:
    name: str
    models: tuple[str, ...]
    api: str | None = None
    jobs_module: str | None = None
    builtin_jobs: tuple[BuiltinJob, ...] = field(default_factory=tuple)
    lookups: tuple[tuple[str, str], ...] = ()
    """IVR lookups the domain offers: (name flows use, "module:function(ctx, variables)")."""
    revealable: tuple[str, ...] = ()
    """Records with personal data that may be revealed: "module:ATTRIBUTE", each a
    `core.privacy.Revealable`."""
    reactions: tuple[str, ...] = ()
    """Modules whose `core.reactions.reacts_to` handlers react to events after commit."""
    exports: tuple[str, ...] = ()
    """Modules whose `exports.subjects.subject` functions say what the domain's lists export."""
    report_subjects: tuple[str, ...] = ()
    """Modules that register the domain's custom-report subjects (`core.report_catalogue.register`)."""


def _audit_checkpoint_cron(settings: Settings) -> str:
    return f"*/{settings.audit_checkpoint_minutes} * * * *"


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "core",
        models=("hotline.core.audit", "hotline.core.jobs", "hotline.core.durable"),
        api="hotline.api.system",
    ),
    Domain("privacy", models=(), api="hotline.api.privacy"),
    Domain(
        "admin",
        models=("hotline.admin.models",),
        api="hotline.admin.api",
        jobs_module="hotline.admin.jobs",
        builtin_jobs=(
            BuiltinJob("admin.purge_sessions", "admin.purge_sessions", "17 * * * *"),
            BuiltinJob("admin.audit_checkpoint", "admin.audit_checkpoint", _audit_checkpoint_cron),
            BuiltinJob("admin.audit_verify", "admin.audit_verify", "40 4 * * *"),
        ),
    ),
    Domain("telephony", models=("hotline.telephony.models",), api="hotline.telephony.api"),
    Domain(
        "contact",
        models=("hotline.contact.models",),
        api="hotline.contact.api",
        revealable=("hotline.contact.callbacks:REVEALABLE",),
    ),
    Domain(
        "contact_stats",
        models=("hotline.contact.stats.models",),
        api="hotline.contact.stats.api",
        exports=("hotline.contact.stats.exports",),
        jobs_module="hotline.contact.stats.jobs",
        builtin_jobs=(BuiltinJob("contact.stats_rollup", "contact.stats_rollup", "* * * * *"),),
        report_subjects=("hotline.contact.stats.report_subjects",),
    ),
    Domain(
        "crm",
        models=("hotline.crm.models",),
        api="hotline.crm.api",
        revealable=("hotline.crm.service:REVEALABLE", "hotline.crm.service:PHONE_REVEALABLE"),
        exports=("hotline.crm.exports",),
        lookups=(("crm.member", "hotline.crm.verification:member_for_ivr"),),
        jobs_module="hotline.crm.jobs",
        builtin_jobs=(BuiltinJob("crm.expire_points", "crm.expire_points", "10 3 * * *"),),
    ),
    Domain("knowledge", models=("hotline.knowledge.models",), api="hotline.knowledge.api"),
    Domain(
        "notify",
        models=("hotline.notify.models",),
        api="hotline.notify.api",
        reactions=("hotline.notify.audit_mail", "hotline.notify.reactions"),
        report_subjects=("hotline.notify.report_subjects",),
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
        revealable=("hotline.hotels.queries:REVEALABLE", "hotline.hotels.groups:REVEALABLE"),
        lookups=(
            ("orders.latest_for_member", "hotline.hotels.queries:latest_for_ivr"),
            ("hotels.latest_reservation", "hotline.hotels.queries:latest_for_ivr"),
            ("orders.verify_caller", "hotline.hotels.queries:verify_for_ivr"),
        ),
        reactions=("hotline.hotels.reactions",),
        report_subjects=("hotline.hotels.report_subjects",),
        jobs_module="hotline.hotels.jobs",
        builtin_jobs=(
            BuiltinJob("hotels.no_show_sweep", "hotels.no_show_sweep", "*/15 * * * *"),
            BuiltinJob("hotels.release_groups", "hotels.release_groups", "10 0 * * *"),
        ),
    ),
    Domain(
        "tickets",
        models=("hotline.tickets.models",),
        api="hotline.tickets.api",
        revealable=("hotline.tickets.queries:REVEALABLE",),
        exports=("hotline.tickets.exports",),
        reactions=("hotline.tickets.reactions",),
        report_subjects=("hotline.tickets.report_subjects",),
        jobs_module="hotline.tickets.jobs",
        builtin_jobs=(
            BuiltinJob("tickets.sla_sweep", "tickets.sla_sweep", "*/5 * * * *"),
            BuiltinJob("tickets.voicemail", "tickets.voicemail", "* * * * *"),
            BuiltinJob("tickets.mailbox", "tickets.mailbox", "*/5 * * * *"),
        ),
    ),
    Domain(
        "travel",
        models=("hotline.travel.models",),
        api="hotline.travel.api",
        revealable=("hotline.travel.queries:REVEALABLE",),
        lookups=(
            ("travel.latest_order", "hotline.travel.lookups:latest_for_ivr"),
            ("travel.verify_caller", "hotline.travel.lookups:verify_for_ivr"),
            ("travel.route", "hotline.travel.lookups:route_for_ivr"),
        ),
        reactions=("hotline.travel.reactions",),
        report_subjects=("hotline.travel.report_subjects",),
        jobs_module="hotline.travel.jobs",
        builtin_jobs=(BuiltinJob("travel.return_visits", "travel.return_visits", "20 * * * *"),),
    ),
    Domain(
        "quality",
        models=(
            "hotline.quality.recordings.models",
            "hotline.quality.reviews.models",
            "hotline.quality.speech.models",
        ),
        api="hotline.quality.api",
        revealable=("hotline.quality.recordings.service:REVEALABLE",),
        reactions=("hotline.quality.reactions",),
        jobs_module="hotline.quality.jobs",
        builtin_jobs=(
            BuiltinJob("quality.index_recordings", "quality.index_recordings", "* * * * *"),
            BuiltinJob("quality.retention", "quality.retention", "30 3 * * *"),
            BuiltinJob("quality.sample_week", "quality.sample_week", "30 2 * * 1"),
            BuiltinJob("quality.close_overdue", "quality.close_overdue", "25 * * * *"),
        ),
    ),
    Domain(
        "outbound",
        models=("hotline.outbound.models",),
        api="hotline.outbound.api",
        revealable=("hotline.outbound.lists:REVEALABLE",),
        report_subjects=("hotline.outbound.report_subjects",),
        jobs_module="hotline.outbound.jobs",
        builtin_jobs=(
            BuiltinJob("outbound.settle_attempts", "outbound.settle_attempts", "* * * * *"),
            BuiltinJob("outbound.feeds", "outbound.feeds", "0 8 * * *"),
            BuiltinJob("outbound.surveys", "outbound.surveys", "* * * * *"),
        ),
    ),
    Domain(
        "reports",
        models=("hotline.reports.models", "hotline.reports.custom.models"),
        api="hotline.reports.api",
        exports=("hotline.reports.exports",),
        jobs_module="hotline.reports.custom.jobs",
        builtin_jobs=(BuiltinJob("reports.custom_due", "reports.custom_due", "*/5 * * * *"),),
    ),
    Domain("home", models=(), api="hotline.home.api"),
    Domain(
        "exports",
        models=("hotline.exports.models",),
        api="hotline.exports.api",
        jobs_module="hotline.exports.jobs",
        builtin_jobs=(BuiltinJob("exports.purge", "exports.purge", "*/10 * * * *"),),
    ),
)


def ivr_lookups() -> dict[str, Any]:
    """Every domain's IVR lookups by name: `async (ctx, variables) -> value | None`."""
    found: dict[str, Any] = {}
    for domain in DOMAINS:
        for name, target in domain.lookups:
            module, function = target.split(":")
            found[name] = getattr(importlib.import_module(module), function)
    return found


def revealables() -> dict[str, Any]:
    """Every domain's revealable records by entity name (`core.privacy.Revealable`)."""
    found: dict[str, Any] = {}
    for domain in DOMAINS:
        for target in domain.revealable:
            module, attribute = target.split(":")
            spec = getattr(importlib.import_module(module), attribute)
            found[spec.entity] = spec
    return found


def load_models() -> None:
    """Every domain's models, and the reactions that follow their changes (a service run without
    its domain's reactions would leave their side effects undone)."""
    for domain in DOMAINS:
        for module in domain.models:
            importlib.import_module(module)
    load_reactions()
    load_report_subjects()


def load_reactions() -> None:
    for domain in DOMAINS:
        for module in domain.reactions:
            importlib.import_module(module)


def load_job_handlers() -> None:
    for domain in DOMAINS:
        if domain.jobs_module:
            importlib.import_module(domain.jobs_module)


def load_report_subjects() -> None:
    for domain in DOMAINS:
        for module in domain.report_subjects:
            importlib.import_module(module)


def export_modules() -> list[str]:
    return [module for domain in DOMAINS for module in domain.exports]


def routers() -> list[APIRouter]:
    """Each domain's API module's `router`, or its `routers` where it has several (one per part:
    FastAPI keeps a router included in another nested, which every route walk would then miss)."""
    found: list[APIRouter] = []
    for domain in DOMAINS:
        if domain.api is not None:
            module = importlib.import_module(domain.api)
            found += getattr(module, "routers", None) or [module.router]
    return found


def builtin_jobs() -> list[BuiltinJob]:
    return [job for domain in DOMAINS for job in domain.builtin_jobs]
