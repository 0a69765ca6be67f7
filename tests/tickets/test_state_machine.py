"""The ticket lifecycle as a state machine: no sequence of moves — allowed or not, by anyone —
reaches an inconsistent ticket, a refused move changes nothing, and every accepted move is one
recorded step (in the pure machine, and through the service with the database)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hotline.admin.auth import actor_of
from hotline.admin.models import User
from hotline.core.context import Context
from hotline.core.errors import HotlineError
from hotline.tickets import commands, complaints, deadlines, state
from hotline.tickets.models import Ticket, TicketStep, Unit
from hotline.tickets.schemas import TicketIn, TicketMoveIn

ACTORS = (1, 2, 3, None)
moves = st.builds(
    state.Move,
    action=st.sampled_from(state.ACTIONS),
    actor_id=st.sampled_from(ACTORS),
    note=st.sampled_from(["", "误派", "  "]),
    unit_id=st.sampled_from([None, 10, 11]),
    unit_active=st.booleans(),
    assignee_id=st.sampled_from([None, 1, 2]),
    result=st.sampled_from(["", "已修复", " "]),
)


@settings(max_examples=400, deadline=None)
@given(must_tell=st.booleans(), told_at=st.integers(0, 30), sequence=st.lists(moves, max_size=30))
def test_no_sequence_of_moves_reaches_an_inconsistent_ticket(
    must_tell: bool, told_at: int, sequence: list[state.Move]
) -> None:
    ticket = state.Snapshot(must_tell=must_tell)
    history: list[state.Step] = []
    for n, move in enumerate(sequence):
        if n == told_at and ticket.status in ("completed", "audited"):
            ticket = state.Snapshot(**{**ticket.__dict__, "told": True})
        try:
            after, step = state.apply(ticket, move)
        except HotlineError:
            continue  # refused: `ticket` is unchanged (snapshots are frozen)
        assert step.before == ticket.status and step.after == after.status and step.by == move.actor_id
        assert move.action in state.allowed(ticket.status)
        history.append(step)
        ticket = after
        assert state.consistent(ticket) == [], (ticket, history)
    replayed = "new"
    for step in history:
        assert step.before == replayed
        replayed = step.after
    assert replayed == ticket.status


def test_the_processor_is_never_the_auditor_and_nobody_signs_for_a_person() -> None:
    ticket = state.Snapshot()
    for move in (
        state.Move("dispatch", 9, unit_id=1),
        state.Move("process", 1),
        state.Move("complete", 1, result="ok"),
    ):
        ticket, _ = state.apply(ticket, move)
    with pytest.raises(HotlineError) as refused:
        state.apply(ticket, state.Move("audit", 1))
    assert refused.value.code == "ticket-audit-by-processor"
    for unsigned in (state.Move("audit", None), state.Move("send_back", None)):  # found by the property test
        with pytest.raises(HotlineError) as refused:
            state.apply(ticket, unsigned)
        assert (refused.value.code, refused.value.field) == ("ticket-transition-refused", "body.action")
    assert state.apply(ticket, state.Move("audit", 2))[0].status == "audited"


ROLE_OF = {"dispatch": "teamlead", "redispatch": "teamlead", "process": "dept1", "reject": "dept1", "pend": "dept1",  # noqa: E501
           "resume": "dept1", "complete": "dept1", "audit": "supervisor", "send_back": "supervisor",
           "close": "agent1", "reopen": "agent1"}  # fmt: skip
service_moves = st.lists(
    st.tuples(st.sampled_from(list(ROLE_OF)), st.sampled_from(["", "说明"]), st.booleans(), st.booleans()),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=service_moves)
async def test_through_the_service_every_accepted_step_is_logged_and_nothing_half_changes(
    seeded: Context, sequence: list[tuple[str, str, bool, bool]]
) -> None:
    async with seeded.read() as session:
        people = {u.username: u for u in (await session.scalars(select(User))).all()}
        units = {u.code: u.id for u in (await session.scalars(select(Unit))).all()}
    as_ = {name: seeded.as_actor(actor_of(user, "session")) for name, user in people.items()}
    made = await commands.create(as_["agent1"], TicketIn(type_code="complaint", title="property",
                                                        fields={"category": "卫生"}))  # fmt: skip
    accepted = 1
    for action, note, good_unit, with_result in sequence:
        body: dict[str, Any] = {"action": action, "note": note}
        if action in ("dispatch", "redispatch", "reopen"):
            body["unit_id"] = units["workarea-a"] if good_unit else units["old-store"]
        if with_result:
            body["result"] = "已处理"
        if action == "close" and good_unit:
            with contextlib.suppress(HotlineError):
                await complaints.tell_result(as_["agent1"], made.id, "phone", "已电话告知")
        async with seeded.read() as session:
            before = (await session.get(Ticket, made.id), len(await deadlines.steps_of(session, made.id)))
            assert before[0] is not None
            status_before = before[0].status
        try:
            await commands.transition(as_[ROLE_OF[action]], made.id, TicketMoveIn.model_validate(body))
        except HotlineError:
            async with seeded.read() as session:
                row = await session.get(Ticket, made.id)
                assert row is not None and row.status == status_before
                assert len(await deadlines.steps_of(session, made.id)) == before[1]
            continue
        accepted += 1
    async with seeded.read() as session:
        row = await session.get(Ticket, made.id)
        steps = (await session.scalars(select(TicketStep).where(
            TicketStep.ticket_id == made.id, TicketStep.before != TicketStep.after).order_by(TicketStep.id))).all()  # fmt: skip  # noqa: E501
    assert row is not None
    assert len(steps) == accepted  # the creation and one step per accepted move
    assert [s.after for s in steps][-1] == row.status
    snapshot = state.Snapshot(status=row.status, unit_id=row.unit_id, assignee_id=row.assignee_id,
                              processor_id=row.processor_id, auditor_id=row.auditor_id, result=row.result,
                              told=row.told_at is not None, must_tell=True)  # fmt: skip
    assert state.consistent(snapshot) == []
    assert all(s.by is not None for s in steps)
