"""A ticket's lifecycle (S2) as an explicit state machine, pure: no database, no clock.

    new ──dispatch──▶ dispatched ──process──▶ in_process ──complete──▶ completed ──audit──▶ audited
     ▲                 ▲  │  ▲                 │   ▲  │                   │ send_back       │ close
     │      redispatch │  │  └── reopen ──┐    │   │  pend ▶ pending ─┐   ▼                 ▼
     │                 │  reject (反单)    │    │   └────── resume ◀───┘  in_process        closed
     │                 │  ▼                │    reject                                       │
     └──────────── rejected ◀──────────────┼────┘                                  reopen ───┘
                                           └──────────────────────────────────────────────────
    any open state ──merge──▶ merged

`apply` takes a ticket's `Snapshot` and a `Move` and returns the next snapshot and the `Step` to
record, or raises a domain error and nothing changes. The rules of the seed 003 work-order flow
live here: a rejection (反单) says why it was misdispatched, a completion carries its result, the
processor who did the work may not audit it, a complaint is closed only once the customer was told
the result, dispatching needs an active department.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "dispatch": (frozenset({"new"}), "dispatched"),  # 调度
    "process": (frozenset({"dispatched"}), "in_process"),  # 处理
    "reject": (frozenset({"dispatched", "in_process"}), "rejected"),  # 反单
    "redispatch": (frozenset({"rejected"}), "dispatched"),  # 重复派单
    "pend": (frozenset({"in_process"}), "pending"),  # waiting on the customer or a third party
    "resume": (frozenset({"pending"}), "in_process"),
    "complete": (frozenset({"in_process"}), "completed"),  # 完成
    "audit": (frozenset({"completed"}), "audited"),  # 审核
    "send_back": (frozenset({"completed"}), "in_process"),  # audit failed: back to the processor
    "close": (frozenset({"audited"}), "closed"),
    "reopen": (frozenset({"closed"}), "dispatched"),
    "merge": (OPEN, "merged"),
}
ACTIONS = tuple(TRANSITIONS)
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


SIGNED = frozenset({"complete", "audit", "send_back"})
"""Steps a person answers for: the processor's result, and the audit by someone else."""


def allowed(status: str) -> list[str]:
    """The actions a ticket in `status` accepts."""
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]


def apply(ticket: Snapshot, move: Move) -> tuple[Snapshot, Step]:
    if move.action not in TRANSITIONS:
        raise TicketTransitionRefused(f"Unknown action {move.action!r}", field="body.action")
    sources, after = TRANSITIONS[move.action]
    if ticket.status not in sources:
        raise TicketTransitionRefused(
            f"A ticket that is {ticket.status} cannot be {move.action.replace('_', ' ')}ed here",
            field="body.action", current=ticket.status, allowed=allowed(ticket.status),
        )  # fmt: skip
    if move.action in SIGNED and move.actor_id is None:
        raise TicketTransitionRefused(
            f"A person signs for this ({move.action.replace('_', ' ')}), not the system", field="body.action"
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
            raise UnitRequired("Choose the department or work area to dispatch to", field="body.unit_id")
        if not move.unit_active:
            raise InactiveUnit(
                "That department or work area is inactive: dispatch elsewhere", field="body.unit_id"
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
            raise ResultRequired("A completed ticket says what was done (the result)", field="body.result")
        nxt = replace(nxt, result=result, processor_id=move.actor_id)
    elif action == "audit":
        if move.actor_id == ticket.processor_id:
            raise AuditByProcessor("The processor who did the work cannot audit it: someone else audits")
        nxt = replace(nxt, auditor_id=move.actor_id)
    elif action == "send_back":
        if move.actor_id == ticket.processor_id:
            raise AuditByProcessor("The processor who did the work cannot audit it: someone else audits")
        nxt = replace(nxt, processor_id=None, result="")
    elif action == "close" and ticket.must_tell and not ticket.told:
        raise ResultNotTold("Tell the customer the result (phone or SMS) before closing a complaint")
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


def customer_status(status: str, unit_name: str | None, merged_into: str | None = None) -> str:
    """What the customer is told of where their request stands (D5): "在处理中 — 工区A"."""
    text = CUSTOMER_TEXT.get(status, status)
    if status == "merged" and merged_into:
        return f"{text}至 {merged_into}"
    if status in ("dispatched", "in_process", "pending") and unit_name:
        return f"{text} — {unit_name}"
    return text
