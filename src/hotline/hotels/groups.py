"""Group reservations (团单, H4): a block of rooms of several types over the group's nights.

The block holds its rooms in the inventory (`held`, with the same guarded statement bookings use,
so a block never takes rooms that are not there, and individual bookings cannot take the group's).
The rooming list names guests later. On the release date's end, rooms still without a name go
back on sale (the daily job `hotels.release_groups`); named rooms stay held for the group. The
block's lifecycle (held, released, cancelled) is `state.GROUP`.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core import privacy
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.db import next_number
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.hotels import state
from hotline.hotels.availability import check_dates
from hotline.hotels.inventory import RoomsSoldOut, give_back, take_rooms
from hotline.hotels.models import GroupBlock, GroupRoom, Hotel, RoomType
from hotline.hotels.schemas import GroupIn, GroupOut, GroupRoomOut, RoomingIn

FIRST_NUMBER = 70_000_001
REVEALABLE = privacy.revealable("group", GroupBlock, Permission.BOOKINGS_READ)
"""A group block's contact phone may be revealed (core/privacy.py)."""


def _nights(block: GroupBlock) -> list[date]:
    return [block.arrival + timedelta(days=n) for n in range((block.departure - block.arrival).days)]


async def _out(session: AsyncSession, block: GroupBlock, ctx: Context) -> GroupOut:
    rooms = (
        await session.scalars(select(GroupRoom).where(GroupRoom.block_id == block.id).order_by(GroupRoom.id))
    ).all()
    return GroupOut.model_validate(block).model_copy(
        update={
            "rooms": [GroupRoomOut.model_validate(r) for r in rooms],
            "actions": state.actions(state.GROUP, block.status, ctx.actor),
        }
    )


async def create(ctx: Context, data: GroupIn) -> GroupOut:
    ctx.require(Permission.BOOKINGS_WRITE)
    async with ctx.read() as session:
        hotel = await session.get(Hotel, data.hotel_id)
        types = {
            t.id: t
            for t in (await session.scalars(select(RoomType).where(RoomType.hotel_id == data.hotel_id))).all()
        }
    if hotel is None:
        raise NotFound(
            f"No hotel {data.hotel_id}",
            field="body.hotel_id",
            reason="no-hotel",
            params={"hotel_id": data.hotel_id},
        )
    today = utcnow().astimezone(ZoneInfo(hotel.timezone)).date()
    check_dates(data.arrival, data.departure, today)
    if not today <= data.release_on <= data.arrival:
        raise InvalidInput(
            "The release date is between today and the arrival",
            field="body.release_on",
            reason="release-date-between-today-arrival",
        )
    for n, line in enumerate(data.rooms):
        if line.room_type_id not in types:
            raise InvalidInput(
                "That room type is not one of this hotel's",
                field=f"body.rooms.{n}.room_type_id",
                reason="room-type-not-one-hotel",
            )
    async with ctx.write() as tx:
        block = GroupBlock(
            number=str(await next_number(tx.session, GroupBlock.number, FIRST_NUMBER)),
            hotel_id=hotel.id,
            name=data.name,
            contact_name=data.contact_name,
            contact_phone=data.contact_phone,
            customer_id=data.customer_id,
            arrival=data.arrival,
            departure=data.departure,
            release_on=data.release_on,
            deposit=data.deposit,
            created_by=ctx.actor.user_id,
        )
        tx.session.add(block)
        await tx.session.flush()
        for n, line in enumerate(data.rooms):
            if not await take_rooms(tx.session, line.room_type_id, _nights(block), line.count, as_held=True):
                room_type = types[line.room_type_id]
                raise RoomsSoldOut(
                    f"Not {line.count} × {room_type.name} free on every night",
                    field=f"body.rooms.{n}.count",
                    reason="not-free-every-night",
                    params={"count": line.count, "name": room_type.name},
                )
            tx.session.add_all(
                GroupRoom(block_id=block.id, room_type_id=line.room_type_id) for _ in range(line.count)
            )
        await tx.session.flush()
        return await _out(tx.session, block, ctx)


