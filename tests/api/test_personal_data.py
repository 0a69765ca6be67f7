"""Personal data leaves the API masked, for every role, on every route that reads (SPEC C6, X6).

The walk signs in as each demo role and GETs every route of the app with real ids from the demo
data, and fails on any response that holds a full phone, ID number, e-mail address, street address
or birthday of a customer, guest or contact (all of them read from the database first). A new
route is walked without anyone adding it here; a route the walk cannot fill in must be listed in
SKIPPED with the reason.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from openpyxl import load_workbook
from sqlalchemy import select

from hotline import demo
from hotline.admin.models import User
from hotline.contact import callbacks
from hotline.contact.metrics import CallEvent
from hotline.contact.models import CallbackTask, ContactEvent
from hotline.core.audit import AuditEntry
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.crm.models import Customer, CustomerPhone
from hotline.hotels import demo as hotels_demo
from hotline.hotels.models import GroupBlock, Reservation
from hotline.knowledge.models import Article
from hotline.notify import service as notify
from hotline.notify.models import Conversation, Message
from hotline.notify.schemas import SendIn
from hotline.outbound.models import Campaign, Target
from hotline.quality.recordings import demo as recordings_demo
from hotline.quality.recordings.models import Recording
from hotline.quality.reviews.models import CalibrationSession, Evaluation, Playlist, Scorecard
from hotline.quality.speech import demo as speech_demo
from hotline.reports.custom.models import CustomReport
from hotline.telephony.models import Prompt
from hotline.tickets import demo as tickets_demo
from hotline.tickets.models import Ticket, Unit
from hotline.travel.models import Order, Route
from tests.api.test_route_permissions import walk
from tests.conftest import Users, assert_problem

ROLES = ("admin", "supervisor", "teamlead", "agent1", "planner", "frontdesk", "finance", "qa", "dept1")

SKIPPED = {
    "/{path:path}": "the web UI's files and client-side routes (no data; /api/… paths are 404 there)",
    "/api/quality/media/{token}": "a signed link's WAV or waveform peaks: audio, no text (tests/quality)",
    "/api/exports/{export_id}": "the demo has no export; a job's row holds no personal data (tests/exports)",
    "/api/outbound/surveys/{token}": "a survey link's questions, no person in them; only the SMS holds"
    " the token (tests/outbound/test_surveys.py)",
    "/api/exports/{export_id}/file": "an export file, masked by role: tests/exports reads it with openpyxl",
    "/api/chat/state": "a web chat as its visitor sees it, by the visitor's token (no staff role reads it):"
    " the visitor's own texts and the agents' names; tests/notify/test_webchat.py reads it",
    "/api/chat/files/{file_id}": "an image or PDF of a web chat, by its visitor's token: bytes, no text of"
    " ours (tests/notify/test_chat_files.py)",
    "/api/notify/conversations/{conversation_id}/files/{file_id}": "an image or PDF a web chat carries, as"
    " sent: bytes, no text of ours (tests/notify/test_chat_files.py)",
}
"""GET routes the walk does not call, and why. Anything else is walked."""

ANSWERS = {
    "/api/routing/me": {404: "admin and the team lead have no extension to take calls on"},
    # route: {status: why that status is right for some roles}; 200 and 403 are always fine.
    "/api/notify/dlr/kannel": {422: "Kannel's delivery report: the walk sends none of its fields"},
    "/api/notify/mo/kannel": {422: "a customer's SMS from Kannel: the walk sends none of its fields"},
    "/api/quality/my/evaluations/{evaluation_id}": {404: "agent1's evaluation: nobody else's own"},
}

CALL_ID = "walk-call-1"


@dataclass
class World:
    ids: dict[str, int | str]
    arrival: date
    """The demo customer's reservation's arrival: the front desk's day that shows him."""
    secrets: dict[str, str] = field(default_factory=dict)
    """Each full value that no view may show → what it is (for the failure message)."""
    _any: tuple[int, re.Pattern[str]] | None = None

    def leaks(self, text: str) -> list[str]:
        # One pass of a compiled alternation finds the (rare) texts worth the exact per-value check;
        # a substring search per value over every answer held the test's event loop for 0.3 s.
        if self._any is None or self._any[0] != len(self.secrets):
            self._any = (len(self.secrets), re.compile("|".join(map(re.escape, self.secrets))))
        if not self._any[1].search(text):
            return []
        return [f"{what} {value}" for value, what in self.secrets.items() if value in text]


