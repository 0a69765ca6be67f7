"""The customer's identifiers: GB 11643 resident IDs, phone numbers, member numbers, pinyin."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.errors import InvalidInput
from hotline.crm import identity


@pytest.mark.parametrize(
    ("number", "born", "gender"),
    [
        ("11010519491231002X", date(1949, 12, 31), "F"),  # the standard's own example
        ("110101199003074477", date(1990, 3, 7), "M"),
        ("310104198503121235", date(1985, 3, 12), "M"),
        ("11010119900307803x", date(1990, 3, 7), "M"),  # a lower-case x is read as X
    ],
)
def test_valid_resident_ids_give_their_birthday_and_gender(number: str, born: date, gender: str) -> None:
    assert identity.check_resident_id(number) == number.upper()
    assert identity.resident_id_birthday(number.upper()) == born
    assert identity.resident_id_gender(number.upper()) == gender


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("110105194912310021", "check digit"),  # one digit off
        ("11010519491231002", "17 digits"),
        ("1101051949123100XX", "17 digits"),
        ("110105194902300027", "impossible birth date"),  # 30 February
        ("110105209912310028", "impossible birth date"),  # born in 2099
    ],
)
def test_wrong_resident_ids_are_refused_with_the_reason(number: str, why: str) -> None:
    well_formed = len(number) == 18 and number[:17].isdigit()
    fixed = number
    if well_formed and why != "check digit":  # give it the right check digit: only the date is wrong
        fixed = number[:17] + identity.resident_id_check_digit(number[:17])
    with pytest.raises(InvalidInput) as refused:
        identity.check_resident_id(fixed)
    assert why in str(refused.value.detail) and refused.value.field == "body.id_number"


def test_the_birthday_and_gender_given_must_match_the_id() -> None:
    with pytest.raises(InvalidInput, match="not 1950-01-01"):
        identity.check_resident_id("11010519491231002X", birthday=date(1950, 1, 1))
    with pytest.raises(InvalidInput, match="other gender"):
        identity.check_resident_id("11010519491231002X", gender="M")
    assert identity.check_resident_id("11010519491231002X", birthday=date(1949, 12, 31), gender="F")


@given(st.text(max_size=25))
def test_any_text_is_either_a_valid_id_or_a_clear_refusal(text: str) -> None:
    try:
        value = identity.check_resident_id(text)
    except InvalidInput as refused:
        field = refused.field
    else:
        field = None
        assert identity.resident_id_check_digit(value[:17]) == value[17]
    assert field in (None, "body.id_number")


@given(st.integers(0, 999_999), st.dates(date(1900, 1, 1), date(2020, 12, 31)), st.integers(0, 999))
def test_every_correctly_built_id_is_accepted(region: int, born: date, sequence: int) -> None:
    first17 = f"{region:06d}{born:%Y%m%d}{sequence:03d}"
    number = first17 + identity.resident_id_check_digit(first17)
    assert identity.check_resident_id(number, birthday=born) == number


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("021-5555 1234", "+862155551234"),  # a Shanghai landline with its area code
        ("(010) 6552 9988", "+861065529988"),
        ("400-800-1000", "+864008001000"),  # a 400 service number
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_phone_numbers_are_stored_in_e164_with_china_by_default(raw: str, e164: str) -> None:
    assert identity.normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "1380013800", "138001380001", "abc", "+86 999 9999 9999", ""])
def test_impossible_phone_numbers_are_refused_at_their_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        identity.normalise_phone(raw, field="body.phones.0.number")
    assert refused.value.field == "body.phones.0.number"


def test_caller_ids_that_cannot_be_customers_are_none() -> None:
    assert identity.caller_phone("13800138000") == "+8613800138000"
    assert identity.caller_phone("1003") is None  # an extension
    assert identity.caller_phone("anonymous") is None


def test_names_are_searchable_in_pinyin_and_initials() -> None:
    assert identity.pinyin("张伟") == ("zhangwei", "zw")
    assert identity.pinyin("欧阳娜娜") == ("ouyangnana", "oynn")
    assert identity.pinyin("李 雷") == ("lilei", "ll")
