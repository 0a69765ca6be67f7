"""The dialer of progressive and predictive campaigns, one per voice node (docs/outbound.md,
"Progressive and predictive dialing").

Agents join a running campaign from 我的外呼 (and leave it, or sign out); they stay inbound agents:
blended, inbound first. Once a second, for every campaign with agents joined, the dialer:

1. counts the joined agents free for it — ready, with a reachable phone, and no inbound caller
   waiting in a queue they serve (the ACD gives those first);
2. pauses the campaign while any inbound queue's service level over the last half hour is red on
   the wallboard's marks (re-read every 30 s);
3. asks the campaign's policy (`pacer.py`: one call per free agent when progressive, the
   model-based pacer with its abandon cap when predictive) how many numbers to dial now;
4. takes that many numbers the calling rules allow (`work.numbers_to_dial`), writes an attempt for
   each, and places the calls through the contact layer (`LocalNode.campaign_call`).

The calls tell it back what happened (`CampaignCallEvents`): the pacer learns connect rate, ring
and handle times; an answered call is connected to a free joined agent within 2 s (the attempt
becomes theirs to write up, as in preview), or the person hears the message naming the company and
its number and the attempt is `abandoned` (no redial for 72 h). Numbers not answered are settled
at once as busy / no answer with the campaign's retry minutes.

The pacer's abandon windows (24 h and 30 days) start from the campaign's stored attempts, so a
restart forgets nothing the cap needs. Joined agents live on this node only: after a restart agents
join again (the desktop does it when 我的外呼 opens).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Integer, cast, func, select

from hotline.contact import wallboard
from hotline.contact.agents.presence import AgentState
from hotline.contact.calls.campaign_call import Dial
from hotline.contact.calls.facts import CallOutOutcome
from hotline.contact.local import LocalNode
from hotline.core.clock import as_utc, utcnow
from hotline.core.context import Context
from hotline.outbound import campaigns, work
from hotline.outbound.models import Attempt, Campaign, Target
from hotline.outbound.pacer import (
    MONTH,
    AbandonWindows,
    Policy,
    PredictivePolicy,
    ProgressivePolicy,
    Snapshot,
)

log = structlog.get_logger(__name__)
TICK = 1.0
SERVICE_CHECK = 30.0
SERVICE_HOURS = 0.5
"""Outbound pauses while a queue's service level over the last half hour is red: what the floor is
living now, not a bad morning that would hold outbound back all afternoon."""
MAX_PER_TICK = 100
"""Calls placed per second per node at most, all campaigns together (benchmarks/README.md,
"Originations": the engine keeps up with this with none failed)."""


@dataclass
class _Campaign:
    """A campaign being dialled on this node."""

    id: int
    code: str
    mode: str
    caller_id: str
    message: str
    policy: Policy
    detect_machines: bool = False
    machine_message: str = ""
    joined: set[int] = field(default_factory=set)
    ringing: dict[str, float] = field(default_factory=dict)  # call id -> when dialled (time.time())
    busy: dict[int, float] = field(default_factory=dict)  # agent -> connected at, until ready again
    attempts: dict[str, int] = field(default_factory=dict)  # call id -> attempt id


class Dialer:
    def __init__(self, ctx: Context, node: LocalNode, *, tick: float = TICK) -> None:
        self.ctx, self.node, self.tick = ctx, node, tick
        self.campaigns: dict[int, _Campaign] = {}
        self.paused_by: str = ""
        """The title of the inbound queue whose service level holds outbound back ('' when none)."""
        self._service_checked = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbound-dialer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # ---------------------------------------------------------------- agents joining

    async def join(self, campaign: Campaign, agent_id: int) -> None:
        live = self.campaigns.get(campaign.id)
        if live is None:  # two first joins at once: the one loaded first is kept
            live = self.campaigns.setdefault(campaign.id, await self._load(campaign))
        live.joined.add(agent_id)

    def leave(self, campaign_id: int, agent_id: int) -> None:
        live = self.campaigns.get(campaign_id)
        if live is not None:
            live.joined.discard(agent_id)

    def joined(self, campaign_id: int) -> set[int]:
        live = self.campaigns.get(campaign_id)
        return set(live.joined) if live is not None else set()

    def ringing(self, campaign_id: int) -> int:
        live = self.campaigns.get(campaign_id)
        return len(live.ringing) if live is not None else 0

    async def _load(self, campaign: Campaign) -> _Campaign:
        """The campaign's dialing state; a predictive one's abandon windows from its stored attempts."""
        policy: Policy = ProgressivePolicy()
        if campaign.mode == "predictive":
            policy = PredictivePolicy(await self._history(campaign.id))
        return _Campaign(
            campaign.id,
            campaign.code,
            campaign.mode,
            campaign.caller_id,
            abandon_message(self.ctx.settings.company_name, campaign.caller_id),
            policy,
            campaign.detect_machines,
            campaign.machine_message,
        )

    async def _history(self, campaign_id: int) -> AbandonWindows:
        """The campaign's abandon windows from its stored attempts of the last 30 days: the answers
        counted per minute by the database (a month of a busy campaign is hundreds of thousands of
        answers: never rows on the event loop), the abandons one by one with their numbers (at most
        3 % of the answers; the 72-hour rule needs the number)."""
        windows = AbandonWindows()
        since = utcnow() - timedelta(seconds=MONTH)
        mine = (Attempt.campaign_id == campaign_id, Attempt.started_at > since)
        if self.ctx.settings.is_sqlite:
            minute: Any = cast(func.strftime("%s", Attempt.started_at), Integer) / 60
        else:
            minute = func.floor(func.extract("epoch", Attempt.started_at) / 60)
        async with self.ctx.read() as session:
            answered = await session.execute(
                select(minute.label("minute"), func.count())
                .where(*mine, Attempt.outcome == "answered")
                .group_by("minute")
            )
            abandoned = await session.execute(
                select(Attempt.started_at, Attempt.phone).where(*mine, Attempt.outcome == "abandoned")
            )
            events: list[tuple[float, int, str | None]] = [(float(m) * 60, int(n), None) for m, n in answered]
            events += [(as_utc(at).timestamp(), 0, phone) for at, phone in abandoned]
        for at, count, phone in sorted(events, key=lambda e: e[0]):  # the windows take them in time order
            if phone is None:
                windows.record_answers(at, count)
            else:
                windows.record_abandon(at, phone)
        return windows

    # ---------------------------------------------------------------- each second

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            try:
                await self.step()
            except Exception as exc:  # the next second tries again
                log.error("outbound dialer step failed", error=repr(exc))

    async def step(self) -> int:
        """One decision for every campaign with agents joined; how many calls were placed."""
        runner = self.node.runner
        if runner is None or not any(c.joined for c in self.campaigns.values()):
            return 0
        await self._check_service()
        placed = 0
        for live in list(self.campaigns.values()):
            if not live.joined and not live.ringing:
                continue
            self._settle_agents(live)
            placed += await self._dial(live, MAX_PER_TICK - placed)
        return placed

    async def _check_service(self) -> None:
        now = time.monotonic()
        if now - self._service_checked < SERVICE_CHECK:
            return
        self._service_checked = now
        self.paused_by = await wallboard.queue_below_service(self.ctx, hours=SERVICE_HOURS)

    def free_agents(self, dial: Dial) -> list[int]:
        live = self._live(dial)
        return self._free(live) if live is not None else []

    def _free(self, live: _Campaign) -> list[int]:
        """Joined agents ready for an outbound call now, the longest ready first."""
        runner, voice = self.node.runner, self.node.voice
        if runner is None or voice is None:
            return []
        waiting = {w.queue for w in runner.waits() if not w.callback}
        skills = {runner.queues[q].skill for q in waiting if q in runner.queues}
        free = []
        for agent_id in live.joined:
            agent, seat = runner.presence.agent(agent_id), runner.seats.get(agent_id)
            if agent.state is not AgentState.READY or seat is None or not voice.reachable(seat.extension):
                continue
            if skills & set(seat.skills):
                continue  # an inbound caller waits for them: inbound first
            free.append((agent.since, agent_id))
        return [agent_id for _, agent_id in sorted(free)]

    def _settle_agents(self, live: _Campaign) -> None:
        """Agents back to ready after a campaign call and its wrap-up: the pacer learns the handle time."""
        runner = self.node.runner
        assert runner is not None  # noqa: S101
        now = time.time()
        for agent_id, since in list(live.busy.items()):
            state = runner.presence.agent(agent_id).state
            if state not in (AgentState.ON_CALL, AgentState.WRAP_UP, AgentState.RINGING):
                del live.busy[agent_id]
                if isinstance(live.policy, PredictivePolicy):
                    live.policy.observe_handle(now - since)

    async def _dial(self, live: _Campaign, room: int) -> int:
        now = time.time()
        free = self._free(live) if not self.paused_by else []
        snap = Snapshot(
            now=now,
            idle_agents=len(free),
            busy_elapsed=[now - since for since in live.busy.values()],
            ringing_elapsed=[now - at for at in live.ringing.values()],
        )
        count = min(live.policy.dial_count(snap), room)
        if count <= 0:
            return 0
        async with self.ctx.write() as tx:
            campaign = await tx.session.get(Campaign, live.id)
            if campaign is None or campaign.status != "running" or campaign.mode != live.mode:
                self.campaigns.pop(live.id, None)  # paused, closed or changed: agents join again
                return 0
            started = utcnow()
            targets = await work.numbers_to_dial(tx.session, campaign, count, started)
            dials = []
            for target in targets:
                call_id = f"out-{secrets.token_hex(6)}"
                attempt = Attempt(
                    campaign_id=campaign.id, target_id=target.id, phone=target.phone, kind=campaign.kind,
                    call_id=call_id, started_at=started,
                )  # fmt: skip
                tx.session.add(attempt)
                dials.append((attempt, target, call_id))
            await tx.session.flush()
            placed = [
                (a.id, Dial(call_id, live.code, t.phone, live.caller_id, t.customer_id, live.message,
                            detect_machines=live.detect_machines, machine_message=live.machine_message))
                for a, t, call_id in dials
            ]  # fmt: skip
        for attempt_id, dial in placed:
            live.attempts[dial.call_id] = attempt_id
            live.ringing[dial.call_id] = now
            self.node.spawn(self.node.campaign_call(dial, self))
        return len(placed)

    # ---------------------------------------------------------------- what the calls tell

    def _live(self, dial: Dial) -> _Campaign | None:
        return next((c for c in self.campaigns.values() if c.code == dial.campaign), None)

    def rang(self, dial: Dial, seconds: float, *, answered: bool, why: str) -> None:
        live = self._live(dial)
        if live is None:
            return
        live.ringing.pop(dial.call_id, None)
        if isinstance(live.policy, PredictivePolicy):
            live.policy.observe_dial(seconds, answered=answered)
        if not answered:
            self.node.spawn(self._write(live, dial, "not_connected", why))

    def connected(self, dial: Dial, agent_id: int, waited: float) -> None:
        live = self._live(dial)
        if live is None:
            return
        live.busy[agent_id] = time.time()
        if isinstance(live.policy, PredictivePolicy):
            live.policy.observe_answer(time.time())
        self.node.spawn(self._write(live, dial, "connected", "", agent_id))

    def abandoned(self, dial: Dial, waited: float) -> None:
        live = self._live(dial)
        if live is None:
            return
        if isinstance(live.policy, PredictivePolicy):
            live.policy.observe_abandon(time.time(), dial.number)
        self.node.spawn(self._write(live, dial, "abandoned", ""))

    def machine(self, dial: Dial, why: str) -> None:
        live = self._live(dial)
        if live is not None:
            self.node.spawn(self._write(live, dial, "not_connected", "machine"))

    async def _write(
        self, live: _Campaign, dial: Dial, what: str, why: str, agent_id: int | None = None
    ) -> None:
        attempt_id = live.attempts.pop(dial.call_id, None)
        if attempt_id is None:
            return
        now = utcnow()
        async with self.ctx.write() as tx:
            attempt = await tx.session.get(Attempt, attempt_id)
            target = await tx.session.get(Target, attempt.target_id) if attempt is not None else None
            campaign = await campaigns.campaign_for_work(tx.session, live.id)
            if attempt is None or target is None or attempt.outcome != "dialing":
                return
            if what == "connected":
                attempt.agent_id = agent_id  # theirs to write up, as a preview call
                if target.assignee_id is None:
                    target.assignee_id, target.assigned_at = agent_id, now
            elif what == "abandoned":
                work.close_abandoned(campaign, target, attempt, now)
            else:
                work.close_unanswered(campaign, target, attempt, CallOutOutcome("not_connected", why))


def abandon_message(company: str, number: str) -> str:
    """What a person hears when no agent is free for their answered call (within 2 s)."""
    spoken = " ".join(number) if number else ""
    call_us = f"您也可以拨打 {spoken} 联系我们。" if spoken else ""
    return f"您好，这里是{company}。很抱歉，现在没有空闲的客服人员，我们稍后再与您联系。{call_us}再见。"