def _digits(phone: str) -> str:
    return (
        re.sub(r"\D", "", phone).removeprefix("86") if phone.startswith("+86") else re.sub(r"\D", "", phone)
    )


async def _arrange(ctx: Context) -> World:
    """The demo plus what it lacks for the walk: more customers, a day of tickets and bookings, a
    call in the log, callback tasks and a message in the outbox."""
    await demo.load_customers(ctx, 25)
    await tickets_demo.load_tickets(ctx, 12)
    await hotels_demo.load_reservations(ctx, 20)
    async with ctx.read() as session:
        zhang = await session.scalar(select(Customer).where(Customer.member_number == "88000001"))
        agent3 = await session.scalar(select(User.id).where(User.username == "agent3"))
    assert zhang is not None
    async with ctx.write() as tx:
        now = utcnow()
        for kind, detail, agent in (
            ("arrived", "13800138000 → 4008001000", None),
            ("queued", "", None),
            ("answered", "", agent3),
            ("ended", "", agent3),
        ):
            tx.session.add(ContactEvent(at=now, kind=kind, call_id=CALL_ID, agent_id=agent, queue="hotel",
                                        state="", detail=detail))  # fmt: skip
        tx.session.add(ContactEvent(at=now, kind="arrived", call_id="walk-call-2", queue="hotel", state="",
                                    detail="13912345678 → 4008001000"))  # fmt: skip
        tx.session.add(ContactEvent(at=now, kind="callback", call_id="walk-call-2", queue="hotel", state="",
                                    detail="13912345678"))  # fmt: skip
    await callbacks.missed_call(ctx, CallEvent(0, "walk-call-2", "abandoned", "hotel", caller="13912345678"))
    await notify.send(ctx, SendIn(template_code="customer.care.sms", customer_id=zhang.id))
    await recordings_demo.load(ctx)  # recorded calls of 张伟 and others, indexed
    await speech_demo.load(ctx)  # their transcripts: 张伟 says his mobile number in one

    async with ctx.read() as session:
        reservation = await session.scalar(select(Reservation).where(Reservation.customer_id == zhang.id))
        order = await session.scalar(select(Order).where(Order.customer_id == zhang.id))
        ticket = await session.scalar(select(Ticket).where(Ticket.customer_id == zhang.id))
        assert reservation is not None and order is not None and ticket is not None
        ids: dict[str, int | str] = {
            "customer_id": zhang.id, "member_number": zhang.member_number, "reservation_id": reservation.id,
            "hotel_id": reservation.hotel_id,
            "room_type_id": reservation.room_type_id, "order_id": order.id, "ticket_id": ticket.id,
            "block_id": int(await session.scalar(select(GroupBlock.id).limit(1)) or 0),
            "unit_id": int(await session.scalar(select(Unit.id).limit(1)) or 0),
            "route_id": int(await session.scalar(select(Route.id).limit(1)) or 0),
            "article_id": int(await session.scalar(select(Article.id).limit(1)) or 0),
            "prompt_id": int(await session.scalar(select(Prompt.id).limit(1)) or 0),
            "user_id": int(await session.scalar(select(User.id).where(User.username == "agent1")) or 0),
            "report_id": int(await session.scalar(select(CustomReport.id).limit(1)) or 0),
            "recording_id": int(await session.scalar(select(Recording.id).limit(1)) or 0),
            "call_id": CALL_ID, "name": "hotel", "caller_class": "known",
            "scorecard_id": int(await session.scalar(select(Scorecard.id).limit(1)) or 0),
            "evaluation_id": int(await session.scalar(
                select(Evaluation.id).where(Evaluation.status == "final").limit(1)) or 0),
            "session_id": int(await session.scalar(select(CalibrationSession.id).limit(1)) or 0),
            "playlist_id": int(await session.scalar(select(Playlist.id).limit(1)) or 0),
            "campaign_id": int(await session.scalar(
                select(Campaign.id).where(Campaign.code == "stay-return")) or 0),
            "target_id": int(await session.scalar(
                select(Target.id).where(Target.customer_id == zhang.id)) or 0),
            "conversation_id": int(await session.scalar(
                select(Conversation.id).where(Conversation.customer_id == zhang.id)) or 0),
        }  # fmt: skip
        world = World(ids, arrival=reservation.arrival)
        phones = [
            *(await session.scalars(select(CustomerPhone.number))).all(),
            *(await session.scalars(select(Reservation.guest_phone))).all(),
            *(await session.scalars(select(GroupBlock.contact_phone))).all(),
            *(await session.scalars(select(Order.contact_phone))).all(),
            *(await session.scalars(select(Ticket.phone))).all(),
            *(await session.scalars(select(CallbackTask.phone))).all(),
            *(await session.scalars(select(Message.recipient).where(Message.channel == "sms"))).all(),
            *(await session.scalars(select(Conversation.address))).all(),
        ]
        for phone in phones:
            if len(_digits(phone)) >= 7:
                world.secrets[_digits(phone)] = "phone"
        for customer in (await session.scalars(select(Customer))).all():
            if customer.id_number:
                world.secrets[customer.id_number] = "ID number"
            if customer.email:
                world.secrets[customer.email] = "e-mail"
            if customer.address:
                world.secrets[customer.address] = "address"
            if customer.birthday:
                world.secrets[customer.birthday.isoformat()] = "birthday"
        for email in (await session.scalars(select(Ticket.email).where(Ticket.email != ""))).all():
            world.secrets[email] = "e-mail"
    assert "13800138000" in world.secrets and "310104198503121235" in world.secrets
    assert len(world.secrets) > 100
    return world


