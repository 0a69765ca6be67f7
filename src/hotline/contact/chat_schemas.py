"""What the API takes and gives about conversations routed by the ACD (issue 24)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from hotline.contact.schemas import Disposition, QueueName
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


class ConversationCloseIn(Input):
    """The wrap-up of a conversation closed: a call's disposition code and a note. The code may be
    left out, unless the conversation's queue requires a wrap-up of its calls."""

    disposition: Disposition | None = None
    note: Annotated[str, StringConstraints(max_length=300, strip_whitespace=True)] = ""
