"""The pieces of SIP over WebSocket that need no server: a browser's phone credential (parsed back
exactly, anything else is an extension's username) and a connection's bounded send queue (a stuck
or closed browser drops what is sent to it, and is logged once)."""

from __future__ import annotations

from hotline.voice.sip.credentials import PhoneCredential
from hotline.voice.sip.transport import Peer
from hotline.voice.sip.websocket import WebSocketLink


def test_a_phone_credential_round_trips_and_its_password_depends_on_every_part_and_the_key() -> None:
    credential = PhoneCredential.issue("1001", 1_767_225_600)
    assert PhoneCredential.parse(credential.username) == credential
    password = credential.password(b"key")
    assert password == credential.password(b"key") and "=" not in password and len(password) == 43
    assert credential.password(b"other key") != password
    longer = PhoneCredential(credential.extension, credential.expires + 1, credential.nonce)
    moved = PhoneCredential("1002", credential.expires, credential.nonce)
    assert password not in (longer.password(b"key"), moved.password(b"key"))
    assert credential.expired(1_767_225_600) and not credential.expired(1_767_225_599)
    for username in ("1001", "1001.17.short", "1001.x.abcdefghij", "1.1767225600.abcdefghij",
                     "1001.1767225600.abcdefghij.extra", "¹⁰⁰¹.1767225600.abcdefghij"):  # fmt: skip
        assert PhoneCredential.parse(username) is None, username


async def test_a_stuck_or_closed_browser_drops_messages_and_the_writer_ends() -> None:
    link = WebSocketLink(Peer("WS", "192.0.2.7", 0, 3), "1001", queue=2)
    assert link.peer.source == "192.0.2.7/ws3" and link.peer.uri_params == ";transport=ws"
    for n in range(4):
        link.send(b"message %d" % n)
    assert link.dropped == 2
    assert await link.outgoing() == b"message 0"
    link.close()
    assert await link.outgoing() is None  # what waited is dropped with the connection
    link.send(b"late")
    assert link.dropped == 3 and await link.outgoing() is None
    assert Peer("UDP", "192.0.2.7", 5060).source == "192.0.2.7"
