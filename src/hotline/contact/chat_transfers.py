"""An agent passes a conversation on (issue 24): to a colleague by name, who must be at work with
room for one more, or back into a queue that takes its channel, where it keeps its place in line
(it has waited already). A colleague who is not ready (a break, a meeting) gets none. The agent
who has it may pass it on; so may a supervisor (`calls.monitor`), who sees every live
conversation on the wallboard. Audited through notify's `tasks.hand_over`."""

from __future__ import annotations

from hotline.contact.agents.presence import AgentState
from hotline.contact.chat_schemas import ConversationTransferIn
from hotline.contact.local import LocalNode
from hotline.core.context import Context
from hotline.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.core.permissions import Permission
from hotline.notify import tasks

AWAY = (AgentState.LOGGED_OUT, AgentState.NOT_READY)


async def transfer(
    ctx: Context, node: LocalNode | None, conversation_id: int, data: ConversationTransferIn
) -> None:
    ctx.require(Permission.MESSAGES_SEND)
    task = await tasks.task(ctx, conversation_id)
    if task is None or not task.open:
        raise NotFound(
            "No open conversation",
            field="conversation_id",
            reason="no-open-conversation",
            params={"conversation_id": conversation_id},
        )
    if task.assigned_to != ctx.actor.user_id and not ctx.actor.can(Permission.CALLS_MONITOR):
        raise PermissionDenied(
            "Only the agent who has it, or a supervisor, passes a conversation on",
            permission=Permission.CALLS_MONITOR.value, reason="not-your-conversation",
        )  # fmt: skip
    desk = node.chats if node is not None else None
    if data.agent_id is not None:
        if data.agent_id == task.assigned_to:
            raise InvalidInput(
                "The agent has it already", field="body.agent_id", reason="agent-has-it-already"
            )
        at_work = (
            desk is not None
            and node is not None
            and node.runner is not None
            and node.runner.presence.agent(data.agent_id).state not in AWAY
        )
        if desk is None or not at_work or desk.room(data.agent_id) < 1:
            raise Conflict(
                "That agent is away, or holds as many conversations as they may",
                field="body.agent_id", reason="agent-has-no-room",
            )  # fmt: skip
        queue = None
    else:
        queue = data.queue
        if desk is None or queue not in desk.queues_for(task.channel):
            raise InvalidInput(
                f"Queue {queue!r} takes no conversations of this channel",
                field="body.queue", reason="queue-takes-no-such-conversations", params={"queue": str(queue)},
            )  # fmt: skip
    if not await tasks.hand_over(
        ctx, conversation_id, from_agent=task.assigned_to, to_agent=data.agent_id, queue=queue
    ):
        raise Conflict(
            "The conversation moved meanwhile", field="conversation_id", reason="conversation-moved"
        )
