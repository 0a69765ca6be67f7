"""Routes of the contact layer (under /api/routing): IVR flows (versions, drafts, publish, roll
back, visit counts), queues, agents (state, skills), the call and agent event log, the desk, the
softphone's controls, callbacks, the wallboard and the staffing calculator."""

from __future__ import annotations

from typing import Annotated, Literal, Protocol

from fastapi import APIRouter, Depends, Path, Query, Request

from hotline.contact import callbacks as callback_tasks
from hotline.contact import chat_transfers
from hotline.contact import wallboard as floor
from hotline.contact.agents import service as agents
from hotline.contact.agents.schemas import AgentPhoneIn, AgentProfileIn, AgentStateIn
from hotline.contact.calls import controls, desk, filing, records, wrapup
from hotline.contact.calls.desk_schemas import CallerIn, DeskCallOut, DeskOut, StageIn
from hotline.contact.chat_api import router as chat_router
from hotline.contact.chat_schemas import ConversationTransferIn
from hotline.contact.errors import VoiceNodeUnavailable
from hotline.contact.ivr import versions
from hotline.contact.node import CallRouter
from hotline.contact.queues import settings, thresholds
from hotline.contact.queues import staffing as erlang_staffing
from hotline.contact.schemas import (
    AgentOut,
    CallbackDoneIn,
    CallbackOut,
    CallerFileIn,
    ConsultActionIn,
    ContactEventOut,
    DialIn,
    DialOut,
    DraftIn,
    FlowName,
    FlowSummary,
    FlowVersionOut,
    HoldIn,
    KeysIn,
    LiveCallOut,
    MonitorIn,
    MonitorOut,
    MuteIn,
    QueueFigures,
    QueueIn,
    QueueName,
    QueueOut,
    QueueThresholds,
    QueueThresholdsOut,
    RegisterPhoneIn,
    RollbackIn,
    StaffingIn,
    StaffingOut,
    TransferIn,
    VisitCount,
    Wallboard,
    WallboardTrend,
    WrapUpIn,
    WrapUpOut,
)
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import COMPUTED, IdPath, requires
from hotline.crm.schemas import CustomerOut

router = APIRouter(prefix="/api/routing", tags=["routing"])


class _NodeState(Protocol):
    router: CallRouter
    settings: Settings


def node_router(request: Request) -> CallRouter:
    """The node's call router, which the app puts on its state (core.web reads the rest of it).
    A cluster node without the site's router answers 503, which api/router_link.py turns into the
    router's node's answer: live state is read and changed in one place."""
    state: _NodeState = request.app.state.hotline
    if state.router is None and state.settings.cluster:
        raise VoiceNodeUnavailable()
    return state.router


READ = Annotated[Context, Depends(requires(Permission.ROUTING_READ))]
WRITE = Annotated[Context, Depends(requires(Permission.ROUTING_WRITE))]
NamePath = Annotated[FlowName, Path()]


@router.get("/flows")
async def list_flows(ctx: READ) -> list[FlowSummary]:
    return await versions.list_flows(ctx)


@router.get("/flows/{name}/versions")
async def flow_versions(name: NamePath, ctx: READ) -> list[FlowVersionOut]:
    """Every stored version, oldest first; a shipped flow nobody edited has none (it runs as shipped)."""
    return [FlowVersionOut.model_validate(v) for v in await versions.flow_versions(ctx, name)]


@router.get("/flows/{name}/shipped")
async def shipped_flow(name: NamePath, ctx: READ) -> dict[str, object]:
    """The flow as Hotline ships it (the starting point of a first draft)."""
    return versions.shipped_definition(ctx, name)


@router.put("/flows/{name}/draft")
async def save_draft(name: NamePath, body: DraftIn, ctx: WRITE) -> FlowVersionOut:
    """Check the flow and keep it as the draft; problems come back at their nodes (422)."""
    return FlowVersionOut.model_validate(await versions.save_draft(ctx, name, body))


@router.post("/flows/{name}/publish")
async def publish(name: NamePath, ctx: WRITE) -> FlowVersionOut:
    return FlowVersionOut.model_validate(await versions.publish(ctx, name))


@router.post("/flows/{name}/rollback")
async def rollback(name: NamePath, body: RollbackIn, ctx: WRITE) -> FlowVersionOut:
    return FlowVersionOut.model_validate(await versions.rollback(ctx, name, body.version))


