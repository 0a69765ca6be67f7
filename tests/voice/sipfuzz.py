"""Hypothesis strategies for the socket-level SIP fuzz: real SIP messages (INVITE with SDP,
REGISTER, OPTIONS, BYE, ACK, CANCEL, INFO, REFER, a response) and mutations of them — headers
dropped, doubled or given hostile values, lengths that lie, mangled Via and CSeq, other
encodings and line ends, truncation, flipped and inserted bytes, SDP bodies torn apart."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

SDP = (
    "v=0\r\no=caller 2890844526 2890844526 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
)
METHODS = ("INVITE", "REGISTER", "OPTIONS", "BYE", "ACK", "CANCEL", "INFO", "REFER", "RESPONSE")


@dataclass(frozen=True)
class Dialog:
    """What the fuzzer knows of a call it placed: to aim mutated requests inside it."""

    call_id: str
    from_tag: str
    to_tag: str
    caller: str = "dialog"


def seed(
    method: str, port: int, call_id: str, *, dialog: Dialog | None = None, cseq: int = 1, branch: str = ""
) -> bytes:
    """A well-formed message of `method` from 127.0.0.1:`port`, as a real phone or trunk sends it."""
    to_tag = f";tag={dialog.to_tag}" if dialog else ""
    from_tag = dialog.from_tag if dialog else "f" + call_id[:8]
    caller = dialog.caller if dialog else "13800138000"
    body, kind = b"", ""
    uri = "sip:4008001000@127.0.0.1"
    extra: list[str] = []
    if method == "INVITE":
        body, kind = SDP.encode(), "application/sdp"
        extra.append(f"Contact: <sip:{caller}@127.0.0.1:{port}>")
    elif method == "REGISTER":
        uri = "sip:127.0.0.1"
        extra += [f"Contact: <sip:1001@127.0.0.1:{port}>;expires=600", "Expires: 600"]
        extra.append(
            'Authorization: Digest username="1001", realm="hotline", '
            'nonce="65a1b2c3.0123456789abcdef0123456789abcdef", uri="sip:127.0.0.1", '
            'response="0123456789abcdef0123456789abcdef", algorithm=MD5, qop=auth, nc=00000001, '
            'cnonce="deadbeef"'
        )
    elif method == "INFO":
        body, kind = b"Signal=5\r\nDuration=160\r\n", "application/dtmf-relay"
    elif method == "REFER":
        extra += ["Refer-To: <sip:1002@127.0.0.1>", f"Referred-By: <sip:{caller}@127.0.0.1>"]
    if method == "RESPONSE":
        start = "SIP/2.0 200 OK"
        method_in_cseq = "INVITE"
    else:
        start = f"{method} {uri} SIP/2.0"
        method_in_cseq = method
    lines = [
        start,
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id}{cseq}{branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:{caller}@127.0.0.1>;tag={from_tag}",
        f"To: <sip:4008001000@127.0.0.1>{to_tag}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method_in_cseq}",
        *extra,
        "User-Agent: hotline-fuzz",
    ]
    if kind:
        lines.append(f"Content-Type: {kind}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# Values that have broken parsers: other scripts' digits (isdigit() but not int()), numbers too
# long for int(), signs, control characters, quoting gone wrong, injection of new lines.
HOSTILE = st.sampled_from(
    [
        "", " ", "\t", "²", "٣", "１２３", "-1", "+5", "0x10", "1e3", "9" * 12, "9" * 5000, "NaN",
        "\x00", "\x7f", "\x1b[31m", '"', '"unterminated', "<", ">", "<<<>>>", ";;;", ";tag=", ",,,",
        "a\r\nInjected: yes", "a\nb", "a\rb", "ñ", "é" * 300, "\ufeff", "\ud7ff", "sip:", "sip:@",
        "<sip:x@[::1]:99999>", "SIP/2.0/UDP", "SIP/2.0/UDP [::1", "SIP/2.0/UDP h:0", "x" * 70000,
    ]
)  # fmt: skip
HEADER_NAMES = st.sampled_from(
    ["Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq", "Content-Length", "l", "Content-Type",
     "c", "Contact", "m", "Max-Forwards", "Expires", "Authorization", "Refer-To", "Record-Route",
     "Route", "X-Junk", "Require", "Event"]
)  # fmt: skip
VALUES = HOSTILE | st.text(max_size=40) | st.integers(-(2**70), 2**70).map(str)


def _lines(wire: bytes) -> tuple[list[bytes], bytes]:
    head, _, body = wire.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body


def _join(lines: list[bytes], body: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@st.composite
def mutation(draw: st.DrawFn, wire: bytes, unique: str) -> bytes:
    """One change to a message (`unique` keeps transaction branches apart between messages)."""
    lines, body = _lines(wire)
    kind = draw(
        st.sampled_from(
            ["drop", "double", "value", "add", "length", "via", "cseq", "start", "encoding", "truncate",
             "flip", "insert", "fold", "sdp", "line-ends", "many"]
        )
    )  # fmt: skip
    index = draw(st.integers(1, max(1, len(lines) - 1))) if len(lines) > 1 else 0
    if kind == "drop" and len(lines) > 1:
        del lines[index]
    elif kind == "double" and len(lines) > 1:
        lines.insert(index, lines[index])
    elif kind == "value" and len(lines) > 1:
        name = lines[index].split(b":", 1)[0]
        lines[index] = name + b": " + draw(VALUES).encode("utf-8", "surrogatepass")
    elif kind == "add":
        header = f"{draw(HEADER_NAMES)}: {draw(VALUES)}".encode("utf-8", "surrogatepass")
        lines.insert(index, header)
    elif kind == "length":
        value = draw(st.sampled_from(["0", "1", "-1", "99999999", "²", str(len(body) + 10), "12 34", ""]))
        lines = [line for line in lines if not line.lower().startswith((b"content-length", b"l:"))]
        lines.append(b"Content-Length: " + value.encode())
    elif kind == "via":
        via = draw(
            st.sampled_from(
                ["SIP/2.0/UDP 127.0.0.1:99999;branch=z9hG4bK1", "SIP/2.0/UDP 127.0.0.1;branch",
                 "SIP/2.0/UDP [::1]:5060;branch=z9hG4bKv6", "SIP/2.0/TLS ;branch=x", "SIP/2.0 127.0.0.1",
                 "SIP/2.0/UDP 127.0.0.1:٣;branch=z9hG4bKd", "SIP/2.0/UDP 127.0.0.1;rport=abc;received",
                 "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK" + "z" * 5000, ", , ,"]
            )
        )  # fmt: skip
        lines = [line for line in lines if not line.lower().startswith((b"via:", b"v:"))]
        lines.insert(1, b"Via: " + via.replace("z9hG4bK", "z9hG4bK" + unique).encode())
    elif kind == "cseq":
        cseq = draw(
            st.sampled_from(
                ["", "1", "INVITE", "1 BYE", "-1 INVITE", "² INVITE", "2147483648 INVITE",
                 "9" * 5000 + " INVITE", "1 INVITE extra", "1 inv ite", "1 ÉÉ"]
            )
        )  # fmt: skip
        lines = [line for line in lines if not line.lower().startswith(b"cseq")]
        lines.append(b"CSeq: " + cseq.encode())
    elif kind == "start":
        lines[0] = draw(
            st.sampled_from(
                [b"", b"INVITE", b"INVITE sip:x SIP/3.0", b"invite sip:4008001000@127.0.0.1 SIP/2.0",
                 b"INVITE  sip:a@b  SIP/2.0", b"INVITE 4008001000 SIP/2.0", b"SIP/2.0 999 Huh",
                 b"SIP/2.0 200", b"\xff\xfe INVITE", b"FOO sip:a@b SIP/2.0", b"SIP/2.0 100 Trying",
                 b"INVITE sip:" + b"9" * 5000 + b"@h SIP/2.0", b"OPTIONS * SIP/2.0"]
            )
        )  # fmt: skip
    elif kind == "encoding":
        text = _join(lines, body).decode("utf-8", "replace")
        codec = draw(st.sampled_from(["utf-16", "utf-16-le", "latin-1", "gb18030", "utf-32"]))
        return text.encode(codec, "replace")
    elif kind == "truncate":
        whole = _join(lines, body)
        return whole[: draw(st.integers(0, len(whole)))]
    elif kind == "flip":
        whole = bytearray(_join(lines, body))
        if whole:
            at = draw(st.integers(0, len(whole) - 1))
            whole[at] ^= draw(st.integers(1, 255))
        return bytes(whole)
    elif kind == "insert":
        whole = _join(lines, body)
        at = draw(st.integers(0, len(whole)))
        return whole[:at] + draw(st.binary(min_size=1, max_size=64)) + whole[at:]
    elif kind == "fold" and len(lines) > 1:
        lines.insert(index, b" " + draw(VALUES).encode("utf-8", "surrogatepass"))
    elif kind == "sdp":
        body = draw(sdp_body())
    elif kind == "line-ends":
        whole = _join(lines, body)
        return whole.replace(b"\r\n", draw(st.sampled_from([b"\n", b"\r", b"\n\r", b"\r\r\n"])))
    elif kind == "many":
        name = draw(HEADER_NAMES).encode()
        lines[1:1] = [name + b": " + str(n).encode() for n in range(draw(st.integers(50, 400)))]
    return _join(lines, body)


@st.composite
def sdp_body(draw: st.DrawFn) -> bytes:
    lines = SDP.split("\r\n")
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = draw(
            st.sampled_from(
                ["", "v=1", "m=audio ² RTP/AVP 0", "m=audio 40000 RTP/AVP ²", "m=audio 99999 RTP/AVP 0",
                 "m=audio 40000 RTP/AVP", "m=video 0 RTP/AVP 31", "c=IN IP4", "c=IN IP9 x", "a=rtpmap:0",
                 "a=rtpmap:101 telephone-event/" + "9" * 5000, "a=fmtp:² x", "a=ptime:²",
                 "a=ptime:" + "9" * 5000,
                 "a=sendonly", "a=inactive", "o=", "x", "=", "m=audio 40000/2 RTP/AVP 0 8",
                 "m=audio 0 RTP/AVP 0", "a=rtpmap:128 PCMU/8000", "m=audio 40000 RTP/AVP 18"]
            )
            | VALUES
        )  # fmt: skip
    text = "\r\n".join(lines)
    if draw(st.booleans()):
        return text.encode("utf-8", "surrogatepass")
    return text.encode("utf-8", "surrogatepass") + draw(st.binary(max_size=40))


@st.composite
def fuzzed(draw: st.DrawFn, port: int, call_id: str, dialog: Dialog | None = None) -> bytes:
    """A real message, mutated 0–4 times (now and then left intact, so valid paths run too)."""
    methods = ("INFO", "REFER", "INVITE", "BYE", "OPTIONS", "CANCEL", "ACK") if dialog else METHODS
    method = draw(st.sampled_from(methods))
    wire = seed(
        method, port, dialog.call_id if dialog else call_id, dialog=dialog, cseq=draw(st.integers(2, 9))
    )
    for _ in range(draw(st.integers(0, 4))):
        wire = draw(mutation(wire, call_id))
    if draw(st.integers(0, 9)) == 0:
        wire = draw(st.binary(max_size=300))  # plain junk
    return wire[:65_000]  # what one UDP datagram can carry
