"""SDP offer/answer and RTP / RFC 4733 packets."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.voice.rtp.packet import RtpPacket, TelephoneEvent
from hotline.voice.sdp import Direction, SdpError, SessionDescription, answer

SIPP_OFFER = (
    "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 9 8 0 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendonly\r\n"
)


def test_answer_takes_the_callers_first_g711_codec_and_events_and_mirrors_hold() -> None:
    offer = SessionDescription.parse(SIPP_OFFER)
    assert offer.audio.port == 6000 and offer.audio.direction is Direction.SENDONLY
    reply = answer(offer, address="127.0.0.1", port=20000, session_id=7)
    audio = reply.audio
    assert audio.formats == [8, 101] and audio.rtpmap[8] == ("PCMA", 8000)
    assert audio.direction is Direction.RECVONLY  # the caller put us on hold
    again = SessionDescription.parse(bytes(reply))
    assert again.audio.formats == [8, 101] and again.audio.port == 20000 and again.address == "127.0.0.1"


def test_static_payload_types_need_no_rtpmap() -> None:
    offer = SessionDescription.parse(
        "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n"
    )
    reply = answer(offer, address="127.0.0.1", port=20002, session_id=1)
    assert reply.audio.formats == [0] and reply.audio.direction is Direction.SENDRECV


@pytest.mark.parametrize(
    ("sdp", "complaint"),
    [
        (
            "v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nm=audio 4000 RTP/AVP 9\na=rtpmap:9 G722/8000\n",
            "no common codec",
        ),
        ("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nm=video 4000 RTP/AVP 96\n", "no active audio"),
        ("v=1\n", "version"),
        ("v=0\ns=-\nc=IN IP4 h\n", "missing o="),
        ("v=0\no=- 1 1 IN IP4 h\ns=-\nm=audio 4000 RTP/AVP 0\n", "missing c="),
        ("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nm=audio 99999 RTP/AVP 0\n", "out of range"),
        ("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nm=audio 4000 RTP/AVP 0\na=rtpmap:x\n", "rtpmap"),
        ("garbage", "expected <type>=<value>"),
        # found by the socket fuzz: "²".isdigit() is True but int("²") raises ValueError, which
        # escaped the INVITE handler and left the call unanswered
        ("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nm=audio ² RTP/AVP 0\n", "malformed media"),
        ("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nm=audio 4000 RTP/AVP ²\n", "bad payload type"),
        ("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nm=audio 4000 RTP/AVP 0\na=fmtp:² x\n", "fmtp"),
        (
            f"v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nm=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/{'9' * 5000}\n",
            "rtpmap",
        ),
    ],
)
def test_unanswerable_or_malformed_sdp_is_refused(sdp: str, complaint: str) -> None:
    with pytest.raises(SdpError, match=complaint):
        answer(SessionDescription.parse(sdp), address="127.0.0.1", port=20000, session_id=1)


def test_a_ptime_in_other_digits_is_ignored_not_raised() -> None:
    offer = SessionDescription.parse(
        "v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nm=audio 4000 RTP/AVP 0\na=ptime:²\n"
    )
    assert offer.audio.ptime is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_sdp_parser_fuzz_only_raises_sdp_errors(data: str | bytes) -> None:
    try:
        offer = SessionDescription.parse(data)
        answer(offer, address="127.0.0.1", port=20000, session_id=1)
    except (SdpError, UnicodeDecodeError):
        pass


def test_rtp_golden_packet() -> None:
    # PCMU, marker set, seq 0x1234, ts 0x11223344, ssrc 0xDEADBEEF, 4 payload bytes.
    wire = bytes.fromhex("80801234112233 44deadbeef".replace(" ", "")) + b"\xff\xfe\xfd\xfc"
    packet = RtpPacket.parse(wire)
    assert (packet.payload_type, packet.marker, packet.sequence, packet.timestamp, packet.ssrc) == (
        0, True, 0x1234, 0x11223344, 0xDEADBEEF
    )  # fmt: skip
    assert packet.payload == b"\xff\xfe\xfd\xfc" and bytes(packet) == wire


packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=160),
    marker=st.booleans(),
    csrc=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15),
    extension=st.none()
    | st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=16).map(lambda b: b[: len(b) // 4 * 4])),
)


@given(packets)
def test_rtp_round_trip(packet: RtpPacket) -> None:
    assert RtpPacket.parse(bytes(packet)) == packet


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_rtp_garbage_raises_value_error_only(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        RtpPacket.parse(data)


def test_rfc4733_event_for_digit_5_end_of_event() -> None:
    event = TelephoneEvent.parse(bytes.fromhex("058a0320"))
    assert (event.digit, event.end, event.volume, event.duration) == ("5", True, 10, 800)
    assert bytes(event) == bytes.fromhex("058a0320")
    assert TelephoneEvent.parse(bytes([11, 0, 0, 160])).digit == "#"
    with pytest.raises(ValueError, match="too short"):
        TelephoneEvent.parse(b"\x05")
