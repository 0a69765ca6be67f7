"""What the availability search answers (H2): offers per hotel, room type and rate plan, the same
grouped for the booking desk, and the other branches to offer when a hotel is full."""

from __future__ import annotations

from decimal import Decimal

from hotline.core.schemas import Money, Output


class Offer(Output):
    hotel_id: int
    hotel: str
    room_type_id: int
    room_type: str
    bed: str
    capacity: int
    rate_plan_id: int
    rate_plan: str
    breakfast: bool
    rooms_left: int
    """The fewest rooms of this type left on any of the nights."""
    nightly: list[Decimal]
    """Price per room for each night."""
    total: Money
    """For the whole stay and all rooms."""
    policy: str
    member: bool = False
    """A member rate: the booker's tier discount applies (会员价)."""
    guaranteed: bool = False
    """Prepaid or guaranteed: the room is kept all night."""


class PlanOffer(Output):
    """One rate plan of a room type, within its hotel's group."""

    rate_plan_id: int
    rate_plan: str
    member: bool
    breakfast: bool
    guaranteed: bool
    nightly: list[Decimal]
    total: Money
    policy: int
    """Index into the hotel's `policies`: each text is shown once per hotel."""


class RoomTypeOffers(Output):
    room_type_id: int
    room_type: str
    bed: str
    capacity: int
    rooms_left: int
    lowest: Money
    plans: list[PlanOffer]
    """Cheapest first."""


class HotelOffers(Output):
    """The offers of one hotel: its address and stars once, its cancellation policies once, then
    room type by room type, each with its rate plans."""

    hotel_id: int
    hotel: str
    address: str
    stars: int
    hold_until: str
    """Rooms not guaranteed are held until then on the arrival day."""
    lowest: Money
    policies: list[str]
    room_types: list[RoomTypeOffers]


class Alternative(Output):
    hotel_id: int
    hotel: str
    room_type_id: int | None = None
    room_type: str | None = None
    rooms_left: int
    from_total: Money


class AvailabilityOut(Output):
    offers: list[Offer]
    hotels: list[HotelOffers]
    """The same offers grouped by hotel, then room type (the booking desk shows these)."""
    alternatives: list[Alternative]
    """When the chosen hotel is full: other branches in the city with rooms, cheapest first (H2)."""
