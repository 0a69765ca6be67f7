"""Telephony settings through the API, seen by the running voice engine: an extension added in the
admin pages registers at once, a disabled one is refused, and secrets never come back out."""

from __future__ import annotations

import asyncio
import io
import math
import struct
import wave

import pytest

from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.telephony.service import prompt_audio
from tests.conftest import Users, assert_problem, free_port, make_settings
from tests.voice.softphone import Softphone


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, roles=["api", "voice"], sip_port=free_port())


async def eventually(check: object, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the voice engine did not pick up the change")


async def test_an_extension_added_by_the_admin_registers_at_once_and_a_disabled_one_is_refused(
    seeded: Context, users: Users, app: object
) -> None:
    admin = await users("admin")
    sip = app.state.hotline.sip  # type: ignore[attr-defined]
    assert "1005" in sip.extensions  # the demo extensions were loaded at start
    created = await admin.post(
        "/api/telephony/extensions",
        json={"number": "1099", "display_name": "前台分机", "password": "Qz7-desk"},
    )
    assert created.status_code == 201, created.text
    assert {"password", "ha1_md5", "ha1_sha256"}.isdisjoint(created.json())
    await eventually(lambda: "1099" in sip.extensions)
    phone = await Softphone.open("1099", "Qz7-desk", sip.port)
    try:
        assert await phone.register() == 200
        live = (await admin.get("/api/telephony/status")).json()
        (entry,) = [e for e in live["extensions"] if e["number"] == "1099"]
        assert len(entry["contacts"]) == 1 and entry["contacts"][0]["transport"] == "UDP"

        disabled = await admin.patch(
            f"/api/telephony/extensions/{created.json()['id']}", json={"enabled": False}
        )
        assert disabled.status_code == 200 and disabled.json()["enabled"] is False
        await eventually(lambda: "1099" not in sip.extensions)
        assert await phone.register() == 401
    finally:
        phone.close()
    audit = (await admin.get("/api/audit", params={"entity_type": "extensions"})).json()
    assert audit["total"] >= 2 and "ha1" not in str([e.get("after") for e in audit["items"]]).replace(
        "'ha1_", ""
    )


async def test_bad_telephony_input_gets_a_clear_error_and_changes_nothing(
    seeded: Context, users: Users
) -> None:
    admin = await users("admin")
    before = (await admin.get("/api/telephony/extensions")).json()
    cases = [
        ("/api/telephony/extensions", {"number": "1098", "display_name": "x", "password": "1098"}, 422, None),
        ("/api/telephony/extensions", {"number": "1097", "display_name": "x", "password": "aaaaaaaa"}, 422,
         "weak-sip-password"),
        ("/api/telephony/extensions", {"number": "1001", "display_name": "x", "password": "Good-pass1"}, 409,
         "extension-taken"),
        ("/api/telephony/extensions", {"number": "12", "display_name": "x", "password": "Good-pass1"}, 422,
         None),
        ("/api/telephony/trunks", {"name": "carrier", "host": "sip.example.com", "registers": True}, 422,
         "registration-needs-credentials"),
        ("/api/telephony/trunks", {"name": "bad host", "host": "a b"}, 422, None),
        ("/api/telephony/dids", {"number": "4008003000", "trunk_id": 999, "entry_point": "hotel"}, 422, None),
        ("/api/telephony/dids", {"number": "4008001000", "trunk_id": 1, "entry_point": "hotel"}, 409,
         "did-taken"),
    ]  # fmt: skip
    for path, body, status, code in cases:
        response = await admin.post(path, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        if code is not None:
            assert response.json()["code"] == code
    assert (await admin.get("/api/telephony/extensions")).json() == before
    assert [t["name"] for t in (await admin.get("/api/telephony/trunks")).json()] == ["demo"]
    agent = await users("agent1")
    assert_problem(await agent.get("/api/telephony/extensions"), 403, "permission-denied")
    supervisor = await users("supervisor")
    assert (await supervisor.get("/api/telephony/status")).status_code == 200
    assert_problem(await supervisor.post("/api/telephony/trunks", json={"name": "x", "host": "h"}), 403,
                   "permission-denied")  # fmt: skip


async def test_a_trunk_password_is_kept_but_never_shown(seeded: Context, users: Users) -> None:
    admin = await users("admin")
    created = await admin.post(
        "/api/telephony/trunks",
        json={"name": "carrier", "host": "203.0.113.9", "username": "hotline", "password": "s3cret-Trunk",
              "registers": True, "caller_id": "4008001000"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["has_password"] is True and "s3cret-Trunk" not in created.text
    listed = await admin.get("/api/telephony/trunks")
    assert "s3cret-Trunk" not in listed.text
    renamed = await admin.patch(f"/api/telephony/trunks/{created.json()['id']}", json={"port": 5080})
    assert renamed.json()["has_password"] is True  # an omitted password stays as it was
    audit = await admin.get("/api/audit", params={"entity_type": "trunks"})
    assert "s3cret-Trunk" not in audit.text


def wav_file(seconds: float, *, rate: int = 16000, channels: int = 2) -> bytes:
    """A WAV as a recording studio would deliver it: 16 kHz stereo, not the 8 kHz mono Hotline plays."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = [round(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(rate * seconds))]
        out.writeframes(
            struct.pack(f"<{len(samples) * channels}h", *[s for s in samples for _ in range(channels)])
        )
    return buffer.getvalue()


async def test_an_uploaded_recording_becomes_an_8khz_prompt_and_bad_files_are_refused(
    seeded: Context, users: Users, ctx: Context
) -> None:
    admin = await users("admin")
    stored = await admin.put(
        "/api/telephony/prompts/hold-music", content=wav_file(2.0), headers={"content-type": "audio/wav"},
        params={"description": "等待音乐"},
    )  # fmt: skip
    assert stored.status_code == 200, stored.text
    assert stored.json()["source"] == "upload" and abs(stored.json()["duration_ms"] - 2000) <= 20
    audio = await prompt_audio(ctx, "hold-music")
    assert audio is not None and abs(len(audio) - 16000) <= 160  # 8 kHz μ-law: 8,000 bytes a second
    listened = await admin.get(f"/api/telephony/prompts/{stored.json()['id']}/audio")
    assert listened.headers["content-type"] == "audio/wav" and listened.content[:4] == b"RIFF"

    for body in (b"not audio at all", b"RIFF\x00\x00\x00\x00WAVEjunk"):
        refused = await admin.put("/api/telephony/prompts/other", content=body)
        assert_problem(refused, 422, "unreadable-audio", "body")
    assert_problem(
        await admin.put("/api/telephony/prompts/Bad Name", content=wav_file(0.1)), 422, "validation-failed"
    )
    agent = await users("agent1")
    assert_problem(
        await agent.put("/api/telephony/prompts/x", content=wav_file(0.1)), 403, "permission-denied"
    )
    assert [p["name"] for p in (await admin.get("/api/telephony/prompts")).json()] == ["hold-music"]
