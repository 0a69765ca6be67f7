"""Tickets in bulk for the exports' tests: rows straight into the table (the ticket services would
take minutes for 100,000), as the demo's ticket types and units leave them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from hotline.core.context import Context
from hotline.tickets.models import Ticket, TicketType

START = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
"""00:30 on 2 March in Shanghai: a date that moves with the time zone."""


async def add_tickets(ctx: Context, count: int, *, first: int = 1) -> None:
    async with ctx.db.write() as session:
        type_id = (await session.scalars(select(TicketType.id).order_by(TicketType.id))).first()
        assert type_id is not None
        for at in range(first, first + count, 5000):
            await session.execute(
                insert(Ticket),
                [
                    {"number": f"X{n:08d}", "type_id": type_id, "title": f"房间空调不制冷 {n}",
                     "contact_name": "张伟", "phone": f"+86138{n:08d}", "email": f"guest{n}@example.cn",
                     "severity": "critical" if n % 10 == 0 else "normal", "priority": 1 + n % 3,
                     "created_at": START + timedelta(minutes=n), "reopened": n % 2}
                    for n in range(at, min(at + 5000, first + count))
                ],
            )  # fmt: skip
