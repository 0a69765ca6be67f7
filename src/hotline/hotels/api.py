"""Routes for hotels and reservations: availability, booking, the lifecycle, cancel quotes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import IdPath, requires
from hotline.hotels import (
    admin,
    booking,
    frontdesk,
    groups,
    noshow,
    notices,
    payments,
    pms,
    pricing,
    queries,
    reports,
)
from hotline.hotels import (
    availability as offers,
)
from hotline.hotels.schemas import (
    AvailabilityOut,
    BookingIn,
    BookingStats,
    CancelQuote,
    ConfirmationSendIn,
    FrontDesk,
    GroupIn,
    GroupOut,
    HotelDetail,
    HotelIn,
    HotelOut,
    InventoryChange,
    InventoryDay,
    LateOutcomeIn,
    ModifyIn,
    PaperConflict,
    PaymentIn,
    PaymentsOut,
    PmsEventIn,
    PmsEventOut,
    RatePlanIn,
    ReservationDetail,
    ReservationOut,
    RoomingIn,
    RoomTypeIn,
    TransitionIn,
)
from hotline.notify.schemas import MessageOut

router = APIRouter(prefix="/api", tags=["hotels"])
READ = Annotated[Context, Depends(requires(Permission.BOOKINGS_READ))]
WRITE = Annotated[Context, Depends(requires(Permission.BOOKINGS_WRITE))]
ADMIN = Annotated[Context, Depends(requires(Permission.HOTELS_WRITE))]


@router.get("/hotels")
async def list_hotels(ctx: READ, include_closed: bool = False) -> list[HotelOut]:
    """Branches by city; closed ones only when asked (administration)."""
    return [HotelOut.model_validate(h) for h in await queries.hotels(ctx, include_closed=include_closed)]


@router.get("/hotels/availability")
async def availability(
    ctx: READ,
    arrival: date,
    departure: date,
    rooms: Annotated[int, Query(ge=1, le=20)] = 1,
    guests: Annotated[int, Query(ge=1, le=80)] = 1,
    city: Annotated[str | None, Query(max_length=40)] = None,
    hotel_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    tier: Annotated[str | None, Query(pattern="^(standard|silver|gold|platinum)$")] = None,
) -> AvailabilityOut:
    """Rooms left and prices per hotel, room type and rate plan; other branches when it is full."""
    return await offers.availability(
        ctx,
        arrival=arrival,
        departure=departure,
        rooms=rooms,
        guests=guests,
        city=city,
        hotel_id=hotel_id,
        tier=tier,
    )


@router.get("/hotels/{hotel_id}/front-desk")
async def front_desk(
    hotel_id: IdPath,
    ctx: Annotated[Context, Depends(requires(Permission.FRONT_DESK))],
    day: date | None = None,
) -> FrontDesk:
    """Arrivals, in-house guests and departures of a hotel's day (today by default)."""
    return await frontdesk.front_desk(ctx, hotel_id, day)


@router.post("/reservations", status_code=201)
async def book(body: BookingIn, ctx: WRITE) -> ReservationOut:
    """Book rooms; 409 `rooms-sold-out` with `alternatives` when the last room went meanwhile."""
    return await booking.book(ctx, body)


@router.get("/reservations")
async def find(
    ctx: READ,
    number: Annotated[str | None, Query(pattern=r"^[0-9]{8}$")] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    hotel_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    arrival: date | None = None,
) -> list[ReservationOut]:
    return await queries.find(ctx, number=number, customer_id=customer_id, hotel_id=hotel_id, arrival=arrival)


@router.get("/reservations/statistics")
async def statistics(ctx: READ, days: Annotated[int, Query(ge=1, le=366)] = 30) -> BookingStats:
    """Bookings per day, by source and by hotel, cancellation rate and revenue (H11)."""
    return await reports.statistics(ctx, days=days)


@router.get("/reservations/conflicts")
async def conflicts(ctx: READ) -> list[PaperConflict]:
    """Paper bookings entered after an outage whose rooms were sold meanwhile (X4): each with its
    short nights, the later bookings holding them and alternatives. Resolve with `retry`, a
    modify (other dates or room type) or a cancel (no fee)."""
    return await queries.conflicts(ctx)


@router.get("/reservations/{reservation_id}")
async def get(reservation_id: IdPath, ctx: READ) -> ReservationDetail:
    """The reservation, its history (who, when) and what the customer was told."""
    return await queries.get(ctx, reservation_id)


@router.get("/reservations/{reservation_id}/cancel-quote")
async def cancel_quote(reservation_id: IdPath, ctx: READ) -> CancelQuote:
    """What cancelling now costs under the rate plan's policy (shown before confirming)."""
    return await pricing.quote_cancel(ctx, reservation_id)


@router.post("/reservations/{reservation_id}/transition")
async def transition(reservation_id: IdPath, body: TransitionIn, ctx: WRITE) -> ReservationOut:
    """confirm, check_in, check_out, no_show, cancel (with the policy's fee); 409 when the state
    does not allow it."""
    return await booking.transition(ctx, reservation_id, body.action, note=body.note)


@router.post("/reservations/{reservation_id}/confirmation", status_code=201)
async def send_confirmation(
    reservation_id: IdPath,
    body: ConfirmationSendIn,
    ctx: Annotated[Context, Depends(requires(Permission.MESSAGES_SEND))],
) -> MessageOut:
    """Send the confirmation by SMS (to the guest) or e-mail (to the booker) now; 422 naming
    `channel` when there is no valid phone or e-mail, 409 unless it is confirmed."""
    return await notices.send_confirmation(ctx, reservation_id, body.channel)


