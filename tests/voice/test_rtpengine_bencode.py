"""The ng protocol's bencode: golden messages of rtpengine's documentation, round trips of any
value, and one clear error (`BencodeError`) for any malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.voice.rtpengine.bencode import BencodeError, decode, encode

values = st.recursive(
    st.integers() | st.binary(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.binary(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)


def test_given_an_offer_when_encoded_then_bytes_are_those_of_the_protocol() -> None:
    offer = {
        "command": "offer",
        "call-id": "a1",
        "flags": ["trust-address"],
        "sdp": "v=0\r\n",
        "repeat-times": 3,
    }
    wire = b"d7:command5:offer7:call-id2:a15:flagsl13:trust-addresse3:sdp5:v=0\r\n12:repeat-timesi3ee"
    assert encode(offer) == wire
    assert decode(wire) == {
        b"command": b"offer", b"call-id": b"a1", b"flags": [b"trust-address"], b"sdp": b"v=0\r\n",
        b"repeat-times": 3,
    }  # fmt: skip


def test_given_rtpengines_answers_when_decoded_then_keys_need_no_order() -> None:
    assert decode(b"d6:result4:ponge") == {b"result": b"pong"}
    assert decode(b"d6:result5:error12:error-reason15:Unknown call-ide") == {
        b"result": b"error",
        b"error-reason": b"Unknown call-id",
    }
    assert decode(b"d1:zi1e1:ai-2ee") == {b"z": 1, b"a": -2}


@given(values)
def test_any_value_survives_a_round_trip(value: object) -> None:
    wire = encode(value)
    assert decode(wire) == value
    assert encode(decode(wire)) == wire


@given(st.text(max_size=30))
def test_text_is_sent_as_its_utf8_bytes(text: str) -> None:
    assert decode(encode(text)) == text.encode()


@given(values, st.integers(min_value=1, max_value=200))
def test_a_truncated_message_gives_one_clear_error(value: object, cut: int) -> None:
    wire = encode(value)
    with pytest.raises(BencodeError):
        decode(wire[: max(0, len(wire) - cut)])


@given(st.binary(max_size=60))
def test_any_bytes_either_decode_or_give_one_clear_error(data: bytes) -> None:
    try:
        value = decode(data)
    except BencodeError:
        return
    assert encode(value) == data or isinstance(value, dict)  # dicts keep rtpengine's key order


@given(values, st.binary(min_size=1, max_size=5))
def test_trailing_bytes_after_a_value_are_refused(value: object, tail: bytes) -> None:
    with pytest.raises(BencodeError, match="after the value"):
        decode(encode(value) + tail)


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"i03e", "leading zero"),
        (b"i-0e", "leading zero"),
        (b"ie", "malformed integer"),
        (b"i1", "unterminated integer"),
        (b"03:abc", "malformed string length"),
        (b"5:abc", "runs past the end"),
        (b"l1:a", "unterminated list"),
        (b"di1e1:ae", "is not a string"),
        (b"d1:ai1e1:ai2ee", "duplicate dictionary key"),
        (b"x", "unexpected byte"),
        (b"", "truncated"),
        (b"l" * 100 + b"e" * 100, "nesting deeper"),
        (b"1" * 40 + b":", "no colon"),
    ],
)
def test_malformed_input_names_what_is_wrong(wire: bytes, message: str) -> None:
    with pytest.raises(BencodeError, match=message):
        decode(wire)


@pytest.mark.parametrize("value", [True, 1.5, None, {1: 2}, object()])
def test_values_bencode_cannot_carry_are_refused(value: object) -> None:
    with pytest.raises(BencodeError):
        encode(value)
