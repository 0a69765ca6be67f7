"""The home page of work (docs/home.md): each signed-in user's work, put together from the
domains' own services — the contact layer's callbacks and floor, tickets, travel orders, the front
desk, quality's evaluations — with a section for each kind of work the user's permissions give them.

Nothing here reads another domain's tables: every count and list comes from the service that owns
it, with that service's permission check, so the page shows no more than the screens it links to.
"""

from __future__ import annotations

from collections import Counter

from hotline.contact import callbacks
from hotline.contact import wallboard as floor_now
from hotline.contact.agents import today
from hotline.contact.local import LocalNode
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.home.schemas import (
    AgentDesk,
    Alert,
    Floor,
    FloorQueue,
    Home,
    Landing,
    QaHome,
    TicketList,
    WorkOrders,
)
from hotline.hotels import frontdesk
from hotline.quality.reviews import due
from hotline.tickets import queries as tickets
from hotline.travel import queries as orders

TO_DO = "dispatched,in_process,pending"
"""Tickets in someone's hands: what an assignee still has to do."""
SHOWN = 5


async def landing(ctx: Context, node: LocalNode | None) -> Landing:
    """Whether the user has an agent's state (an extension or agent profile) and where they start:
    agents who take calls and watch no floor start on the desktop."""
    agent = await today.is_agent(ctx, node)
    desk_first = (
        agent and ctx.actor.can(Permission.CALLS_HANDLE) and not ctx.actor.can(Permission.AGENTS_READ)
    )
    return Landing(agent=agent, page="desktop" if desk_first else "home")


async def agent_desk(ctx: Context, node: LocalNode | None) -> AgentDesk:
    """The agent's work between calls (the idle desktop and the agent's home)."""
    ctx.require(Permission.CALLS_HANDLE)
    due, count = await today.my_callbacks(ctx, node)
    visits = None
    if ctx.actor.can(Permission.ORDERS_READ):
        visits = next((s for s in await orders.steps_awaiting(ctx, shown=SHOWN) if s.action == "close"), None)
    return AgentDesk(
        figures=await today.my_figures(ctx),
        callbacks=due,
        callbacks_count=count,
        return_visits=visits,
        tickets=await _tickets(ctx, tickets.Filter(scope="mine", status=TO_DO, limit=SHOWN))
        if ctx.actor.can(Permission.TICKETS_READ)
        else None,
        queues=await today.waiting_in_my_queues(ctx, node),
    )


async def _tickets(ctx: Context, wanted: tickets.Filter) -> TicketList:
    page = await tickets.find(ctx, wanted)
    return TicketList(count=page.total, tickets=page.items)


async def floor(ctx: Context, node: LocalNode | None) -> Floor:
    """The queues now with today's service level, the agents by state, and what needs the
    supervisor: tickets past their deadline, callers to ring back, and each queue whose service
    level or longest wait reached its amber mark (the thresholds a supervisor sets per queue, the
    same that colour the wallboard)."""
    board = await floor_now.wallboard(ctx, node)
    queues = [
        FloorQueue(
            queue=q.queue,
            title=q.title,
            waiting=q.waiting,
            longest_wait=q.longest_wait,
            service_level=q.today.service_level if q.today else None,
            answered=q.today.answered if q.today else 0,
            abandoned=q.today.abandoned if q.today else 0,
        )
        for q in board.queues
    ]
    alerts: list[Alert] = []
    if ctx.actor.can(Permission.TICKETS_READ):
        breached = (await tickets.find(ctx, tickets.Filter(sla="breached", limit=1))).total
        if breached:
            alerts.append(Alert(kind="tickets_breached", count=breached))
    if ctx.actor.can(Permission.CALLS_READ):
        waiting = await callbacks.count_open(ctx)
        if waiting:
            alerts.append(Alert(kind="callbacks_open", count=waiting))
    for q in board.queues:  # each queue against its own marks, the wallboard's colours
        marks, service, wait = q.thresholds, q.levels["service_level"], q.levels["longest_wait"]
        if service != "green" and q.today is not None:
            alerts.append(
                Alert(kind="service_level", count=q.waiting, queue=q.queue, value=q.today.service_level,
                      mark=marks.service_amber_percent / 100, level=service)
            )  # fmt: skip
        if wait != "green":
            alerts.append(
                Alert(kind="long_wait", count=q.waiting, queue=q.queue, value=q.longest_wait,
                      mark=marks.wait_amber_seconds, level=wait)
            )  # fmt: skip
    states = Counter(a.state for a in board.agents if a.extension)
    return Floor(queues=queues, agents=dict(states), alerts=alerts)


async def work_orders(ctx: Context) -> WorkOrders:
    """A department's work: the tickets in the reader's hands, their units' open ones, and how
    many of those are past their deadline."""
    mine = await _tickets(ctx, tickets.Filter(scope="mine", status=TO_DO, limit=SHOWN))
    team = (await tickets.find(ctx, tickets.Filter(scope="team", status=TO_DO, limit=1))).total
    late = tickets.Filter(scope="team", sla="breached", limit=1)
    return WorkOrders(mine=mine, team_count=team, breached=(await tickets.find(ctx, late)).total)


async def home(ctx: Context, node: LocalNode | None) -> Home:
    """The signed-in user's work: one section per kind of work their permissions give them."""
    can = ctx.actor.can
    start = await landing(ctx, node)
    page = Home(landing=start)
    if start.page == "desktop":  # a supervisor's own calls wait on their desktop, below the floor's
        page.desk = await agent_desk(ctx, node)
    if can(Permission.AGENTS_READ):
        page.floor = await floor(ctx, node)
    if can(Permission.ORDERS_READ):
        steps = await orders.steps_awaiting(ctx, shown=SHOWN)
        # an agent's return visits are on their desk already
        page.orders = [s for s in steps if not (page.desk and s.action == "close")]
    if can(Permission.FRONT_DESK):
        page.arrivals = await frontdesk.arrivals_today(ctx)
    if can(Permission.TICKETS_PROCESS):
        page.work_orders = await work_orders(ctx)
    if can(Permission.QA_READ):
        page.qa = QaHome(
            to_score=await due.to_score(ctx, shown=SHOWN),
            appeals_to_review=await due.appeals_to_review(ctx),
            calls_answered_today=await today.answered_today(ctx),
        )
    if can(Permission.CALLS_HANDLE):
        page.my_evaluations = await due.awaiting_acknowledgement(ctx, shown=SHOWN)
    return page
