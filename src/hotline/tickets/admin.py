"""Configuring tickets without code: types and their fields, departments and work areas with their
staff, SLA policies, the business calendar; and each user's saved views. (Canned responses are
notify's canned phrases, offered on tickets: notify/canned.py.)"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select

from hotline.admin import directory
from hotline.core.context import Context
from hotline.core.errors import Conflict, InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.tickets import fields as custom_fields
from hotline.tickets import state
from hotline.tickets.models import (
    CalendarDay,
    SavedView,
    SlaPolicy,
    Ticket,
    TicketType,
    Unit,
    UnitMember,
)
from hotline.tickets.schemas import (
    CalendarDayIn,
    CalendarDayOut,
    MemberOut,
    PolicyIn,
    PolicyOut,
    TypeIn,
    TypeOut,
    UnitIn,
    UnitOut,
    ViewIn,
    ViewOut,
)
from hotline.tickets.staff import present

CONFIGURE = Permission.SETTINGS_WRITE


# ---------------------------------------------------------------- types


async def types(ctx: Context, *, include_inactive: bool = False) -> list[TypeOut]:
    ctx.require(Permission.TICKETS_READ)
    async with ctx.read() as session:
        query = select(TicketType).order_by(TicketType.sort, TicketType.id)
        if not include_inactive:
            query = query.where(TicketType.active.is_(True))
        return [TypeOut.model_validate(t) for t in (await session.scalars(query)).all()]


async def save_type(ctx: Context, data: TypeIn, type_id: int | None = None) -> TypeOut:
    ctx.require(CONFIGURE)
    definitions = custom_fields.check_definitions([f.model_dump() for f in data.fields])
    async with ctx.write() as tx:
        clash = await tx.session.scalar(select(TicketType).where(TicketType.code == data.code))
        if clash is not None and clash.id != type_id:
            raise Conflict(
                f"The type code {data.code} is taken",
                field="body.code",
                reason="type-code-taken",
                params={"code": data.code},
            )
        if type_id is None:
            row = TicketType(code=data.code)
            tx.session.add(row)
        else:
            found = await tx.session.get(TicketType, type_id)
            if found is None:
                raise NotFound(
                    f"No ticket type {type_id}",
                    field="type_id",
                    reason="no-ticket-type",
                    params={"type_id": type_id},
                )
            row = found
        row.code, row.name, row.kind, row.fields = data.code, data.name, data.kind, definitions
        row.default_severity, row.sort, row.active = data.default_severity, data.sort, data.active
        await tx.session.flush()
        return TypeOut.model_validate(row)


# ---------------------------------------------------------------- units


async def units(ctx: Context, *, include_inactive: bool = True) -> list[UnitOut]:
    ctx.require(Permission.TICKETS_READ)
    async with ctx.read() as session:
        query = select(Unit).order_by(Unit.kind, Unit.code)
        if not include_inactive:
            query = query.where(Unit.active.is_(True))
        rows = list((await session.scalars(query)).all())
        links = list(await session.execute(select(UnitMember.unit_id, UnitMember.user_id)))
        user_ids = {uid for _, uid in links}
        people = await directory.people(session, user_ids)
        here = await present(session, user_ids)
        load = dict(list(await session.execute(
            select(Ticket.assignee_id, func.count(Ticket.id))
            .where(Ticket.assignee_id.in_(user_ids), Ticket.status.in_(state.OPEN)).group_by(Ticket.assignee_id)  # noqa: E501
        )))  # fmt: skip
    out = []
    for unit in rows:
        staff = [
            MemberOut(user_id=uid, name=people[uid].name, work_number=people[uid].work_number,
                      present=uid in here, open_tickets=int(load.get(uid, 0)))
            for unit_id, uid in links if unit_id == unit.id and uid in people
        ]  # fmt: skip
        out.append(UnitOut.model_validate(unit).model_copy(update={"members": staff}))
    return out


async def save_unit(ctx: Context, data: UnitIn, unit_id: int | None = None) -> UnitOut:
    ctx.require(CONFIGURE)
    async with ctx.write() as tx:
        clash = await tx.session.scalar(select(Unit).where(Unit.code == data.code))
        if clash is not None and clash.id != unit_id:
            raise Conflict(
                f"The code {data.code} is taken",
                field="body.code",
                reason="code-taken",
                params={"code": data.code},
            )
        if data.parent_id is not None and (
            data.parent_id == unit_id or await tx.session.get(Unit, data.parent_id) is None
        ):
            raise NotFound(
                f"No parent unit {data.parent_id}",
                field="body.parent_id",
                reason="no-parent-unit",
                params={"parent_id": data.parent_id},
            )
        if data.department_id is not None and not await directory.department_exists(
            tx.session, data.department_id
        ):
            raise NotFound(
                f"No department {data.department_id}",
                field="body.department_id",
                reason="no-department",
                params={"department_id": data.department_id},
            )
        wanted = sorted(set(data.members) | ({data.lead_id} if data.lead_id else set()))
        found = await directory.existing(tx.session, wanted)
        missing = [u for u in wanted if u not in found]
        if missing:
            raise NotFound(
                f"No user {missing[0]}",
                field="body.members",
                reason="no-such-user",
                params={"v0": missing[0]},
            )
        if unit_id is None:
            unit = Unit(code=data.code)
            tx.session.add(unit)
        else:
            existing = await tx.session.get(Unit, unit_id)
            if existing is None:
                raise NotFound(
                    f"No department or work area {unit_id}",
                    field="unit_id",
                    reason="no-department-work-area",
                    params={"unit_id": unit_id},
                )
            unit = existing
        for key in ("code", "name", "kind", "parent_id", "department_id", "lead_id", "active", "on_duty",
                    "auto_assign"):  # fmt: skip
            setattr(unit, key, getattr(data, key))
        await tx.session.flush()
        await tx.session.execute(delete(UnitMember).where(UnitMember.unit_id == unit.id))
        for user_id in sorted(set(data.members)):
            tx.session.add(UnitMember(unit_id=unit.id, user_id=user_id))
        saved = unit.id
    return next(u for u in await units(ctx) if u.id == saved)


# ---------------------------------------------------------------- SLA policies and calendar


async def policies(ctx: Context) -> list[PolicyOut]:
    ctx.require(Permission.TICKETS_READ)
    async with ctx.read() as session:
        rows = (
            await session.scalars(select(SlaPolicy).order_by(SlaPolicy.type_id, SlaPolicy.severity))
        ).all()
        return [PolicyOut.model_validate(p) for p in rows]


async def save_policy(ctx: Context, data: PolicyIn) -> PolicyOut:
    """Set the targets for a type (or all types) at a severity; replaces the existing ones."""
    ctx.require(CONFIGURE)
    if data.resolve_minutes < data.response_minutes:
        raise InvalidInput(
            "Resolution cannot be due before the first response",
            field="body.resolve_minutes",
            reason="resolution-cannot-due-before-first",
        )
    async with ctx.write() as tx:
        if data.type_id is not None and await tx.session.get(TicketType, data.type_id) is None:
            raise NotFound(
                f"No ticket type {data.type_id}",
                field="body.type_id",
                reason="no-ticket-type",
                params={"type_id": data.type_id},
            )
        row = await tx.session.scalar(
            select(SlaPolicy).where(SlaPolicy.severity == data.severity,
                                    SlaPolicy.type_id.is_(None) if data.type_id is None
                                    else SlaPolicy.type_id == data.type_id)
        )  # fmt: skip
        if row is None:
            row = SlaPolicy(
                type_id=data.type_id, severity=data.severity, response_minutes=1, resolve_minutes=1
            )
            tx.session.add(row)
        row.response_minutes, row.resolve_minutes = data.response_minutes, data.resolve_minutes
        row.business_hours, row.warn_percent = data.business_hours, data.warn_percent
        await tx.session.flush()
        return PolicyOut.model_validate(row)


async def calendar_days(ctx: Context, year: int) -> list[CalendarDayOut]:
    ctx.require(Permission.TICKETS_READ)
    async with ctx.read() as session:
        rows = (await session.scalars(
            select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))  # noqa: E501
            .order_by(CalendarDay.day)
        )).all()  # fmt: skip
        return [CalendarDayOut.model_validate(d) for d in rows]


async def save_calendar_day(ctx: Context, data: CalendarDayIn) -> CalendarDayOut:
    ctx.require(CONFIGURE)
    async with ctx.write() as tx:
        row = await tx.session.get(CalendarDay, data.day)
        if row is None:
            row = CalendarDay(day=data.day, kind=data.kind)
            tx.session.add(row)
        row.kind, row.name = data.kind, data.name
        await tx.session.flush()
        return CalendarDayOut.model_validate(row)


# ---------------------------------------------------------------- saved views


async def views(ctx: Context) -> list[ViewOut]:
    ctx.require(Permission.TICKETS_READ)
    async with ctx.read() as session:
        rows = (await session.scalars(
            select(SavedView).where(SavedView.user_id == ctx.actor.user_id).order_by(SavedView.id)
        )).all()  # fmt: skip
        return [ViewOut.model_validate(v) for v in rows]


async def save_view(ctx: Context, data: ViewIn) -> ViewOut:
    ctx.require(Permission.TICKETS_READ)
    if ctx.actor.user_id is None:
        raise NotFound("Only people save views", field="user", reason="people-save-views")
    async with ctx.write() as tx:
        row = await tx.session.scalar(
            select(SavedView).where(SavedView.user_id == ctx.actor.user_id, SavedView.name == data.name)
        )
        if row is None:
            row = SavedView(user_id=ctx.actor.user_id, name=data.name)
            tx.session.add(row)
        row.filters = {k: v for k, v in data.filters.items() if v not in (None, "")}
        await tx.session.flush()
        return ViewOut.model_validate(row)


async def delete_view(ctx: Context, view_id: int) -> None:
    ctx.require(Permission.TICKETS_READ)
    async with ctx.write() as tx:
        row = await tx.session.get(SavedView, view_id)
        if row is None or row.user_id != ctx.actor.user_id:
            raise NotFound(
                f"No saved view {view_id}",
                field="view_id",
                reason="no-saved-view",
                params={"view_id": view_id},
            )
        await tx.session.delete(row)
