"""Digest authentication: the RFC 7616 examples, and what the registrar will accept."""

from __future__ import annotations

import pytest

from hotline.voice.sip.digest import (
    Algorithm,
    DigestAuthority,
    answer_challenges,
    hashed,
    parse_credentials,
    response,
)

RFC7616 = {
    "username": "Mufasa",
    "realm": "http-auth@example.org",
    "password": "Circle of Life",
    "method": "GET",
    "uri": "/dir/index.html",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "qop": "auth",
    "nc": "00000001",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
}


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        (Algorithm.MD5, "8ca523f5e9506fed4657c9700eebdbec"),
        (Algorithm.SHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_responses_match_rfc_7616_examples(algorithm: Algorithm, expected: str) -> None:
    assert response(algorithm, **RFC7616) == expected


def credentials(
    authority: DigestAuthority, algorithm: Algorithm, password: str, nonce: str, **extra: str
) -> str:
    values = {
        "username": "1001", "realm": authority.realm, "nonce": nonce, "uri": "sip:127.0.0.1",
        "qop": "auth", "nc": "00000001", "cnonce": "0a4f113b",
    } | extra  # fmt: skip
    values["response"] = response(
        algorithm, username=values["username"], realm=values["realm"], password=password, method="REGISTER",
        uri=values["uri"], nonce=values["nonce"], qop=values["qop"], nc=values["nc"], cnonce=values["cnonce"],
    )  # fmt: skip
    params = ", ".join(f'{k}="{v}"' for k, v in values.items())
    return f"Digest {params}, algorithm={algorithm.value}"


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_registrar_accepts_the_right_password_and_refuses_others(algorithm: Algorithm) -> None:
    authority = DigestAuthority("hotline", b"k" * 32)
    users = hashed({"1001": "sip1001"})
    nonce = authority.nonce(now=1000)
    ok = authority.check(
        credentials(authority, algorithm, "sip1001", nonce), method="REGISTER", secrets=users, now=1010
    )
    assert ok == ("1001", ok[1]) and ok[1].ok
    wrong = authority.check(
        credentials(authority, algorithm, "guess", nonce), method="REGISTER", secrets=users, now=1010
    )
    assert not wrong[1].ok and wrong[1].reason == "wrong password"
    stale = authority.check(
        credentials(authority, algorithm, "sip1001", nonce),
        method="REGISTER",
        secrets=users,
        now=1000 + 301,
    )
    assert not stale[1].ok and stale[1].stale
    forged = authority.check(
        credentials(authority, algorithm, "sip1001", "64.deadbeef"),
        method="REGISTER",
        secrets=users,
        now=1010,
    )
    assert not forged[1].ok and not forged[1].stale
    other_node = DigestAuthority("hotline", b"k" * 32)  # same secret: a nonce from any node is good
    assert other_node.check(
        credentials(authority, algorithm, "sip1001", nonce), method="REGISTER", secrets=users, now=1010
    )[1].ok


def test_challenges_are_md5_alone_for_old_phones_unless_configured() -> None:
    (first,) = DigestAuthority("hotline").challenges()
    assert "algorithm=MD5" in first
    strong, weak = DigestAuthority("hotline", algorithms=(Algorithm.SHA256, Algorithm.MD5)).challenges()
    assert "algorithm=SHA-256" in strong and "algorithm=MD5" in weak
    scheme, params = parse_credentials(first)
    assert scheme == "Digest" and params["realm"] == "hotline" and params["qop"] == "auth"


def test_malformed_credentials_are_refused_not_raised() -> None:
    authority = DigestAuthority("hotline")
    for header in ("", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", 'Digest username="1001", nonce', 'Digest realm="x"'):
        assert not authority.check(header, method="REGISTER", secrets=hashed({"1001": "sip1001"}))[1].ok


def test_credentials_with_non_ascii_nonce_or_response_are_refused_not_raised() -> None:
    """Found by the socket fuzz: hmac.compare_digest raises TypeError for str with non-ASCII
    characters, so such a REGISTER went unanswered instead of challenged again."""
    authority = DigestAuthority("hotline")
    nonce = authority.nonce()
    for header in (
        'Digest username="1001", realm="hotline", nonce="1.é", uri="sip:h", response="x"',
        f'Digest username="1001", realm="hotline", nonce="{nonce}", uri="sip:h", response="é"',
    ):
        assert not authority.check(header, method="REGISTER", secrets=hashed({"1001": "sip1001"}))[1].ok


@pytest.mark.parametrize(
    "offered", [(Algorithm.MD5,), (Algorithm.SHA256, Algorithm.MD5), (Algorithm.SHA256,)]
)
def test_hotlines_own_client_answers_the_strongest_challenge_its_server_accepts(
    offered: tuple[Algorithm, ...],
) -> None:
    """The UAC side (trunk registration, test phones) and the registrar agree on every algorithm."""
    authority = DigestAuthority("hotline", algorithms=offered)
    header = answer_challenges(
        authority.challenges(), username="1001", password="sip1001", method="REGISTER", uri="sip:hotline"
    )
    assert header is not None and f"algorithm={offered[0].value}" in header
    assert authority.check(header, method="REGISTER", secrets=hashed({"1001": "sip1001"}))[1].ok
    assert not authority.check(header, method="REGISTER", secrets=hashed({"1001": "wrong"}))[1].ok
    assert answer_challenges(['Basic realm="x"'], username="a", password="b", method="X", uri="y") is None