def _queries(world: World) -> dict[str, list[dict[str, Any]]]:
    """What each route is called with: its required query, then variants worth walking too."""
    today = utcnow().date()
    soon = {"first": today.isoformat(), "last": (today + timedelta(days=30)).isoformat()}
    stay = {"arrival": (today + timedelta(days=10)).isoformat(),
            "departure": (today + timedelta(days=12)).isoformat()}  # fmt: skip
    return {
        "/api/customers": [{"q": "张伟"}, {"q": "13800138000"}, {"q": "310104198503121235"}],
        "/api/customers/identify": [{"phone": "13800138000"}],
        "/api/customers/export": [{}, {"format": "xlsx"}],
        "/api/hotels/availability": [stay | {"hotel_id": world.ids["hotel_id"]}],
        "/api/hotels/{hotel_id}/front-desk": [{}, {"day": world.arrival.isoformat()}],
        "/api/travel/departures": [soon],
        "/api/room-types/{room_type_id}/inventory": [soon],
        "/api/travel/reports/money": [soon],
        "/api/travel/reports/performance": [soon],
        **{
            f"/api/reports/{subject}": [
                {"start": (today - timedelta(days=30)).isoformat(), "end": soon["last"], "compare": "year"}
            ]
            for subject in (
                "tickets",
                "bookings",
                "orders",
                "messages",
                "surveys",
                "queues",
                "agents",
                "ivr",
                "chats",
            )
        },
        "/api/reports/assessment": [{"month": today.strftime("%Y-%m")}],
        "/api/tickets/status": [{"member_number": "88000001"}, {"phone": "13800138000"}],
        "/api/reservations": [{}, {"customer_id": world.ids["customer_id"]}],
        "/api/routing/callbacks": [{}, {"status": "done"}],
        "/api/tickets": [{}, {"q": "张伟"}],
        "/api/travel/orders": [{}, {"q": "张伟"}],
        "/api/audit": [{}, {"limit": 500}],
        "/api/quality/recordings": [{}, {"number": "8000"}, {"customer_id": world.ids["customer_id"]}],
        "/api/quality/long-calls": [{"month": today.isoformat()}],
        "/api/quality/figures/agents": [
            {
                "from": (today - timedelta(days=30)).isoformat() + "T00:00:00+08:00",
                "to": soon["last"] + "T00:00:00+08:00",
            }
        ],
        "/api/quality/my/figures": [
            {
                "from": (today - timedelta(days=30)).isoformat() + "T00:00:00+08:00",
                "to": soon["last"] + "T00:00:00+08:00",
            }
        ],
    }