@router.get("/flows/{name}/visits")
async def visits(name: NamePath, request: Request, ctx: READ) -> list[VisitCount]:
    """How often each node of the flow was visited, from the event log."""
    return await versions.visit_counts(ctx, node_router(request), name)


@router.post("/staffing", responses=COMPUTED)
async def staffing(body: StaffingIn, ctx: READ) -> StaffingOut:
    """Agents needed for a service level: Erlang C, or Erlang A when callers' patience is given."""
    return await erlang_staffing.staffing(ctx, body)


QueuePath = Annotated[QueueName, Path()]
CallIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


@router.get("/queues")
async def list_queues(request: Request, ctx: READ) -> list[QueueOut]:
    """Every queue with its routing set-up and, on a voice node, what is waiting and who is in."""
    return await settings.list_queues(ctx, node_router(request))


@router.put("/queues/{name}")
async def save_queue(name: QueuePath, body: QueueIn, ctx: WRITE) -> QueueOut:
    """Create or change a queue; voice nodes apply it at once, waiting callers keep their places."""
    return await settings.save_queue(ctx, name, body)


@router.get("/agents")
async def list_agents(
    request: Request, ctx: Annotated[Context, Depends(requires(Permission.AGENTS_READ))]
) -> list[AgentOut]:
    """Agents with their phone, skills, state and time in state."""
    return await agents.list_agents(ctx, node_router(request))


@router.get("/me")
async def my_state(
    request: Request, ctx: Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))]
) -> AgentOut:
    """The signed-in agent's own state."""
    return await agents.my_state(ctx, node_router(request))


@router.put("/me/state")
async def set_my_state(
    body: AgentStateIn, request: Request, ctx: Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))]
) -> AgentOut:
    """Log in (to all queues, or the ones listed), ready, not ready with a reason, log out."""
    return await agents.set_agent_state(ctx, node_router(request), ctx.actor.user_id or 0, body)


@router.put("/agents/{user_id}/state")
async def set_agent_state(
    user_id: IdPath,
    body: AgentStateIn,
    request: Request,
    ctx: Annotated[Context, Depends(requires(Permission.AGENTS_WRITE))],
) -> AgentOut:
    """A supervisor changes an agent's state; the reason is required and the change audited."""
    return await agents.set_agent_state(ctx, node_router(request), user_id, body)


@router.put("/me/phone")
async def choose_my_phone(
    body: AgentPhoneIn, request: Request, ctx: Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))]
) -> AgentOut:
    """Answer on the desk phone or in the browser (the desktop registers the extension)."""
    return await agents.choose_phone(ctx, node_router(request), ctx.actor.user_id or 0, body)


@router.put("/agents/{user_id}/phone")
async def choose_agent_phone(
    user_id: IdPath,
    body: AgentPhoneIn,
    request: Request,
    ctx: Annotated[Context, Depends(requires(Permission.AGENTS_WRITE))],
) -> AgentOut:
    """A supervisor sets where an agent answers: desk phone or browser (audited)."""
    return await agents.choose_phone(ctx, node_router(request), user_id, body)


@router.put("/agents/{user_id}/profile", status_code=204)
async def save_profile(user_id: IdPath, body: AgentProfileIn, ctx: WRITE) -> None:
    """An agent's skills with levels (1–5) and own wrap-up time."""
    await agents.save_profile(ctx, user_id, body)


CALLS = Annotated[Context, Depends(requires(Permission.CALLS_READ))]


@router.get("/calls/{call_id}/events")
async def call_events(call_id: CallIdPath, request: Request, ctx: CALLS) -> list[ContactEventOut]:
    """One call's events, with every routing decision and its reason."""
    return await records.call_events(ctx, node_router(request), call_id)


@router.post("/calls/{call_id}/wrap-up")
async def wrap_up(
    call_id: CallIdPath,
    body: WrapUpIn,
    request: Request,
    ctx: Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))],
) -> WrapUpOut:
    """The agent who took the call records what it was (and a note); it goes on the customer's
    timeline, and the agent is ready again if they were wrapping up."""
    return await wrapup.wrap_up(ctx, node_router(request), call_id, body)