@router.patch("/reservations/{reservation_id}")
async def modify(reservation_id: IdPath, body: ModifyIn, ctx: WRITE) -> ReservationOut:
    """New dates, room type or count; 409 `rooms-sold-out` (nothing changed) if it no longer fits."""
    return await booking.modify(ctx, reservation_id, body)


@router.get("/reservations/{reservation_id}/payments")
async def get_payments(reservation_id: IdPath, ctx: READ) -> PaymentsOut:
    """The payments ledger with each line's receipt; paid is the ledger's sum, balance what is due."""
    return await payments.ledger(ctx, reservation_id)


@router.post("/reservations/{reservation_id}/payments", status_code=201)
async def pay(
    reservation_id: IdPath,
    body: PaymentIn,
    ctx: Annotated[Context, Depends(requires(Permission.PAYMENTS_WRITE))],
) -> PaymentsOut:
    """Record money received (deposit, prepayment, balance) or refunded; audited."""
    return await payments.pay(ctx, reservation_id, body)


@router.post("/reservations/{reservation_id}/late-outcome")
async def late_outcome(reservation_id: IdPath, body: LateOutcomeIn, ctx: WRITE) -> ReservationOut:
    """What a late guest said when called (H9): delayed with a new arrival time, cancelled under
    the policy, or unreachable (an SMS asks them to call); the call task closes."""
    return await noshow.outcome(ctx, reservation_id, body)


@router.post("/groups", status_code=201)
async def create_group(body: GroupIn, ctx: WRITE) -> GroupOut:
    """Hold a block of rooms for a group (H4); 409 `rooms-sold-out` at the line that does not fit."""
    return await groups.create(ctx, body)


@router.get("/groups")
async def list_groups(
    ctx: READ, hotel_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
) -> list[GroupOut]:
    """Group blocks still to come or in house, soonest first."""
    return await groups.find(ctx, hotel_id=hotel_id)


@router.get("/groups/{block_id}")
async def get_group(block_id: IdPath, ctx: READ) -> GroupOut:
    return await groups.get(ctx, block_id)


@router.put("/groups/{block_id}/rooming-list")
async def rooming_list(block_id: IdPath, body: RoomingIn, ctx: WRITE) -> GroupOut:
    """Name the guests of the block's rooms; names may come until the release date."""
    return await groups.rooming_list(ctx, block_id, body)


@router.post("/groups/{block_id}/cancel")
async def cancel_group(block_id: IdPath, ctx: WRITE) -> GroupOut:
    """All the block's rooms go back on sale."""
    return await groups.cancel(ctx, block_id)


@router.post("/pms/events")
async def pms_event(body: PmsEventIn, ctx: WRITE) -> PmsEventOut:
    """A hotel PMS posts arrivals and departures (with an API token of a front-desk account);
    idempotent by `event_id`: a repeat changes nothing and says so."""
    return await pms.receive(ctx, body)


@router.post("/hotels", status_code=201)
async def create_hotel(body: HotelIn, ctx: ADMIN) -> HotelDetail:
    """Open a branch (then add its room types and rate plans)."""
    return await admin.save_hotel(ctx, body)


@router.get("/hotels/{hotel_id}")
async def hotel_detail(hotel_id: IdPath, ctx: READ) -> HotelDetail:
    """A branch with its room types and rate plans (policy windows included)."""
    return await admin.detail(ctx, hotel_id)


@router.put("/hotels/{hotel_id}")
async def update_hotel(hotel_id: IdPath, body: HotelIn, ctx: ADMIN) -> HotelDetail:
    return await admin.save_hotel(ctx, body, hotel_id)


@router.post("/hotels/{hotel_id}/room-types", status_code=201)
async def create_room_type(hotel_id: IdPath, body: RoomTypeIn, ctx: ADMIN) -> HotelDetail:
    """A new room type with `rooms` rooms at `price` a night opened for `days` nights."""
    return await admin.save_room_type(ctx, hotel_id, body)


@router.put("/hotels/{hotel_id}/room-types/{room_type_id}")
async def update_room_type(
    hotel_id: IdPath, room_type_id: IdPath, body: RoomTypeIn, ctx: ADMIN
) -> HotelDetail:
    return await admin.save_room_type(ctx, hotel_id, body, room_type_id)


@router.post("/hotels/{hotel_id}/rate-plans", status_code=201)
async def create_rate_plan(hotel_id: IdPath, body: RatePlanIn, ctx: ADMIN) -> HotelDetail:
    """A rate plan with its change/cancel policy windows (H7)."""
    return await admin.save_rate_plan(ctx, hotel_id, body)


@router.put("/hotels/{hotel_id}/rate-plans/{rate_plan_id}")
async def update_rate_plan(
    hotel_id: IdPath, rate_plan_id: IdPath, body: RatePlanIn, ctx: ADMIN
) -> HotelDetail:
    return await admin.save_rate_plan(ctx, hotel_id, body, rate_plan_id)


@router.get("/room-types/{room_type_id}/inventory")
async def get_inventory(room_type_id: IdPath, first: date, last: date, ctx: READ) -> list[InventoryDay]:
    """Rooms, sold, held (groups), out of order, closed and rack price per night."""
    return await admin.inventory(ctx, room_type_id, first, last)


@router.put("/room-types/{room_type_id}/inventory")
async def change_inventory(room_type_id: IdPath, body: InventoryChange, ctx: ADMIN) -> list[InventoryDay]:
    """Set rooms, out of order, closed or the price over a range of nights (some weekdays only if
    given); 409 `rooms-still-sold` naming the nights where fewer rooms would remain than are sold."""
    return await admin.change_inventory(ctx, room_type_id, body)
