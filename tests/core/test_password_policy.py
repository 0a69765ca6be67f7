"""The password policy as a rule: what it accepts and refuses, for any input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotline.core.security import hash_password, password_problems, verify_password

MIN = 10


@given(st.text(max_size=MIN - 1))
def test_anything_shorter_than_the_minimum_is_refused(password: str) -> None:
    assert any("at least" in p for p in password_problems(password, username="agent1", min_length=MIN))


@given(
    letters=st.text(alphabet="abcdefghjkmnpqrstuvwxyz", min_size=6, max_size=20),
    digits=st.text(alphabet="0123456789-_!", min_size=4, max_size=10),
)
def test_long_mixed_passwords_without_the_username_are_accepted(letters: str, digits: str) -> None:
    password = letters + digits
    if len(set(password)) >= 4:
        assert password_problems(password, username="zhangwei", min_length=MIN) == []


@given(st.text(min_size=1, max_size=12).filter(str.strip))
def test_a_password_containing_the_username_is_refused(username: str) -> None:
    password = f"Xx-9{username}-long-enough"
    assert "must not contain the username" in password_problems(password, username=username, min_length=MIN)


@given(st.text(min_size=1, max_size=40))
def test_hashes_verify_only_the_same_password(password: str) -> None:
    hashed = hash_password(password, time_cost=1, memory_kib=1024)
    assert verify_password(hashed, password)
    assert not verify_password(hashed, password + " ")
    assert not verify_password("not-a-hash", password)
