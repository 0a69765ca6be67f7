"""A reservation's lifecycle (H3, H9, X4) and a group block's (H4), as tables (core/lifecycle.py).

                      ┌──────── modify (stays) ───────┐
                      ▼                               │
    book ──▶ tentative ──confirm──▶ confirmed ──check_in──▶ checked_in ──check_out──▶ checked_out
      │          │                   │  │  ▲
      │          │                   │  │  └─ mark_late (the no-show sweep), late_outcome (stay)
      │          │                   │  └──no_show (once the hold has run out)──▶ no_show
      │          └──────cancel───────┴────────────────────────────────────────────▶ cancelled
      └──▶ conflict ──retry / modify (rooms found)──▶ confirmed          conflict ──cancel──▶ cancelled

A booking starts `tentative`, `confirmed` or — a paper booking whose rooms were sold while it was
on paper — `conflict`, holding no rooms (`initial`). Every later change goes through
`RESERVATION`; the rules the table cannot say are here too: guests check in on or after the
arrival date, a room is marked no-show only once its hold has run out, and a conflict that is
modified to nights that are free is confirmed (`modify_step`).

    held ──release (the daily job, after the release date)──▶ released
      │                                                          │
      └──────────────────────cancel──────────────────────────────┴──▶ cancelled
    rooming (name the guests): held or released

Neither table restricts roles: the routes' permissions (bookings:write) decide who books.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from hotline.core.context import Actor
from hotline.core.errors import InvalidTransition
from hotline.core.lifecycle import SYSTEM, Lifecycle, Step, Who, transition
from hotline.core.permissions import Permission

STATES = ("tentative", "confirmed", "checked_in", "checked_out", "cancelled", "no_show", "conflict")
LABELS = {
    "tentative": "待确认", "confirmed": "已确认", "checked_in": "已入住", "checked_out": "已离店",
    "cancelled": "已取消", "no_show": "未到店", "conflict": "待核实",
}  # fmt: skip
"""How a state is said to staff and spoken to a caller by the IVR."""
OPEN = frozenset({"tentative", "confirmed", "conflict"})
"""States in which a reservation may still change or be cancelled."""
HOLDING = frozenset({"tentative", "confirmed", "checked_in"})
"""States in which a reservation holds its rooms (a conflict holds none)."""

RESERVATION: Lifecycle[str] = Lifecycle(
    "reservation",
    STATES,
    (
        transition("confirm", {"tentative"}, "confirmed", label="确认"),
        transition("check_in", {"confirmed"}, "checked_in", label="入住"),
        transition("check_out", {"checked_in"}, "checked_out", label="离店"),
        transition("no_show", {"confirmed"}, "no_show", label="未到店"),
        transition("cancel", OPEN, "cancelled", label="取消"),
        transition("retry", {"conflict"}, "confirmed", label="重新占房"),
        transition("modify", OPEN, None, label="修改"),
        transition("late_outcome", {"confirmed"}, None, by="people", label="迟到回访结果"),
        transition("mark_late", {"confirmed"}, None, by="system", label="迟到待回电"),
    ),
    labels=LABELS,
)

GROUP_STATES = ("held", "released", "cancelled")
GROUP: Lifecycle[str] = Lifecycle(
    "group",
    GROUP_STATES,
    (
        transition("rooming", {"held", "released"}, None, label="填写分房名单"),
        transition("release", {"held"}, "released", by="system", label="释放未命名房间"),
        transition("cancel", {"held", "released"}, "cancelled", label="取消团队"),
    ),
    labels={"held": "保留中", "released": "已释放", "cancelled": "已取消"},
)


def who(actor: Actor) -> Who:
    """The lifecycle's view of an actor: the system's jobs, or a person with roles."""
    if actor.via == "system":
        return replace(SYSTEM, user_id=actor.user_id)
    return Who.person(actor.roles, actor.user_id)


def actions(lifecycle: Lifecycle[str], state: str, actor: Actor) -> list[str]:
    """The actions the reader may take now (the API sends them with every reservation and group);
    none for a reader who may not change bookings."""
    if not actor.can(Permission.BOOKINGS_WRITE):
        return []
    return lifecycle.allowed(state, who(actor))


def initial(*, has_rooms: bool, confirm: bool) -> str:
    """The state a new booking starts in: a conflict when a paper booking found its rooms sold."""
    if not has_rooms:
        return "conflict"
    return "confirmed" if confirm else "tentative"


def booked(state: str, actor: Actor) -> Step[str]:
    """The first line of a reservation's history."""
    return Step("book", "", state, actor.user_id)


def step(
    state: str, action: str, actor: Actor, *, today: date, arrival: date, now: datetime, hold_until: datetime
) -> Step[str]:
    """The table's step with the reservation's own rules: the step, or the error naming the rule."""
    done = RESERVATION.apply(state, action, who(actor))
    if action == "check_in" and today < arrival:
        raise InvalidTransition(
            "Guests check in on or after the arrival date",
            rule="arrival",
            reason="guests-check-after-arrival-date",
        )
    if action == "no_show" and now < hold_until:
        raise InvalidTransition(
            "The room is still held for the guest", rule="hold", reason="room-still-held-guest"
        )
    return done


def modify_step(state: str, actor: Actor) -> Step[str]:
    """A change of dates, room type or count. A conflict that now fits takes its rooms: confirmed."""
    done = RESERVATION.apply(state, "modify", who(actor))
    return replace(done, after="confirmed") if state == "conflict" else done