def _get_routes(app: FastAPI) -> list[str]:
    return sorted(
        route.path for route in walk(app.routes)
        if isinstance(route, APIRoute) and "GET" in route.methods and route.path not in SKIPPED
    )  # fmt: skip


def _url(path: str, ids: dict[str, int | str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"no demo id for {{{name}}} in {path}: add it to the walk or to SKIPPED"
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", fill, path)


def _texts(response: httpx.Response) -> list[str]:
    """Every string a reader could see in the response."""
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        found: list[str] = []

        def collect(value: Any) -> None:
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, dict):
                for key, item in value.items():
                    found.append(str(key))
                    collect(item)
            elif isinstance(value, list):
                for item in value:
                    collect(item)
            elif value is not None:
                found.append(str(value))

        collect(response.json())
        return found
    if "spreadsheetml" in kind:
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        return [str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                for cell in row if cell is not None]  # fmt: skip
    if kind.startswith("text/"):
        return [response.text]
    return []  # PDFs and audio: the documents' test checks what they carry


async def test_every_role_sees_personal_data_masked_on_every_get_route(
    app: FastAPI, users: Users, seeded: Context
) -> None:
    world = await _arrange(seeded)
    queries = _queries(world)
    routes = _get_routes(app)
    assert len(routes) > 80
    problems: list[str] = []
    answered: dict[str, set[int]] = {}
    for username in ROLES:
        http = await users(username)
        for path in routes:
            url = _url(path, world.ids)
            for params in queries.get(path, [{}]):
                response = await http.get(url, params=params)
                status = response.status_code
                answered.setdefault(path, set()).add(status)
                if status not in (200, 403) and status not in ANSWERS.get(path, {}):
                    problems.append(f"{username} GET {url} {params}: {status} {response.text[:200]}")
                for text in _texts(response):
                    for leak in world.leaks(text):
                        problems.append(f"{username} GET {url} {params} shows {leak}")
    assert problems == [], "\n".join(sorted(set(problems)))
    never = sorted(path for path, statuses in answered.items() if 200 not in statuses)
    # Kannel's callbacks carry none of their fields; WeChat's and WeCom's URL checks: none connected
    assert never == [
        "/api/notify/dlr/kannel",
        "/api/notify/mo/kannel",
        "/api/notify/wechat",
        "/api/notify/wecom",
    ], (  # fmt: skip
        "routes the walk never read data from"
    )


async def test_an_export_with_personal_data_is_for_roles_that_may_reveal_and_is_audited(
    users: Users, seeded: Context
) -> None:
    world = await _arrange(seeded)
    supervisor, agent = await users("supervisor"), await users("agent1")
    full = await supervisor.get("/api/customers/export", params={"include_pii": "true"})
    assert full.status_code == 200
    assert world.leaks(full.text), "the supervisor asked for the personal data and gets it"
    assert_problem(await agent.get("/api/customers/export", params={"include_pii": "true"}), 403,
                   "permission-denied")  # fmt: skip
    async with seeded.read() as session:
        exports = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "customers.exported").order_by(AuditEntry.seq)
            )
        ).all()
    assert [e.after["pii"] for e in exports if e.after] == [True]


