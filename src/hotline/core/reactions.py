"""Reactions: what another part of Hotline does because something happened, once it committed.

A domain does not call another domain to make its side effects (a booking on paper that found
its rooms sold opens a call task; a check-out earns points; a closed complaint puts the customer
on the call list). It publishes an event on its transaction, and a reaction registered for that
event does the rest after the commit:

    @reacts_to(ReservationChanged)
    async def earn_points(ctx: Context, event: ReservationChanged) -> None: ...

`Context.write` runs the reactions of the events its transaction published, in the process that
committed and in the committing actor's context, before the events go out on the bus; so a
caller that gets its answer sees the reactions done, as before. Each reaction is idempotent (a
call task is one per reference, points are earned once per reference, a timeline entry is added
once per reference): running one twice changes nothing. A reaction that fails is logged and does
not undo what committed: the change stands, the person sees it, and the reaction's own sweep or a
person puts the rest right.

Reactions are registered by importing the modules `domains.py` names (`Domain.reactions`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from hotline.core.events import Event

if TYPE_CHECKING:
    from hotline.core.context import Context

log = structlog.get_logger(__name__)

E = TypeVar("E", bound=Event)
Reaction = Callable[["Context", Any], Awaitable[None]]

_REACTIONS: dict[str, list[Reaction]] = defaultdict(list)


def reacts_to(
    *event_types: type[Event],
) -> Callable[[Callable[[Context, E], Awaitable[None]]], Callable[[Context, E], Awaitable[None]]]:
    """Register the decorated coroutine for events of these types."""

    def register(
        reaction: Callable[[Context, E], Awaitable[None]],
    ) -> Callable[[Context, E], Awaitable[None]]:
        for event_type in event_types:
            if reaction not in _REACTIONS[event_type.name]:
                _REACTIONS[event_type.name].append(reaction)
        return reaction

    return register


def reactions_to(event: Event) -> list[Reaction]:
    return list(_REACTIONS.get(event.name, ()))


async def react(ctx: Context, events: Iterable[Event]) -> None:
    """Run the reactions to `events`, one after another, each failure logged and contained."""
    for event in events:
        for reaction in _REACTIONS.get(event.name, ()):
            try:
                await reaction(ctx, event)
            except Exception:
                log.exception("reaction failed", event_name=event.name, reaction=reaction.__qualname__)
