"""A live call's mode (T7, D1) as a lifecycle: how the audio is arranged between the caller, the
agent and a colleague, pure (no media, no clock).

    talking ──hold──▶ held ──resume──▶ talking
       │               │
       └──consult──────┴─▶ consulting ──conference──▶ three_way
                             │   │  unanswered ▶ held        │
                             │   └── cancel / complete ──────┴──▶ talking
    talking, held ──transfer──▶ transferring ──connected──▶ talking   (requeue ⟲ transferring)

- consult: the caller holds (music) while the agent rings a colleague or a number;
- unanswered: the colleague did not answer, or hung up before a three-way call: the caller holds;
- cancel: back to the caller (also when the colleague leaves a three-way call);
- complete: the caller goes to the colleague, the agent leaves, the call talks on;
- transfer (blind): the agent leaves at once; the caller hears music until the target answers
  (connected), or waits in a queue again (requeue).

`mute`, `keys`, `hang_up` and `monitor` change no mode: they are in the table so the same
question, `CALL.allowed(mode)`, says what a call allows now. `LiveCall._move` is the only writer of
a call's mode, and it applies this table.
"""

from __future__ import annotations

from enum import StrEnum

from hotline.core.errors import InvalidTransition
from hotline.core.lifecycle import Lifecycle, transition


class Mode(StrEnum):
    TALKING = "talking"
    HELD = "held"
    CONSULTING = "consulting"
    THREE_WAY = "three_way"
    TRANSFERRING = "transferring"


T, H, C, W, X = Mode.TALKING, Mode.HELD, Mode.CONSULTING, Mode.THREE_WAY, Mode.TRANSFERRING

CALL: Lifecycle[Mode] = Lifecycle(
    "call",
    tuple(Mode),
    (
        transition("hold", {T}, H),
        transition("resume", {H}, T),
        transition("consult", {T, H}, C),
        transition("unanswered", {C}, H),
        transition("conference", {C}, W),
        transition("cancel", {C, W}, T),
        transition("complete", {C, W}, T),
        transition("transfer", {T, H}, X),
        transition("requeue", {X}, None),
        transition("connected", {X}, T),
        transition("mute", {T, H, C, W}, None),
        transition("keys", {T}, None),
        transition("hang_up", {T, H, W}, None),
        transition("monitor", {T}, None),
    ),
)


def _why(mode: Mode, action: str) -> tuple[str, str]:
    """Why the call refuses `action` now: the English and the reason code."""
    if mode is X:
        return "The call is being transferred", "call-being-transferred"
    if action == "hang_up" and mode is C:
        return "Complete or cancel the consultation first", "finish-consultation-first"
    if action == "conference" and mode is W:
        return "This is a three-way call already", "three-way-call-already"
    if action in ("cancel", "complete", "conference", "unanswered"):
        return "There is no consultation on this call", "no-consultation-call"
    if action == "keys":
        return f"The call is {mode.value}: keys go to a caller you talk to", "keys-need-talking"
    if action == "monitor":
        return f"The call is {mode.value}: join when the agent talks to the caller", "monitor-needs-talking"
    return f"The call is {mode.value}: finish that first", "call-busy-finish-first"


def check(mode: Mode, action: str) -> None:
    """Raise `InvalidTransition` (409, in the agent's words) unless the call allows `action` now."""
    if action not in CALL.transitions:
        raise ValueError(f"no call action {action!r}")
    if mode not in CALL.transitions[action].sources:
        detail, reason = _why(mode, action)
        raise InvalidTransition(
            detail, rule="state", current=mode.value, allowed=CALL.allowed(mode), reason=reason,
            params={"mode": mode.value},
        )  # fmt: skip


def after(mode: Mode, action: str) -> Mode:
    """The mode `action` leads to (checked)."""
    check(mode, action)
    return Mode(CALL.apply(mode, action).after)
