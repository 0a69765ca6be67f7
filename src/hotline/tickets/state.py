"""A ticket's lifecycle (S2) as a table (core/lifecycle.py) and its rules, pure: no database, no clock.

    new ──dispatch──▶ dispatched ──process──▶ in_process ──complete──▶ completed ──audit──▶ audited
     ▲                 ▲  │  ▲                 │   ▲  │                   │ send_back       │ close
     │      redispatch │  │  └── reopen ──┐    │   │  pend ▶ pending ─┐   ▼                 ▼
     │                 │  reject (反单)    │    │   └────── resume ◀───┘  in_process        closed
     │                 │  ▼                │    reject                                       │
     └──────────── rejected ◀──────────────┼────┘                                  reopen ───┘
                                           └──────────────────────────────────────────────────
    any open state ──merge──▶ merged

`TICKET` is the table: each action, the states it starts from, where it leads, and which steps a
person must sign for (the processor's result, the audit); `WHO_MAY` names the permission each
step needs. `apply` takes a ticket's `Snapshot` and a `Move` and returns the next snapshot and the
`Step` to record, or raises a domain error and nothing changes. The rules of the seed 003 work-order flow
live here: a rejection (反单) says why it was misdispatched, a completion carries its result, the
processor who did the work may not audit it, a complaint is closed only once the customer was told
the result, dispatching needs an active department.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hotline.core.context import Actor
from hotline.core.lifecycle import SYSTEM, Lifecycle, Who, transition
from hotline.core.permissions import Permission
from hotline.tickets.errors import (
    AuditByProcessor,
    InactiveUnit,
    NoteRequired,
    ResultNotTold,
    ResultRequired,
    TicketTransitionRefused,
    UnitRequired,
)

STATUSES = (
    "new",
    "dispatched",
    "in_process",
    "pending",
    "rejected",
    "completed",
    "audited",
    "closed",
    "merged",
)
OPEN = frozenset({"new", "dispatched", "in_process", "pending", "rejected"})
RUNNING = frozenset({"new", "dispatched", "in_process", "rejected"})
"""States in which the SLA clock runs; `pending` pauses it, the rest stop it."""
WITH_UNIT = frozenset({"dispatched", "in_process", "pending", "completed", "audited", "closed"})
DONE = frozenset({"completed", "audited", "closed"})
ASSIGNABLE = frozenset({"dispatched", "in_process", "pending"})
"""States in which a ticket is handed to someone of its unit (or taken by them)."""
ESCALATABLE = OPEN | {"completed"}
"""States in which a ticket is escalated to the next level."""
TELLABLE = frozenset({"completed", "audited"})
"""States in which the customer is told the result."""
INVESTIGATORS = (Permission.TICKETS_PROCESS, Permission.TICKETS_DISPATCH, Permission.TICKETS_AUDIT)
"""Who may record a complaint's investigation (its responsible unit and person, its severity)."""

STATUS_NAMES = {
    "new": "待调度",
    "dispatched": "已派单",
    "in_process": "处理",
    "pending": "挂起",
    "rejected": "反单",
    "completed": "完成",
    "audited": "审核",
    "closed": "关闭",
    "merged": "已合并",
}
P = Permission
TICKET: Lifecycle[str] = Lifecycle(
    "ticket",
    STATUSES,
    (
        transition("dispatch", {"new"}, "dispatched", label="调度"),
        transition("process", {"dispatched"}, "in_process", label="处理"),
        transition("reject", {"dispatched", "in_process"}, "rejected", label="反单"),
        transition("redispatch", {"rejected"}, "dispatched", label="重复派单"),
        # pend: waiting on the customer or a third party
        transition("pend", {"in_process"}, "pending", label="挂起"),
        transition("resume", {"pending"}, "in_process", label="恢复处理"),
        transition("complete", {"in_process"}, "completed", by="people", label="完成"),
        transition("audit", {"completed"}, "audited", by="people", label="审核"),
        transition("send_back", {"completed"}, "in_process", by="people", label="退回"),  # audit failed
        transition("close", {"audited"}, "closed", label="关闭"),
        transition("reopen", {"closed"}, "dispatched", label="重新打开"),
        transition("merge", OPEN, "merged", label="合并"),
    ),
    refused=TicketTransitionRefused,
    labels=STATUS_NAMES,
)  # fmt: skip
ACTIONS = TICKET.actions
WHO_MAY = {
    "dispatch": P.TICKETS_DISPATCH, "redispatch": P.TICKETS_DISPATCH, "process": P.TICKETS_PROCESS,
    "reject": P.TICKETS_PROCESS, "pend": P.TICKETS_PROCESS, "resume": P.TICKETS_PROCESS,
    "complete": P.TICKETS_PROCESS, "audit": P.TICKETS_AUDIT, "send_back": P.TICKETS_AUDIT,
    "close": P.TICKETS_WRITE, "reopen": P.TICKETS_WRITE, "merge": P.TICKETS_DISPATCH,
}  # fmt: skip
"""Who may take each step: the holders of its permission (the route requires it too)."""
UNIT_WORK = frozenset({"process", "reject", "pend", "resume", "complete"})
"""Done by the staff of the ticket's unit (or a dispatcher standing in for them)."""
NEEDS_NOTE = {
    "reject": "A rejection (反单) says why the ticket was misdispatched",
    "send_back": "Sending a ticket back says what is missing",
    "pend": "Say what the ticket waits for",
    "reopen": "Reopening says why",
}


