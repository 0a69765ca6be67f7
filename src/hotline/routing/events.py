from __future__ import annotations

from typing import ClassVar

from hotline.core.events import Event


class FlowPublished(Event):
    """A flow version went live (publish or roll back): voice nodes load it for new calls."""

    name: ClassVar[str] = "routing.flow_published"
    flow: str
    version: int


class QueuesChanged(Event):
    """Queues or agents' skills changed: voice nodes reload their routing set-up."""

    name: ClassVar[str] = "routing.queues_changed"
    queue: str