@router.post("/calls/{call_id}/customer", status_code=201)
async def file_from_call(
    call_id: CallIdPath,
    body: CallerFileIn,
    request: Request,
    ctx: Annotated[Context, Depends(requires(Permission.CUSTOMERS_WRITE))],
) -> CustomerOut:
    """A new caller's file with the number they are calling from (the agent never sees it)."""
    return await filing.file_from_call(ctx, node_router(request), call_id, body)


@router.post("/calls/{call_id}/register-phone")
async def register_phone(
    call_id: CallIdPath,
    body: RegisterPhoneIn,
    request: Request,
    ctx: Annotated[Context, Depends(requires(Permission.CUSTOMERS_WRITE))],
) -> CustomerOut:
    """Add the number of this call to the customer's file (a member calling from a new phone)."""
    return await filing.register_phone(ctx, node_router(request), call_id, body.customer_id)


@router.get("/me/desk")
async def my_desk(
    request: Request, ctx: Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))]
) -> DeskOut:
    """The signed-in agent's desktop as the server has it: the call ringing them or that they
    are on, then the calls they took that await a wrap-up, each with its pop, script stage and
    whether the wrap-up is required. A desktop that reloads or signs in again rebuilds from this."""
    return await desk.my_desk(ctx, node_router(request))


@router.put("/calls/{call_id}/stage")
async def move_script(
    call_id: CallIdPath,
    body: StageIn,
    request: Request,
    ctx: Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))],
) -> DeskCallOut:
    """The agent moved to another stage of the caller's script (kept for their other desktops)."""
    return await desk.move_script(ctx, node_router(request), call_id, body.stage)


@router.put("/calls/{call_id}/caller")
async def name_caller(
    call_id: CallIdPath,
    body: CallerIn,
    request: Request,
    ctx: Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))],
) -> DeskCallOut:
    """The agent found who is calling (a new number, a shared line): the pop shows their file."""
    return await desk.name_caller(ctx, node_router(request), call_id, body.customer_id)


@router.get("/wallboard")
async def wallboard(
    request: Request, ctx: Annotated[Context, Depends(requires(Permission.AGENTS_READ))]
) -> Wallboard:
    """The floor now: per queue who waits and how long, agents by state, today's figures."""
    return await floor.wallboard(ctx, node_router(request))


def wait_history(request: Request) -> floor.WaitHistory | None:
    """The callers-waiting history the node's wallboard feed samples (api/live.py), if it runs."""
    feed = getattr(request.app.state.hotline, "wallboard", None)
    return getattr(feed, "history", None)


@router.get("/wallboard/trend", responses=COMPUTED)
async def wallboard_trend(
    request: Request,
    ctx: Annotated[Context, Depends(requires(Permission.AGENTS_READ))],
    interval_minutes: Annotated[int, Query(ge=5, le=60)] = 15,
    minutes: Annotated[int, Query(ge=5, le=60)] = 60,
) -> WallboardTrend:
    """The wallboard's charts: today's service level per interval and callers waiting per queue
    over the last minutes."""
    return await floor.trend(
        ctx, node_router(request), wait_history(request), interval_minutes=interval_minutes, minutes=minutes
    )


@router.get("/queues/{name}/thresholds")
async def queue_thresholds(name: QueuePath, ctx: READ) -> QueueThresholdsOut:
    """When the queue's wallboard tile turns amber and red."""
    return await thresholds.get(ctx, name)


@router.put("/queues/{name}/thresholds")
async def set_queue_thresholds(name: QueuePath, body: QueueThresholds, ctx: WRITE) -> QueueThresholdsOut:
    """Set the queue's wallboard marks (audited); red must lie beyond amber."""
    return await thresholds.set_thresholds(ctx, name, body)


@router.get("/figures")
async def figures(
    ctx: Annotated[Context, Depends(requires(Permission.AGENTS_READ))],
    hours: Annotated[float, Query(gt=0, le=24 * 31)] = 24,
) -> list[QueueFigures]:
    """Per queue over the last hours: offered, answered, abandoned, service level, ASA, AHT."""
    return await floor.queue_figures(ctx, hours=hours)


@router.get("/callbacks")
async def callbacks(
    ctx: CALLS, status: Annotated[Literal["open", "done"], Query()] = "open"
) -> list[CallbackOut]:
    """Callers to ring back: abandoned, timed out, refused, or a callback that found nobody."""
    return await callback_tasks.list_callbacks(ctx, status=status)


