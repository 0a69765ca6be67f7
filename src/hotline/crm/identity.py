"""The customer's identifiers, checked: Chinese resident ID numbers (GB 11643), phone numbers
(E.164, China by default), member numbers (8 digits, easy to read out on the phone) and names
as pinyin for search. Pure functions; each raises `InvalidInput` naming the field it checked.
"""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from pypinyin import Style, lazy_pinyin

from hotline.core.errors import InvalidInput

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def resident_id_check_digit(first17: str) -> str:
    """GB 11643-1999: the 18th character of a resident ID from the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def check_resident_id(
    number: str, *, birthday: date | None = None, gender: str | None = None, field: str = "body.id_number"
) -> str:
    """A valid 18-character resident ID (upper-case X), its embedded birth date a real date in
    the past, consistent with `birthday` and `gender` (M/F) when given."""
    value = number.strip().upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        raise InvalidInput(
            "A resident ID has 17 digits and a check digit (0-9 or X)",
            field=field,
            reason="resident-id-17-digits-check",
        )
    if resident_id_check_digit(value[:17]) != value[17]:
        raise InvalidInput(
            "The resident ID's check digit is wrong: a digit was mistyped",
            field=field,
            reason="resident-id-check-digit-wrong",
        )
    born = resident_id_birthday(value)
    if born is None or born > date.today() or born.year < 1900:  # noqa: DTZ011 - a calendar date
        raise InvalidInput(
            "The resident ID holds an impossible birth date",
            field=field,
            reason="resident-id-holds-impossible-birth",
        )
    if birthday is not None and birthday != born:
        raise InvalidInput(
            f"The resident ID says born {born.isoformat()}, not {birthday.isoformat()}",
            field=field,
            reason="resident-id-says-born-not",
            params={"born": born.isoformat(), "birthday": birthday.isoformat()},
        )
    if gender in ("M", "F") and resident_id_gender(value) != gender:
        raise InvalidInput(
            "The resident ID belongs to someone of the other gender",
            field=field,
            reason="resident-id-belongs-someone-other",
        )
    return value


def resident_id_birthday(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def resident_id_gender(number: str) -> str:
    """The 17th digit is odd for men, even for women."""
    return "M" if int(number[16]) % 2 else "F"


def check_passport(number: str, *, field: str = "body.id_number") -> str:
    value = number.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{5,20}", value):
        raise InvalidInput(
            "A passport number has 5 to 20 letters and digits",
            field=field,
            reason="passport-number-5-20-letters",
        )
    return value


def normalise_phone(number: str, *, field: str = "body.number", region: str = "CN") -> str:
    """E.164 (+8613800138000, +862155551234, +864008001000); a number without a country code is
    read as Chinese. Raises for anything that cannot be a real number."""
    raw = number.strip()
    if not re.fullmatch(r"[+0-9 ()\-]{3,32}", raw):
        raise InvalidInput(
            "A phone number has only digits, spaces, +, - and brackets",
            field=field,
            reason="phone-number-digits-spaces-brackets",
        )
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            f"Not a phone number: {exc}", field=field, reason="not-phone-number", params={"exc": exc}
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(
            "Not a valid phone number (check the digits and the area code)",
            field=field,
            reason="not-valid-phone-number-check",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def caller_phone(raw: str) -> str | None:
    """What a caller ID (from the trunk) looks like as a stored number, or None if it cannot be
    one (anonymous, an extension)."""
    digits = re.sub(r"[^0-9+]", "", raw)
    if len(digits.lstrip("+")) < 7:
        return None
    try:
        return normalise_phone(digits)
    except InvalidInput:
        return None


FIRST_MEMBER_NUMBER = 88_000_001
"""Member numbers are 8 digits handed out in order from 88000001: easy to read out on the phone
(the demo customer 张伟 has the first)."""


def is_member_number(value: str) -> bool:
    return bool(re.fullmatch(r"[1-9][0-9]{7}", value))


def pinyin(name: str) -> tuple[str, str]:
    """The name in pinyin without tones, joined ("zhangwei"), and its initials ("zw")."""
    syllables = [s.lower() for s in lazy_pinyin(name, style=Style.NORMAL) if s.strip()]
    joined = "".join(re.sub(r"[^a-z0-9]", "", s) for s in syllables)
    initials = "".join(s[0] for s in syllables if s and s[0].isalnum())
    return joined, initials