@dataclass(frozen=True)
class Snapshot:
    status: str = "new"
    unit_id: int | None = None
    assignee_id: int | None = None
    processor_id: int | None = None
    auditor_id: int | None = None
    result: str = ""
    told: bool = False
    """The customer was told the result (complaints must be before closing)."""
    must_tell: bool = False


@dataclass(frozen=True)
class Move:
    action: str
    actor_id: int | None
    note: str = ""
    unit_id: int | None = None
    unit_active: bool = True
    assignee_id: int | None = None
    result: str = ""


@dataclass(frozen=True)
class Step:
    action: str
    before: str
    after: str
    by: int | None
    unit_id: int | None
    assignee_id: int | None
    note: str


def allowed(status: str) -> list[str]:
    """The actions a ticket in `status` accepts, from someone."""
    return [action for action, t in TICKET.transitions.items() if status in t.sources]


def actions(ticket: Snapshot, actor: Actor) -> list[str]:
    """What the actor may do to the ticket now (the ticket page's buttons): the table's steps open
    to them, less merging (its own dialog) and closing a complaint whose customer was not told."""
    who = SYSTEM if actor.via == "system" else Who.person(actor.roles, actor.user_id)
    found = [a for a in TICKET.allowed(ticket.status, who) if a != "merge" and actor.can(WHO_MAY[a])]
    if ticket.must_tell and ticket.status == "audited" and not ticket.told:
        found = [a for a in found if a != "close"]
    return found


def side_actions(ticket: Snapshot, actor: Actor) -> list[str]:
    """What else the actor may do to the ticket now beside its lifecycle (the page's other buttons),
    by the rules the services check: assign it within its unit (a dispatcher) or take it (its
    processor), escalate it, tell the customer the result, record their satisfaction once it is
    closed, merge it into another, record a complaint's investigation (`must_tell` marks a complaint)."""
    found = []
    if ticket.status in ASSIGNABLE and ticket.unit_id is not None:
        if actor.can(P.TICKETS_DISPATCH):
            found.append("assign")
        elif actor.can(P.TICKETS_PROCESS) and ticket.assignee_id is None:
            found.append("take")
    if ticket.status in ESCALATABLE and actor.can(P.TICKETS_WRITE):
        found.append("escalate")
    if ticket.status in TELLABLE and ticket.result and actor.can(P.TICKETS_WRITE):
        found.append("tell")
    if ticket.status == "closed" and actor.can(P.TICKETS_WRITE):
        found.append("rate")
    if ticket.status in OPEN and actor.can(P.TICKETS_DISPATCH):
        found.append("merge")
    if ticket.must_tell and any(actor.can(p) for p in INVESTIGATORS):
        found.append("investigate")
    return found


