"""What the API takes and gives about conversations routed by the ACD (issue 24)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from hotline.contact.schemas import QueueName
from hotline.core.schemas import Input


class ConversationTransferIn(Input):
    """Pass a conversation on: to an agent (by user id), or back into a queue (by name)."""

    agent_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None
    queue: QueueName | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ConversationTransferIn:
        if (self.agent_id is None) == (self.queue is None):
            raise ValueError("name an agent or a queue to pass it to, one of the two")
        return self
