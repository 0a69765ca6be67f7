"""The wallboard's colours per queue: green, amber or red for callers waiting, the longest wait and
today's service level, against marks a supervisor sets per queue (docs/wallboard.md)."""

from __future__ import annotations

from sqlalchemy import select

from hotline.contact.models import QueueDef
from hotline.contact.schemas import Level, QueueFigures, QueueThresholds, QueueThresholdsOut
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission

DEFAULTS = QueueThresholds()
ORDER: dict[Level, int] = {"green": 0, "amber": 1, "red": 2}


def of(name: str, stored: dict[str, int] | None) -> QueueThresholdsOut:
    """A queue's marks: what was stored over the defaults (a key stored before a newer default
    was added keeps the default)."""
    return QueueThresholdsOut(queue=name, **(DEFAULTS.model_dump() | (stored or {})))


def levels(
    marks: QueueThresholds, waiting: int, longest_wait: float, today: QueueFigures | None
) -> dict[str, Level]:
    """Each figure's colour. A queue with no calls yet today has no service level: green."""

    def rising(value: float, amber: float, red: float) -> Level:
        return "red" if value >= red else "amber" if value >= amber else "green"

    service = today.service_level if today is not None else None
    if service is None:
        service_level: Level = "green"
    else:
        percent = service * 100
        service_level = (
            "red" if percent <= marks.service_red_percent
            else "amber" if percent <= marks.service_amber_percent else "green"
        )  # fmt: skip
    return {
        "waiting": rising(waiting, marks.waiting_amber, marks.waiting_red),
        "longest_wait": rising(longest_wait, marks.wait_amber_seconds, marks.wait_red_seconds),
        "service_level": service_level,
    }


def worst(colours: dict[str, Level]) -> Level:
    return max(colours.values(), key=ORDER.__getitem__, default="green")


def check(data: QueueThresholds) -> None:
    """Red must be further than amber: more callers, a longer wait, a lower service level."""
    if data.waiting_red < data.waiting_amber:
        raise InvalidInput(
            "Red must be at least amber (callers waiting)", field="body.waiting_red", reason="red-below-amber"
        )
    if data.wait_red_seconds < data.wait_amber_seconds:
        raise InvalidInput(
            "Red must be at least amber (longest wait)",
            field="body.wait_red_seconds",
            reason="red-below-amber",
        )
    if data.service_red_percent > data.service_amber_percent:
        raise InvalidInput(
            "Red must be at most amber (service level)",
            field="body.service_red_percent",
            reason="red-above-amber-service-level",
        )


async def get(ctx: Context, name: str) -> QueueThresholdsOut:
    ctx.require(Permission.ROUTING_READ)
    async with ctx.read() as session:
        row = await session.scalar(select(QueueDef).where(QueueDef.name == name))
        if row is None:
            raise NotFound(f"No queue {name!r}", field="name", reason="no-queue", params={"v0": name})
        return of(row.name, row.thresholds)


async def set_thresholds(ctx: Context, name: str, data: QueueThresholds) -> QueueThresholdsOut:
    """Change a queue's wallboard marks (the row change is audited); the wall shows them on its
    next picture."""
    ctx.require(Permission.ROUTING_WRITE)
    check(data)
    async with ctx.write() as tx:
        row = await tx.session.scalar(select(QueueDef).where(QueueDef.name == name))
        if row is None:
            raise NotFound(f"No queue {name!r}", field="name", reason="no-queue", params={"v0": name})
        row.thresholds = data.model_dump()
        await tx.session.flush()
        return of(row.name, row.thresholds)