def apply(ticket: Snapshot, move: Move) -> tuple[Snapshot, Step]:
    t = TICKET.check(ticket.status, move.action, Who.person((), move.actor_id))  # the state's rule
    after = t.target or ticket.status
    if t.by == "people" and move.actor_id is None:
        raise TicketTransitionRefused(
            f"A person signs for this ({move.action.replace('_', ' ')}), not the system",
            field="body.action",
            reason="person-signs-not-system",
            params={"action": move.action.replace("_", " ")},
        )
    note = move.note.strip()
    if move.action in NEEDS_NOTE and not note:
        raise NoteRequired(NEEDS_NOTE[move.action], field="body.note")
    nxt = replace(ticket, status=after)
    action = move.action
    if action in ("dispatch", "redispatch", "reopen"):
        unit_id = (
            move.unit_id if move.unit_id is not None else (ticket.unit_id if action == "reopen" else None)
        )
        if unit_id is None:
            raise UnitRequired(
                "Choose the department or work area to dispatch to",
                field="body.unit_id",
                reason="choose-department-work-area-dispatch",
            )
        if not move.unit_active:
            raise InactiveUnit(
                "That department or work area is inactive: dispatch elsewhere",
                field="body.unit_id",
                reason="department-work-area-inactive-dispatch",
            )
        assignee = move.assignee_id if move.unit_id is not None or action != "reopen" else ticket.assignee_id
        nxt = replace(nxt, unit_id=unit_id, assignee_id=assignee)
        if action == "reopen":
            nxt = replace(nxt, processor_id=None, auditor_id=None, result="", told=False)
    elif action == "process":
        nxt = replace(nxt, assignee_id=ticket.assignee_id or move.actor_id)
    elif action == "reject":
        nxt = replace(nxt, unit_id=None, assignee_id=None)
    elif action == "complete":
        result = move.result.strip()
        if not result:
            raise ResultRequired(
                "A completed ticket says what was done (the result)",
                field="body.result",
                reason="completed-ticket-says-what-was",
            )
        nxt = replace(nxt, result=result, processor_id=move.actor_id)
    elif action == "audit":
        if move.actor_id == ticket.processor_id:
            raise AuditByProcessor(
                "The processor who did the work cannot audit it: someone else audits",
                reason="processor-who-did-work-cannot",
            )
        nxt = replace(nxt, auditor_id=move.actor_id)
    elif action == "send_back":
        if move.actor_id == ticket.processor_id:
            raise AuditByProcessor(
                "The processor who did the work cannot audit it: someone else audits",
                reason="processor-who-did-work-cannot",
            )
        nxt = replace(nxt, processor_id=None, result="")
    elif action == "close" and ticket.must_tell and not ticket.told:
        raise ResultNotTold(
            "Tell the customer the result (phone or SMS) before closing a complaint",
            reason="tell-customer-result-phone-sms",
        )
    step = Step(action, ticket.status, after, move.actor_id, nxt.unit_id, nxt.assignee_id,
                note or move.result.strip())  # fmt: skip
    return nxt, step


def consistent(ticket: Snapshot) -> list[str]:
    """What is wrong with a snapshot (empty: nothing). The property tests hold every reachable
    snapshot to this."""
    wrong = []
    if ticket.status not in STATUSES:
        wrong.append("unknown status")
    if ticket.status in WITH_UNIT and ticket.unit_id is None:
        wrong.append("dispatched without a unit")
    if ticket.status in ("new", "rejected") and (
        ticket.unit_id is not None or ticket.assignee_id is not None
    ):
        wrong.append("waiting for dispatch but assigned")
    if ticket.status in DONE and (not ticket.result or ticket.processor_id is None):
        wrong.append("done without a result or processor")
    if ticket.status in ("audited", "closed") and (
        ticket.auditor_id is None or ticket.auditor_id == ticket.processor_id
    ):
        wrong.append("audited by nobody or by its processor")
    if ticket.status == "closed" and ticket.must_tell and not ticket.told:
        wrong.append("closed without telling the customer")
    return wrong


CUSTOMER_TEXT = {
    "new": "已受理，等待派单",
    "dispatched": "已派单",
    "in_process": "在处理中",
    "pending": "等待补充信息",
    "rejected": "重新派单中",
    "completed": "已处理，审核中",
    "audited": "已审核，待回复",
    "closed": "已办结",
    "merged": "已合并",
}


def customer_status(status: str, unit_name: str | None, merged_into: str | None = None) -> str:
    """What the customer is told of where their request stands (D5): "在处理中 — 工区A"."""
    text = CUSTOMER_TEXT.get(status, status)
    if status == "merged" and merged_into:
        return f"{text}至 {merged_into}"
    if status in ("dispatched", "in_process", "pending") and unit_name:
        return f"{text} — {unit_name}"
    return text
