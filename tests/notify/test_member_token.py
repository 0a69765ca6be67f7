"""The member token's checker (notify/member_token.py), pure: what a partner signs with the site's
secret for this site, fresh, names the member; any change to a single character, any cut, any
other key, site or algorithm is refused — never a member made up by whoever holds the token."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.notify.member_token import MAX_LIFETIME, Member, MemberTokenRefused, check, sign

SECRET = "partner-secret-0123456789-abcdefghijklmnop"
SITE = "yingguan-hotels"
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def claims(**more: Any) -> dict[str, Any]:
    at = int(NOW.timestamp())
    member = {"sub": "YG-000123", "name": "张伟", "phone": "138 0013 8000"}
    return {**member, "aud": SITE, "iat": at, "exp": at + 600, **more}


def refused(token: str, **where: Any) -> str:
    with pytest.raises(MemberTokenRefused) as error:
        check(token, **{"secret": SECRET, "site": SITE, "now": NOW, **where})
    return error.value.reason


def test_a_token_the_site_signed_names_its_member() -> None:
    assert check(sign(claims(), SECRET), secret=SECRET, site=SITE, now=NOW) == Member(
        id="YG-000123", name="张伟", phone="13800138000", email=""
    )


def test_each_way_round_is_refused_with_its_reason() -> None:
    at = int(NOW.timestamp())
    assert refused(sign(claims(), "another-secret-0123456789-abcdefghijkl")) == "member-token-signature"
    assert refused(sign(claims(aud="another-site"), SECRET)) == "member-token-site"
    assert refused(sign(claims(exp=at - 31), SECRET)) == "member-token-expired"
    assert refused(sign(claims(exp=at + MAX_LIFETIME + 31), SECRET)) == "member-token-future"
    assert refused(sign(claims(iat=at + 300), SECRET)) == "member-token-future"
    assert refused(jwt.encode(claims(), None, algorithm="none")) == "member-token-algorithm"
    assert refused(jwt.encode(claims(), SECRET + SECRET, algorithm="HS512")) == "member-token-algorithm"
    assert refused(sign(claims(phone="call me"), SECRET)) == "member-token-claims"
    assert refused(sign(claims(sub=123), SECRET)) == "member-token-claims"
    assert refused(sign({k: v for k, v in claims().items() if k != "exp"}, SECRET)) == "member-token-claims"
    assert refused(sign(claims(), SECRET), secret="") == "member-token-not-enabled"
    assert refused("not.a.jwt") == "member-token-malformed"


def test_a_header_saying_none_over_a_valid_hs256_signature_is_refused() -> None:
    token = sign(claims(), SECRET)
    header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    )
    assert refused(".".join([header, *token.split(".")[1:]])) == "member-token-algorithm"
    assert refused(".".join([header, token.split(".")[1], ""])) == "member-token-algorithm"


@given(st.data())
def test_any_single_character_changed_is_refused(data: st.DataObject) -> None:
    token = sign(claims(), SECRET)
    at = data.draw(st.integers(0, len(token) - 1))
    other = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != token[at]))
    refused(token[:at] + other + token[at + 1 :])


@given(st.data())
def test_a_cut_or_lengthened_token_is_refused(data: st.DataObject) -> None:
    token = sign(claims(), SECRET)
    start = data.draw(st.integers(0, len(token)))
    end = data.draw(st.integers(start, len(token)))
    added = data.draw(st.text(ALPHABET, max_size=8))
    tampered = token[:start] + added + token[end:]
    if tampered != token:
        refused(tampered)


@given(
    name=st.text(max_size=60),
    phone=st.text(max_size=25),
    sub=st.text(max_size=80),
    lifetime=st.integers(-3600, 7200),
)
def test_whatever_claims_are_signed_a_member_comes_out_only_within_the_rules(
    name: str, phone: str, sub: str, lifetime: int
) -> None:
    token = sign(claims(name=name, phone=phone, sub=sub, exp=int(NOW.timestamp()) + lifetime), SECRET)
    try:
        member = check(token, secret=SECRET, site=SITE, now=NOW)
    except MemberTokenRefused:
        return
    assert 1 <= len(member.id) <= 64 and len(member.name) <= 40
    assert member.phone == "" or member.phone.lstrip("+").isdigit()
    assert -30 < lifetime <= MAX_LIFETIME + 30
    assert NOW + timedelta(seconds=lifetime) > NOW - timedelta(seconds=30)
