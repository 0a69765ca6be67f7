"""Who may hear a booking read out on the phone (seed 004, issue 17 item 7): the member calling
from one of their recognised numbers, or a caller who keys the last four digits of the booking
phone or of the ID number. The demo's 张伟: 13800138000, member 88000001, ID …1235, his coming
stay and his Sanya trip booked with 13800138000."""

from __future__ import annotations

from hotline.core.context import Context
from hotline.crm import service as crm
from hotline.crm.schemas import CustomerIn
from hotline.crm.verification import VerifiedBy, check_member
from hotline.hotels import queries as hotels
from hotline.travel import lookups as travel


async def test_the_member_calling_from_his_own_number_is_verified_without_a_question(seeded: Context) -> None:
    for caller in ("13800138000", "+8613800138000", "sip:13800138000"):
        check = await check_member(seeded, "88000001", caller_id=caller)
        assert check.verified_by is VerifiedBy.NUMBER, caller


async def test_another_number_needs_the_last_four_digits_of_the_booking_phone_or_the_id(
    seeded: Context,
) -> None:
    stranger = "13911112222"
    assert not (await check_member(seeded, "88000001", caller_id=stranger)).verified
    for keyed, phones in (("8000", ["13800138000"]), ("1235", [])):
        check = await check_member(seeded, "88000001", caller_id=stranger, keyed=keyed, booking_phones=phones)
        assert check.verified_by is VerifiedBy.SECOND_FACTOR, keyed
    for keyed in ("1111", "8000", "123", "12355", ""):  # 8000 without a booking phone that ends so
        assert not (await check_member(seeded, "88000001", caller_id=stranger, keyed=keyed)).verified, keyed


async def test_an_unknown_or_malformed_member_number_is_no_member(seeded: Context) -> None:
    for member in ("88999999", "", "8800000１", "88000001" * 3):
        assert (await check_member(seeded, member, caller_id="13800138000")).customer_id is None, member


async def test_a_number_the_member_asked_not_to_be_recognised_by_does_not_verify(seeded: Context) -> None:
    """A shared office line, say: kept on file, but calls from it are not taken as the member."""
    created = await crm.create(
        seeded,
        CustomerIn.model_validate(
            {"name": "王芳", "id_type": "resident", "id_number": "11010519491231002X",
             "phones": [{"number": "02163218800", "recognise": False}, {"number": "13912345678"}]}
        ),
    )  # fmt: skip
    office = await check_member(seeded, created.member_number, caller_id="02163218800")
    assert office.customer_id == created.id and not office.verified
    mobile = await check_member(seeded, created.member_number, caller_id="13912345678")
    assert mobile.verified_by is VerifiedBy.NUMBER
    keyed_x = await check_member(seeded, created.member_number, caller_id="02163218800", keyed="002*")
    assert keyed_x.verified_by is VerifiedBy.SECOND_FACTOR  # an ID ending in X: X keyed as *


async def test_the_order_enquiries_read_nothing_to_an_unverified_caller_whatever_the_flow(
    seeded: Context,
) -> None:
    """The lookups check on their own: a flow that skipped the check would still get nothing."""
    stranger = {"member_number": "88000001", "caller": "13911112222"}
    assert await hotels.latest_for_ivr(seeded, stranger) is None
    assert await travel.latest_for_ivr(seeded, stranger) is None
    assert await hotels.verify_for_ivr(seeded, stranger) is None
    with_digits = {**stranger, "verify_digits": "8000"}  # his booking and his trip both give 13800138000
    assert await hotels.verify_for_ivr(seeded, with_digits) == {"by": "second-factor"}
    stay = await hotels.latest_for_ivr(seeded, with_digits)
    trip = await travel.latest_for_ivr(seeded, with_digits)
    assert stay is not None and stay["number"] == "60000001"
    assert trip is not None and "三亚" in trip["route"]
    assert await travel.verify_for_ivr(seeded, {**stranger, "verify_digits": "0000"}) is None
