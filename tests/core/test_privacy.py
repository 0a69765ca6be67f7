"""The masks of personal data (core/privacy.py): what staff see of a phone, an ID number, an e-mail,
an address and a birthday, and that a masked value never gives the full one away."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from hotline.core import privacy
from hotline.core.privacy import Kind
from hotline.core.schemas import Output


def test_each_kind_is_masked_as_docs_crm_md_says() -> None:
    assert privacy.mask_phone("+8613800138000") == "138****8000"
    assert privacy.mask_phone("13800138000") == "138****8000"
    assert privacy.mask_phone("110") == "****"
    assert privacy.mask_id_number("310104198503121235") == "**************1235"
    assert privacy.mask_email("zhangwei@example.cn") == "z***@example.cn"
    assert privacy.mask_address("上海市徐汇区衡山路 88 号") == "上海 ****"
    assert privacy.mask_address("Flat 3, 12 Nathan Road") == "****"
    assert privacy.mask_birthday(date(1985, 3, 12)) == "1985-**-**"
    assert privacy.mask_contact("zhangwei@example.cn") == "z***@example.cn"
    assert privacy.mask_contact("+8613800138000") == "138****8000"
    assert privacy.masked(Kind.PHONE, ["13800138000", "13912345678"]) == ["138****8000", "139****5678"]
    assert privacy.masked(Kind.EMAIL, None) is None and privacy.masked(Kind.ADDRESS, "") == ""


class _Card(Output):
    phone: privacy.Phone
    id_number: privacy.IdNumber | None
    birthday: privacy.Birthday | None
    to: privacy.Contact


def test_a_schema_keeps_the_real_value_for_the_service_and_shows_it_masked() -> None:
    card = _Card(phone="+8613800138000", id_number=None, birthday=date(1985, 3, 12), to="z@qq.com")
    assert card.phone == "+8613800138000"  # the services work with the real number
    shown = {"phone": "138****8000", "id_number": None, "birthday": "1985-**-**", "to": "z***@qq.com"}
    assert card.model_dump(mode="json") == shown
    assert card.model_dump() == shown
    assert '"138****8000"' in card.model_dump_json()
    schema = _Card.model_json_schema(mode="serialization")
    assert schema["properties"]["birthday"]["anyOf"][0] == {"type": "string"}


@given(st.from_regex(r"\+?86?1[3-9][0-9]{9}", fullmatch=True))
def test_a_masked_phone_hides_the_middle_and_masking_twice_changes_nothing(number: str) -> None:
    shown = privacy.mask_phone(number)
    digits = number.removeprefix("+86")
    assert digits not in shown and shown.count("*") == 4
    assert privacy.mask_phone(shown) == shown


@given(st.from_regex(r"[0-9]{17}[0-9X]|[A-Z][0-9]{8}", fullmatch=True))
def test_a_masked_id_number_shows_only_its_last_four_characters(number: str) -> None:
    shown = privacy.mask_id_number(number)
    assert shown.endswith(number[-4:]) and set(shown[:-4]) == {"*"} and len(shown) == len(number)
    assert privacy.mask_id_number(shown) == shown


@given(st.emails())
def test_a_masked_e_mail_keeps_its_domain_and_one_letter(email: str) -> None:
    shown = privacy.mask_email(email)
    user, _, domain = email.partition("@")
    assert shown == f"{user[0]}***@{domain}"
    assert privacy.mask_email(shown) == shown


def test_models_declare_their_personal_columns_and_the_audit_view_masks_them() -> None:
    from hotline import domains

    domains.load_models()
    assert privacy.personal_columns("reservations") == {"guest_phone": Kind.PHONE}
    assert privacy.personal_columns("customers")["id_number"] is Kind.ID_NUMBER
    snapshot = {"guest_phone": "13800138000", "guest_name": "张伟"}
    assert privacy.masked_columns("reservations", snapshot) == {
        "guest_phone": "138****8000",
        "guest_name": "张伟",
    }
    assert privacy.masked_columns("hotels", {"phone": "057187080000"}) == {"phone": "057187080000"}