def test_the_walk_can_read_what_it_searches() -> None:
    """The walk's own parts: a JSON body's strings are all searched (keys and nested values)."""
    body = {"items": [{"guest": {"phone": "13800138000"}}], "13900000000": 1}
    response = httpx.Response(
        200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    world = World({}, utcnow().date(), {"13800138000": "phone", "13900000000": "phone"})
    assert sorted(leak for text in _texts(response) for leak in world.leaks(text)) == [
        "phone 13800138000",
        "phone 13900000000",
    ]


FRONT_DESK = {"admin", "supervisor", "frontdesk"}
"""Who opens a hotel's front-desk view (docs/security.md): the front desk checks guests in and out;
supervisors and admins oversee it. Agents, planners, finance, QA and work areas have no use for it."""


async def test_only_the_front_desk_and_supervisors_open_a_hotels_front_desk(
    users: Users, seeded: Context
) -> None:
    async with seeded.read() as session:
        hotel_id = await session.scalar(select(Reservation.hotel_id).limit(1))
    for username in ROLES:
        http = await users(username)
        response = await http.get(f"/api/hotels/{hotel_id}/front-desk")
        if username in FRONT_DESK:
            assert response.status_code == 200, (username, response.text)
        else:
            assert_problem(response, 403, "permission-denied")


async def test_a_reveal_shows_one_field_to_the_roles_that_may_and_is_audited(
    users: Users, seeded: Context
) -> None:
    async with seeded.read() as session:
        reservation = await session.scalar(
            select(Reservation).where(Reservation.guest_phone == "13800138000")
        )
        order = await session.scalar(select(Order).where(Order.contact_phone == "13800138000"))
        ticket = await session.scalar(select(Ticket).where(Ticket.phone != "").limit(1))
    assert reservation is not None and order is not None and ticket is not None
    frontdesk, planner = await users("frontdesk"), await users("planner")
    shown = await frontdesk.post("/api/reveal", json={"entity": "reservation", "id": reservation.id,
                                                       "field": "guest_phone"})  # fmt: skip
    assert shown.status_code == 200, shown.text
    assert shown.json()["value"] == "13800138000"
    on_order = await planner.post("/api/reveal", json={"entity": "travel_order", "id": order.id,
                                                        "field": "contact_phone"})  # fmt: skip
    assert on_order.json()["value"] == "13800138000"
    for username in ("agent1", "finance", "qa", "dept1"):
        denied = await (await users(username)).post(
            "/api/reveal", json={"entity": "ticket", "id": ticket.id, "field": "phone"}
        )
        assert_problem(denied, 403, "permission-denied")
    # a planner may reveal, but not on a record their role cannot read
    assert_problem(await planner.post("/api/reveal", json={"entity": "callback", "id": 1, "field": "phone"}),
                   403, "permission-denied")  # fmt: skip
    bad = {"entity": "reservation", "id": reservation.id, "field": "guest_name"}
    assert_problem(await frontdesk.post("/api/reveal", json=bad), 422, "invalid-input", "body.field")
    bad = {"entity": "hotel", "id": reservation.hotel_id, "field": "phone"}
    assert_problem(await frontdesk.post("/api/reveal", json=bad), 422, "invalid-input", "body.entity")
    missing = {"entity": "reservation", "id": 999_999, "field": "guest_phone"}
    assert_problem(await frontdesk.post("/api/reveal", json=missing), 404, "not-found", "body.id")
    async with seeded.read() as session:
        reveals = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("%.revealed")).order_by(AuditEntry.seq)
            )
        ).all()
    assert [(r.actor_name, r.action, r.entity_id, (r.after or {})["field"]) for r in reveals] == [
        ("frontdesk", "reservation.revealed", str(reservation.id), "guest_phone"),
        ("planner", "travel_order.revealed", str(order.id), "contact_phone"),
    ]


async def test_the_contract_carries_the_real_phone_only_when_printed_by_a_role_that_may_reveal(
    seeded: Context,
) -> None:
    from hotline.core.context import Actor
    from hotline.core.permissions import permissions_for
    from hotline.travel import documents

    async with seeded.read() as session:
        order = await session.scalar(select(Order).where(Order.contact_phone == "13800138000"))
    assert order is not None

    def actor(role: str) -> Actor:
        return Actor(1, role, frozenset({role}), permissions_for({role}))

    signed = "\n".join(documents.parties(actor("front_desk"), order))
    copy = "\n".join(documents.parties(actor("agent"), order))
    assert "13800138000" in signed and "副本" not in signed
    assert "13800138000" not in copy and "138****8000" in copy and "副本" in copy
