"""WebRTC SDP (ICE, DTLS fingerprint and role, rtcp-mux, BUNDLE) and STUN messages: golden inputs
from browsers and RFC 5769, strict refusals, and property tests of both parsers."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.voice.rtp.stun import BINDING_REQUEST, USE_CANDIDATE, USERNAME, StunMessage, read_xor_address
from hotline.voice.sdp import Candidate, SdpError, SessionDescription, answer, offer

CHROME_OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\na=msid-semantic: WMS stream\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 network-id 1\r\n"
    "a=candidate:3715742929 1 udp 1686052607 203.0.113.7 46243 typ srflx raddr 192.168.0.196 rport 46243\r\n"
    "a=candidate:2 1 udp 2122194687 9b36eaac-bb2e-49bb-bb78-21c41c499900.local 47103 typ host\r\n"
    "a=ice-ufrag:Oyef\r\na=ice-pwd:Kuzfx+Y2qM8bPaUYuVGvRc4o\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 DD:3A:6B:6E:56:F1:8F:1B:5F:41:3B:0E:9E:C0:DA:63:01:A8:1F:52:F0:40:F9:B9:6A:A8"
    ":7E:CB:0A:6B:E1:0C\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=sendrecv\r\na=msid:stream track\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\na=ssrc:1 cname:x\r\n"
)
FIREFOX_STYLE = (  # fingerprint and ICE credentials at session level, inherited by the media
    "v=0\r\no=mozilla...THIS_IS_SDPARTA-99.0 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "a=fingerprint:sha-256 0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F:20:21:22:23"
    ":24:25:26:27:28:29\r\n"
    "a=group:BUNDLE 0\r\na=ice-options:trickle\r\na=msid-semantic:WMS *\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\nc=IN IP4 0.0.0.0\r\na=sendrecv\r\n"
    "a=ice-pwd:59a8e76a1e8ad4e3b3d4b4dbd6d8c1f0\r\na=ice-ufrag:d1e2f3a4\r\na=mid:0\r\n"
    "a=rtcp-mux\r\na=rtpmap:109 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=setup:actpass\r\n"
)


def test_a_chrome_offer_is_answered_with_pcmu_ice_lite_and_passive_dtls() -> None:
    their = SessionDescription.parse(CHROME_OFFER)
    media = their.audio
    assert media.webrtc and media.ice_ufrag == "Oyef" and media.setup == "actpass" and media.rtcp_mux
    assert media.fingerprints[0][0] == "sha-256" and their.groups == ["BUNDLE 0"]
    assert [c.kind for c in media.candidates] == ["host", "srflx", "host"]
    assert media.candidates[1].extra == "raddr 192.168.0.196 rport 46243"
    again = SessionDescription.parse(str(their))  # no session c= in, none made up out
    assert again.address == "" and again.audio.address == their.audio.address
    reply = answer(their, address="10.0.0.5", port=20000, session_id=3)
    ours = reply.audio
    assert ours.protocol == "UDP/TLS/RTP/SAVPF" and ours.formats == [0, 126]  # opus first, G.711 chosen
    assert ours.rtpmap[126] == ("telephone-event", 8000)  # the 8 kHz one, not the 48 kHz one
    assert ours.setup == "passive" and ours.mid == "0" and ours.rtcp_mux
    assert reply.ice_lite and reply.groups == ["BUNDLE 0"]
    text = str(reply)
    assert text.index("a=ice-lite") < text.index("m=audio") and "a=group:BUNDLE 0\r\n" in text
    again = SessionDescription.parse(text)
    assert again.ice_lite and again.audio.setup == "passive" and again.audio.mid == "0"


def test_session_level_credentials_and_fingerprint_are_inherited() -> None:
    media = SessionDescription.parse(FIREFOX_STYLE).audio
    assert media.fingerprints == [
        (
            "sha-256",
            "0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F:20:21:22:23:24:25:26:27:28:29",
        )
    ]
    assert media.ice_ufrag == "d1e2f3a4"
    assert answer(
        SessionDescription.parse(FIREFOX_STYLE), address="h", port=1, session_id=1
    ).audio.formats == [0, 101]


def test_hotline_offers_a_browser_actpass_with_rtcp_mux_and_one_bundled_stream() -> None:
    ours = offer(address="10.0.0.5", port=20000, session_id=1, webrtc=True)
    text = str(ours)
    assert "m=audio 20000 UDP/TLS/RTP/SAVPF 0 8 101\r\n" in text
    for line in ("a=ice-lite", "a=group:BUNDLE 0", "a=setup:actpass", "a=mid:0", "a=rtcp-mux"):
        assert line + "\r\n" in text
    assert "UDP/TLS" not in str(offer(address="10.0.0.5", port=20000, session_id=1))


def _with(line: str, replacement: str) -> str:
    assert line in CHROME_OFFER
    return CHROME_OFFER.replace(line, replacement)


@pytest.mark.parametrize(
    ("sdp", "complaint"),
    [
        (_with("a=ice-ufrag:Oyef", "a=ice-ufrag:Oy"), "malformed ice-ufrag"),
        (_with("a=ice-pwd:Kuzfx+Y2qM8bPaUYuVGvRc4o", "a=ice-pwd:short"), "malformed ice-pwd"),
        (_with("a=ice-ufrag:Oyef", "a=ice-ufrag:Oy ef"), "malformed ice-ufrag"),
        (_with("a=fingerprint:sha-256 DD:3A", "a=fingerprint:sha-256 DD3A"), "malformed fingerprint"),
        (_with("a=setup:actpass", "a=setup:whatever"), "malformed setup"),
        (_with("a=mid:0", "a=mid:"), "malformed mid"),
        (_with("46243 typ srflx", "99999 typ srflx"), "malformed candidate"),
        (_with("a=candidate:2 1 udp 2122194687", "a=candidate:2 one udp 2122194687"), "malformed candidate"),
        (_with("a=setup:actpass", "a=setup:passive"), "always the DTLS server"),
        (_with("a=rtcp-mux\r\n", ""), "rtcp-mux"),
        (_with("a=ice-pwd:Kuzfx+Y2qM8bPaUYuVGvRc4o\r\n", ""), "ICE credentials"),
        (CHROME_OFFER.replace("a=fingerprint:sha-256", "a=fingerprint:md5"), "fingerprint"),
        (_with("m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=audio 9 UDP/TLS/RTP/SAVPF x111"), "bad payload type"),
    ],
)
def test_malformed_or_unanswerable_webrtc_offers_are_refused(sdp: str, complaint: str) -> None:
    with pytest.raises(SdpError, match=complaint):
        answer(SessionDescription.parse(sdp), address="h", port=1, session_id=1)


ice_text = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/", min_size=22, max_size=64
)
fingerprints = st.lists(
    st.tuples(
        st.sampled_from(["sha-256", "sha-384", "sha-512"]),
        st.lists(st.binary(min_size=1, max_size=1), min_size=32, max_size=64).map(
            lambda parts: ":".join(b.hex().upper() for b in parts)
        ),
    ),
    min_size=1,
    max_size=3,
)
candidates = st.builds(
    Candidate,
    foundation=st.text("abcdef0123456789", min_size=1, max_size=32),
    component=st.integers(1, 2),
    transport=st.sampled_from(["udp", "UDP", "tcp"]),
    priority=st.integers(0, 2**32 - 1),
    address=st.sampled_from(["192.0.2.1", "2001:db8::1", "abc-def.local"]),
    port=st.integers(0, 65535),
    kind=st.sampled_from(["host", "srflx", "relay", "prflx"]),
    extra=st.sampled_from(["", "generation 0", "raddr 0.0.0.0 rport 0 generation 0 network-id 1"]),
)


@given(
    ufrag=ice_text.map(lambda text: text[:8]),
    pwd=ice_text,
    fingerprints=fingerprints,
    setup=st.sampled_from(["active", "passive", "actpass", "holdconn"]),
    mid=st.text("abcdefghij0123456789", min_size=1, max_size=8),
    candidates=st.lists(candidates, max_size=4),
    end=st.booleans(),
)
def test_webrtc_attributes_round_trip(
    ufrag: str, pwd: str, fingerprints: list[tuple[str, str]], setup: str, mid: str,
    candidates: list[Candidate], end: bool,
) -> None:  # fmt: skip
    sdp = offer(address="192.0.2.9", port=4000, session_id=5, webrtc=True)
    media = sdp.audio
    media.ice_ufrag, media.ice_pwd, media.fingerprints, media.setup, media.mid = (
        ufrag,
        pwd,
        fingerprints,
        setup,
        mid,
    )
    media.candidates, media.end_of_candidates = candidates, end
    again = SessionDescription.parse(bytes(sdp)).audio
    assert (again.ice_ufrag, again.ice_pwd, again.fingerprints, again.setup, again.mid) == (
        ufrag, pwd, fingerprints, setup, mid,
    )  # fmt: skip
    assert again.candidates == candidates and again.end_of_candidates is end and again.rtcp_mux


_LINES = CHROME_OFFER.split("\r\n")


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(_LINES) - 1),
            st.sampled_from(["drop", "double", "cut", "garble"]),
            st.text(max_size=12),
        ),
        max_size=4,
    )
)
def test_mangled_browser_offers_only_ever_raise_sdp_errors(edits: list[tuple[int, str, str]]) -> None:
    lines = list(_LINES)
    for index, how, text in edits:
        index %= len(lines)
        if how == "drop":
            del lines[index]
        elif how == "double":
            lines.insert(index, lines[index])
        elif how == "cut":
            lines[index] = lines[index][: len(text)]
        else:
            lines[index] = lines[index][:2] + text + lines[index][2 + len(text) :]
        if not lines:
            break
    with contextlib.suppress(SdpError, UnicodeDecodeError):
        answer(SessionDescription.parse("\r\n".join(lines)), address="h", port=1, session_id=1)


# RFC 5769 §2.1: a sample ICE connectivity check, password "VOkJxbRl1RmTxUk/WvJxBt"
RFC5769_REQUEST = bytes.fromhex(
    "000100582112a442b7e7a701bc34d686fa87dfae"
    "802200105354554e207465737420636c69656e74"
    "002400046e0001ff"
    "80290008932ff9b151263b36"
    "000600096576746a3a68367659202020"
    "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
    "80280004e57a3bcf"
)
# RFC 5769 §2.2: its answer, XOR-MAPPED-ADDRESS 192.0.2.1:32853
RFC5769_RESPONSE = bytes.fromhex(
    "0101003c2112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000080001a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
    "80280004c07d4c96"
)


def test_rfc5769_check_and_answer_verify() -> None:
    request = StunMessage.parse(RFC5769_REQUEST)
    assert request.type == BINDING_REQUEST and request.username == "evtj:h6vY"
    assert request.integrity_ok(b"VOkJxbRl1RmTxUk/WvJxBt") and request.fingerprint_ok()
    assert not request.integrity_ok(b"VOkJxbRl1RmTxUk/WvJxBT")
    response = StunMessage.parse(RFC5769_RESPONSE)
    assert response.integrity_ok(b"VOkJxbRl1RmTxUk/WvJxBt") and response.fingerprint_ok()
    value = response.get(0x0020)
    assert value is not None and read_xor_address(value, response.transaction_id) == ("192.0.2.1", 32853)
    tampered = bytearray(RFC5769_REQUEST)
    tampered[45] ^= 1  # a bit of PRIORITY
    assert not StunMessage.parse(bytes(tampered)).integrity_ok(b"VOkJxbRl1RmTxUk/WvJxBt")


@given(st.binary(min_size=0, max_size=64), st.text(max_size=20), st.booleans())
def test_stun_messages_round_trip_with_integrity(transaction: bytes, username: str, nominate: bool) -> None:
    attributes = [(USERNAME, username.encode())] + ([(USE_CANDIDATE, b"")] if nominate else [])
    message = StunMessage(BINDING_REQUEST, transaction[:12].ljust(12, b"\0"), attributes)
    again = StunMessage.parse(message.encode(integrity_key=b"secret"))
    assert again.attributes[:-2] == attributes and [kind for kind, _ in again.attributes[-2:]] == [
        0x0008,
        0x8028,
    ]
    assert again.integrity_ok(b"secret") and again.fingerprint_ok()
    assert again.has(USE_CANDIDATE) is nominate and not again.integrity_ok(b"other")


@given(st.binary(max_size=120))
def test_stun_garbage_raises_value_error_only(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        message = StunMessage.parse(data)
        message.integrity_ok(b"x")
        message.fingerprint_ok()