@router.post("/callbacks/{task_id}/done")
async def callback_done(
    task_id: IdPath, body: CallbackDoneIn, ctx: Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))]
) -> CallbackOut:
    """The caller was called back (the note says how it went)."""
    return await callback_tasks.finish_callback(ctx, task_id, body.note)


# ---------------------------------------------------------------- softphone controls (T7, D1)

HANDLE = Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))]
MONITOR = Annotated[Context, Depends(requires(Permission.CALLS_MONITOR))]
SEND = Annotated[Context, Depends(requires(Permission.MESSAGES_SEND))]


@router.get("/me/call")
async def my_call(request: Request, ctx: HANDLE) -> LiveCallOut | None:
    """The call the signed-in agent is on now (null: none), as their softphone panel shows it."""
    return controls.current_call(ctx, node_router(request))


@router.post("/me/call/hold")
async def hold(body: HoldIn, request: Request, ctx: HANDLE) -> LiveCallOut:
    """Put the caller on hold (they hear the queue's music) or take them off it."""
    return await controls.hold(ctx, node_router(request), body.held)


@router.post("/me/call/mute")
async def mute(body: MuteIn, request: Request, ctx: HANDLE) -> LiveCallOut:
    """The caller stops (or starts again) hearing the agent; the agent still hears the caller."""
    return await controls.mute(ctx, node_router(request), body.muted)


@router.post("/me/call/keys")
async def send_keys(body: KeysIn, request: Request, ctx: HANDLE) -> LiveCallOut:
    """Send DTMF to the other party (an extension at a hotel's switchboard, a PIN prompt)."""
    return await controls.send_keys(ctx, node_router(request), body.keys)


@router.post("/me/call/hang-up", status_code=204)
async def hang_up(request: Request, ctx: HANDLE) -> None:
    """End the call (in a three-way call: leave it, the other two stay connected)."""
    await controls.hang_up(ctx, node_router(request))


@router.post("/me/call/transfer")
async def transfer(body: TransferIn, request: Request, ctx: HANDLE) -> LiveCallOut | None:
    """Blind: the caller goes to an agent, a queue or a number and the agent is free (null).
    Consult: the caller holds while the agent's colleague (or the number) rings and talks."""
    return await controls.transfer(ctx, node_router(request), body)


@router.post("/conversations/{conversation_id}/transfer", status_code=204)
async def transfer_conversation(
    conversation_id: IdPath, body: ConversationTransferIn, request: Request, ctx: SEND
) -> None:
    """Pass a conversation on: to a colleague at work with room for one more, or back into a queue
    that takes its channel, keeping its place in line (the agent who has it, or a supervisor)."""
    await chat_transfers.transfer(ctx, node_router(request), conversation_id, body)


@router.post("/me/call/consult")
async def finish_consult(body: ConsultActionIn, request: Request, ctx: HANDLE) -> LiveCallOut | None:
    """After a consultation: `complete` (the caller goes to the colleague; null), `cancel` (back
    to the caller) or `conference` (all three talk)."""
    return await controls.finish_consult(ctx, node_router(request), body)


@router.post("/dial", status_code=202)
async def dial(body: DialIn, request: Request, ctx: HANDLE) -> DialOut:
    """Click-to-dial: the agent's phone rings, then the number (or the customer's number, which
    the agent never sees). Follow it on `GET /me/call` and the live socket."""
    return await controls.dial(ctx, node_router(request), body)


@router.put("/agents/{user_id}/monitor")
async def monitor(user_id: IdPath, body: MonitorIn, request: Request, ctx: MONITOR) -> MonitorOut:
    """A supervisor listens to, whispers to or barges into an agent's call: their own phone
    rings and joins; calling again changes the mode. Audited."""
    return await controls.monitor(ctx, node_router(request), user_id, body)


@router.delete("/agents/{user_id}/monitor", status_code=204)
async def stop_monitor(user_id: IdPath, request: Request, ctx: MONITOR) -> None:
    """The supervisor leaves the agent's call (hanging up their phone does the same)."""
    await controls.stop_monitor(ctx, node_router(request), user_id)


routers = [router, chat_router]