async def get(ctx: Context, block_id: int) -> GroupOut:
    ctx.require(Permission.BOOKINGS_READ)
    async with ctx.read() as session:
        block = await get_or_404(session, GroupBlock, block_id, "group", field="block_id")
        return await _out(session, block, ctx)


async def find(ctx: Context, *, hotel_id: int | None = None, limit: int = 100) -> list[GroupOut]:
    """Blocks arriving from yesterday on (the ones still being worked), soonest first."""
    ctx.require(Permission.BOOKINGS_READ)
    since = utcnow().date() - timedelta(days=1)
    query = select(GroupBlock).where(GroupBlock.departure >= since).order_by(GroupBlock.arrival).limit(limit)
    if hotel_id is not None:
        query = query.where(GroupBlock.hotel_id == hotel_id)
    async with ctx.read() as session:
        return [await _out(session, block, ctx) for block in (await session.scalars(query)).all()]


async def rooming_list(ctx: Context, block_id: int, data: RoomingIn) -> GroupOut:
    """Name the guests of the block's rooms (names may come late, until the rooms are released)."""
    ctx.require(Permission.BOOKINGS_WRITE)
    async with ctx.write() as tx:
        block = await get_or_404(tx.session, GroupBlock, block_id, "group", field="block_id", for_update=True)
        state.GROUP.check(block.status, "rooming", state.who(ctx.actor))
        rooms = {
            r.id: r
            for r in (await tx.session.scalars(select(GroupRoom).where(GroupRoom.block_id == block.id))).all()
        }
        for n, entry in enumerate(data.rooms):
            room = rooms.get(entry.room_id)
            if room is None:
                raise InvalidInput(
                    "No such room in this group", field=f"body.rooms.{n}.room_id", reason="no-such-room-group"
                )
            if room.released:
                raise InvalidInput(
                    "This room was released on the release date",
                    field=f"body.rooms.{n}.room_id",
                    reason="room-was-released-release-date",
                )
            room.guest_name = entry.guest_name
        await tx.session.flush()
        return await _out(tx.session, block, ctx)


async def release(ctx: Context, *, today: date | None = None) -> int:
    """Rooms without a name in blocks whose release date has passed go back on sale; returns how
    many rooms were released."""
    released = 0
    async with ctx.write() as tx:
        blocks = (await tx.session.scalars(select(GroupBlock).where(GroupBlock.status == "held"))).all()
        for block in blocks:
            hotel = await tx.session.get(Hotel, block.hotel_id)
            local = (
                today or utcnow().astimezone(ZoneInfo(hotel.timezone if hotel else "Asia/Shanghai")).date()
            )
            if local <= block.release_on:
                continue
            unnamed = select(GroupRoom).where(
                GroupRoom.block_id == block.id, GroupRoom.guest_name == "", GroupRoom.released.is_(False)
            )
            rooms = (await tx.session.scalars(unnamed)).all()
            by_type: dict[int, int] = {}
            for room in rooms:
                room.released = True
                by_type[room.room_type_id] = by_type.get(room.room_type_id, 0) + 1
            nights = [n for n in _nights(block) if n >= local]
            for room_type_id, count in by_type.items():
                await give_back(tx.session, room_type_id, nights, count, as_held=True)
            block.status = state.GROUP.apply(block.status, "release", state.who(ctx.actor)).after
            released += len(rooms)
    return released


async def cancel(ctx: Context, block_id: int) -> GroupOut:
    ctx.require(Permission.BOOKINGS_WRITE)
    async with ctx.write() as tx:
        block = await get_or_404(tx.session, GroupBlock, block_id, "group", field="block_id", for_update=True)
        step = state.GROUP.apply(block.status, "cancel", state.who(ctx.actor))
        held = select(GroupRoom).where(GroupRoom.block_id == block.id, GroupRoom.released.is_(False))
        rooms = (await tx.session.scalars(held)).all()
        by_type: dict[int, int] = {}
        for room in rooms:
            room.released = True
            by_type[room.room_type_id] = by_type.get(room.room_type_id, 0) + 1
        for room_type_id, count in by_type.items():
            await give_back(tx.session, room_type_id, _nights(block), count, as_held=True)
        block.status = step.after
        await tx.session.flush()
        return await _out(tx.session, block, ctx)
