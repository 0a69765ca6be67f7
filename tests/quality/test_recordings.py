"""The recordings library (Q1): calls and voicemail indexed from the contact event log as the
router writes it, searched and paged, played and downloaded through signed links, kept by the
retention rules of their queue unless on legal hold. The WAV files are written as the recorder
writes them (a.wav the caller, b.wav the agent, mix.wav both)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from hotline.admin.models import User
from hotline.contact.events import CallRecorded
from hotline.contact.models import ContactEvent
from hotline.core.audit import AuditEntry
from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.crm import service as crm
from hotline.crm.schemas import CustomerIn, PhoneIn
from hotline.quality.recordings import checking, indexer, media, retention
from hotline.quality.recordings.demo import write_call, write_message
from hotline.quality.recordings.models import Recording, RecordingCursor
from hotline.quality.reviews.models import Evaluation, Scorecard
from hotline.quality.speech import service as speech
from hotline.quality.speech.models import Utterance
from hotline.tickets import intake
from tests.conftest import Users, assert_problem


async def _ids(ctx: Context) -> dict[str, int]:
    async with ctx.read() as session:
        return {name: uid for name, uid in await session.execute(select(User.username, User.id))}


async def _transferred_call(ctx: Context, call_id: str = "leg-7f3a", caller: str = "13800138000") -> datetime:
    """张伟 calls the hotel line; agent1 answers, transfers to agent2: two recorded parts. The lines
    are the router's (arrived, queued, offered, answered, recorded, transferred, …)."""
    ids = await _ids(ctx)
    folder = ctx.settings.recordings_dir / call_id
    first = await asyncio.to_thread(write_call, folder, 12, 1)
    second = await asyncio.to_thread(write_call, folder / "part2", 8, 2)
    t = utcnow() - timedelta(minutes=3)
    one, two = ids["agent1"], ids["agent2"]

    def line(seconds: int, kind: str, agent_id: int | None = None, detail: str = "") -> ContactEvent:
        at = t + timedelta(seconds=seconds)
        return ContactEvent(
            at=at, kind=kind, call_id=call_id, queue="hotel", agent_id=agent_id, detail=detail
        )

    lines = [
        line(0, "arrived", detail=f"{caller} → 4008001000"),
        line(0, "ivr", detail="welcome"),
        line(5, "queued"),
        line(6, "offered", one),
        line(9, "answered", one),
        line(21, "recorded", one, str(first)),
        line(21, "transferred", one, "agent2"),
        line(23, "answered", two),
        line(31, "recorded", two, str(second)),
        line(31, "ended", two),
    ]
    async with ctx.write() as tx:
        tx.session.add_all(lines)
    return t


async def _voicemail(ctx: Context, call_id: str = "leg-vm-1", caller: str = "13912345678") -> None:
    path = await asyncio.to_thread(
        write_message, ctx.settings.recordings_dir / call_id / "voicemail.wav", 6, 3
    )
    t = utcnow() - timedelta(minutes=1)
    async with ctx.write() as tx:
        tx.session.add(ContactEvent(at=t, kind="arrived", call_id=call_id, queue="travel",
                                    detail=f"{caller} → 4008002000"))  # fmt: skip
        tx.session.add(ContactEvent(at=t, kind="voicemail", call_id=call_id, detail=f"6 s: {path}"))


async def _log_after(ctx: Context, call_id: str, kind: str, agent: str, detail: str) -> None:
    ids = await _ids(ctx)
    async with ctx.write() as tx:
        tx.session.add(
            ContactEvent(at=utcnow(), kind=kind, call_id=call_id, agent_id=ids[agent], detail=detail)
        )


async def _audit(ctx: Context, action: str) -> list[AuditEntry]:
    async with ctx.read() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
                )
            ).all()
        )


async def test_given_a_transferred_call_and_a_voicemail_when_indexed_then_each_part_is_found_once(
    seeded: Context, users: Users
) -> None:
    await _transferred_call(seeded)
    await _voicemail(seeded)
    assert await indexer.index_new(seeded) == 3
    assert await indexer.index_new(seeded) == 0  # the cursor: read once
    async with seeded.write() as tx:  # even without the cursor, the source line is unique
        await tx.session.delete(await tx.session.get(RecordingCursor, "recordings"))
    assert await indexer.index_new(seeded) == 0
    # the wrap-up and the survey come after the recording: they reach the indexed rows
    await _log_after(seeded, "leg-7f3a", "wrapped", "agent1", "投诉: 房间有异味")
    await _log_after(seeded, "leg-7f3a", "survey", "agent2", "4")
    await indexer.index_new(seeded)

    qa = await users("qa")
    page = (await qa.get("/api/quality/recordings")).json()
    vm, second, first = page["items"]
    assert page["next_cursor"] is None
    assert (first["part"], second["part"]) == (1, 2)
    assert first["agent_name"] and first["agent_name"] != second["agent_name"]
    assert first["agent_number"] and first["agent_number"] != second["agent_number"]
    assert first["customer_name"] == "张伟" and first["direction"] == "inbound"
    assert first["number"] == "138****8000" and first["dialled"] == "4008001000"  # qa sees numbers masked
    assert first["queue"] == "hotel" and first["queue_title"]
    assert first["disposition"] == "complaint" and second["disposition"] == ""
    assert first["survey_score"] == 4 and first["channels"] == 2 and first["checks"] is None
    assert abs(first["seconds"] - 12) < 0.01 and abs(second["seconds"] - 8) < 0.01
    started = datetime.fromisoformat(first["started_at"])
    assert first["delete_after"] == str((started + timedelta(days=180)).date())
    assert vm["kind"] == "voicemail" and vm["channels"] == 1 and vm["customer_id"] is None
    async with seeded.read() as session:
        row = await session.get(Recording, first["id"])
    assert row is not None and row.path == "leg-7f3a/mix.wav"  # relative to the recordings folder
    assert row.node == seeded.settings.recordings_node

    supervisor = await users("supervisor")  # a role that may see numbers reveals one, audited
    assert (await supervisor.get(f"/api/quality/recordings/{first['id']}")).json()["number"] == "138****8000"
    asked = {"entity": "recording", "id": first["id"], "field": "number"}
    assert (await supervisor.post("/api/reveal", json=asked)).json()["value"] == "13800138000"
    assert [a.entity_id for a in await _audit(seeded, "recording.revealed")] == [str(first["id"])]
    assert_problem(await qa.post("/api/reveal", json=asked), 403, "permission-denied")
    agent = await users("agent1")
    assert_problem(await agent.get("/api/quality/recordings"), 403, "permission-denied")


async def test_given_a_recording_announced_on_a_voice_node_then_it_is_searchable_within_seconds(
    seeded: Context,
) -> None:
    watcher = indexer.Watcher(seeded, seeded.bus)
    watcher.DELAY = 0.1
    watcher.start()
    try:
        await _voicemail(seeded, "leg-vm-fast")
        await seeded.bus.publish(CallRecorded(call_id="leg-vm-fast"))
        for _ in range(100):
            async with seeded.read() as session:
                if await session.scalar(select(Recording.id).where(Recording.call_id == "leg-vm-fast")):
                    break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the recording was not indexed within 5 s of being announced")
    finally:
        await watcher.stop()


async def test_search_filters_page_by_cursor_and_refuse_bad_input_naming_the_field(
    seeded: Context, users: Users
) -> None:
    await _transferred_call(seeded)
    await _voicemail(seeded)
    await indexer.index_new(seeded)
    ids = await _ids(seeded)
    qa = await users("qa")

    async def found(**params: object) -> list[str]:
        body = (await qa.get("/api/quality/recordings", params=params)).json()
        return [f"{r['call_id']}#{r['part']}" for r in body["items"]]

    assert await found(number="8000") == ["leg-7f3a#2", "leg-7f3a#1"]  # the last digits
    assert await found(number="13800138000") == ["leg-7f3a#2", "leg-7f3a#1"]
    assert await found(number="4008002000") == ["leg-vm-1#1"]  # the number dialled
    assert await found(number="1234") == []
    assert await found(agent_id=ids["agent2"]) == ["leg-7f3a#2"]
    assert await found(kind="voicemail") == ["leg-vm-1#1"]
    assert await found(queue="hotel", min_seconds=10) == ["leg-7f3a#1"]
    assert await found(max_seconds=7) == ["leg-vm-1#1"]
    assert await found(call_id="leg-7f3a", direction="inbound") == ["leg-7f3a#2", "leg-7f3a#1"]
    assert await found(direction="outbound") == []
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert await found(**{"from": future}) == []

    seen, cursor = [], None
    while True:
        params: dict[str, object] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        body = (await qa.get("/api/quality/recordings", params=params)).json()
        seen += [r["id"] for r in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 3 and len(set(seen)) == 3

    bad = [
        ("number", {"number": "12"}),
        ("number", {"number": "138-8000"}),
        ("limit", {"limit": 0}),
        ("direction", {"direction": "sideways"}),
        ("cursor", {"cursor": "not-a-cursor"}),
        ("from", {"from": future, "to": utcnow().isoformat()}),
        ("min_seconds", {"min_seconds": 30, "max_seconds": 10}),
        ("agent_share_min", {"agent_share_min": 80, "agent_share_max": 20}),
        ("agent_share_max", {"agent_share_max": 101}),
        ("silence_at_least", {"silence_at_least": -1}),
    ]
    for field, params in bad:
        response = await qa.get("/api/quality/recordings", params=params)
        assert response.status_code == 422, (field, response.text)
        named = [e["field"] for e in response.json()["errors"]]
        assert field in named or f"query.{field}" in named, (field, named)


async def test_play_gives_signed_links_that_stream_with_range_and_refuse_tampering_or_expiry(
    seeded: Context, users: Users, client: httpx.AsyncClient
) -> None:
    await _transferred_call(seeded)
    await indexer.index_new(seeded)
    qa = await users("qa")
    first = (await qa.get("/api/quality/recordings", params={"call_id": "leg-7f3a"})).json()["items"][-1]
    links = (await qa.post(f"/api/quality/recordings/{first['id']}/play")).json()
    assert [a.after for a in await _audit(seeded, "recording.listened")] == [
        {"call_id": "leg-7f3a", "part": 1}
    ]

    mix = seeded.settings.recordings_dir / "leg-7f3a" / "mix.wav"
    whole = await client.get(links["audio"])  # no session: the link is the permission
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/wav"
    assert whole.headers["cache-control"].startswith("private") and whole.content == mix.read_bytes()
    part = await client.get(links["audio"], headers={"Range": "bytes=44-143"})
    assert part.status_code == 206 and part.content == mix.read_bytes()[44:144]
    assert part.headers["content-range"] == f"bytes 44-143/{mix.stat().st_size}"
    caller = await client.get(links["caller"])
    assert caller.content == (mix.parent / "a.wav").read_bytes()
    agent = await client.get(links["agent"])
    assert agent.content == (mix.parent / "b.wav").read_bytes()
    peaks = (await client.get(links["peaks"])).json()
    assert peaks["duration"] == 12 and peaks["rate"] == 50 and len(peaks["channels"]) == 2
    assert len(peaks["channels"][0]) == 2 * 12 * 50  # min and max per point
    assert max(peaks["channels"][1][:200]) > 0.1  # the agent greets first, half a second in
    assert max(peaks["channels"][0][:200]) == 0  # and the caller listens

    token = links["audio"].rsplit("/", 1)[1]
    forged = token.replace(f"{first['id']}.mix", f"{first['id'] + 1}.mix", 1)
    body = assert_problem(await client.get(f"/api/quality/media/{forged}"), 403, "media-link-refused")
    assert body["reason"] == "media-link-invalid"
    key = await media.media_key(seeded)
    old = media.sign(key, media.MediaGrant(first["id"], "mix", "play", int(utcnow().timestamp()) - 1))
    body = assert_problem(await client.get(f"/api/quality/media/{old}"), 403, "media-link-refused")
    assert body["reason"] == "media-link-expired"
    assert datetime.fromisoformat(links["expires_at"]) - utcnow() <= timedelta(minutes=10)


async def test_download_needs_its_own_permission_is_audited_and_names_no_one(
    seeded: Context, users: Users, client: httpx.AsyncClient
) -> None:
    await _transferred_call(seeded)
    await indexer.index_new(seeded)
    qa, supervisor = await users("qa"), await users("supervisor")
    rid = (await qa.get("/api/quality/recordings")).json()["items"][0]["id"]
    assert_problem(await qa.post(f"/api/quality/recordings/{rid}/download"), 403, "permission-denied")
    link = (await supervisor.post(f"/api/quality/recordings/{rid}/download")).json()
    got = await client.get(link["url"])
    assert got.status_code == 200
    assert got.headers["content-disposition"] == f'attachment; filename="recording-{rid}.wav"'
    assert [a.entity_id for a in await _audit(seeded, "recording.downloaded")] == [str(rid)]
    assert_problem(
        await supervisor.post("/api/quality/recordings/999999/download"), 404, "recording-not-found"
    )


async def test_retention_deletes_what_is_past_its_queue_s_time_except_what_is_on_legal_hold(
    seeded: Context, users: Users
) -> None:
    await _transferred_call(seeded)
    await _voicemail(seeded)
    await indexer.index_new(seeded)
    supervisor, qa = await users("supervisor"), await users("qa")

    too_short = await supervisor.put("/api/quality/retention", json={"rules": [{"queue": "", "days": 10}]})
    assert_problem(too_short, 422, "validation-failed", "body.rules.0.days")  # outbound ≥ 30 days too
    unknown = await supervisor.put("/api/quality/retention", json={"rules": [{"queue": "nope", "days": 60}]})
    assert_problem(unknown, 422, "invalid-input", "body.rules.0.queue")
    assert_problem(await qa.put("/api/quality/retention", json={"rules": []}), 403, "permission-denied")
    rules = await supervisor.put("/api/quality/retention", json={"rules": [{"queue": "hotel", "days": 30}]})
    assert rules.json()["rules"][0]["days"] == 30 and rules.json()["default_days"] == 180

    hotel = (await qa.get("/api/quality/recordings", params={"queue": "hotel"})).json()["items"]
    first, second = sorted(hotel, key=lambda r: r["part"])
    no_reason = await supervisor.put(f"/api/quality/recordings/{first['id']}/hold", json={"legal_hold": True})
    assert_problem(no_reason, 422, "validation-failed", "body.reason")
    held = await supervisor.put(
        f"/api/quality/recordings/{first['id']}/hold", json={"legal_hold": True, "reason": "投诉 #T-1042"}
    )
    assert held.json()["legal_hold"] is True and held.json()["delete_after"] is None
    async with seeded.write() as tx:  # 40 days pass
        for row in (await tx.session.scalars(select(Recording))).all():
            row.started_at -= timedelta(days=40)

    assert await retention.sweep(seeded) == 1  # the hotel part not held; the voicemail has 180 days
    folder = seeded.settings.recordings_dir / "leg-7f3a"
    assert (folder / "mix.wav").exists() and not (folder / "part2" / "mix.wav").exists()
    assert not (folder / "part2" / "a.wav").exists()
    assert [a.entity_id for a in await _audit(seeded, "recording.deleted")] == [str(second["id"])]
    assert_problem(await qa.get(f"/api/quality/recordings/{second['id']}"), 404, "recording-not-found")
    left = [r["id"] for r in (await qa.get("/api/quality/recordings")).json()["items"]]
    assert second["id"] not in left and first["id"] in left
    assert await retention.sweep(seeded) == 0
    assert [a.action for a in await _audit(seeded, "recording.hold")] == ["recording.hold"]


def test_a_media_token_names_what_it_grants_and_any_change_breaks_it() -> None:
    key = b"k" * 32
    grant = media.MediaGrant(42, "caller", "play", 2_000_000_000)
    token = media.sign(key, grant)
    assert media.verify(key, token, now=utcnow()) == grant
    for changed in (
        token.replace("caller", "agent"),
        token.replace(".play.", ".download."),
        token[:-2] + "xx",
    ):
        with pytest.raises(Exception, match="not valid"):
            media.verify(key, changed)
    with pytest.raises(Exception, match="not valid"):
        media.verify(b"other" * 8, token)


async def test_the_recordings_settings_are_core_settings_read_from_the_same_environment(
    monkeypatch: pytest.MonkeyPatch, ctx: Context
) -> None:
    monkeypatch.setenv("HOTLINE_RECORDINGS_NODE", "voice-2")
    monkeypatch.setenv("HOTLINE_RECORDINGS_MEDIA_SECRET", "shared-by-every-node")
    monkeypatch.setenv("HOTLINE_RECORDINGS_DEFAULT_DAYS", "7")
    read = Settings()
    assert read.recordings_node == "voice-2" and read.recordings_default_days == 7
    here = Context(read, ctx.db, ctx.bus, ctx.actor)
    assert retention.default_days(here) == media.MINIMUM_DAYS  # never below 30, as before
    assert await media.media_key(here) == b"shared-by-every-node"  # not the database's key
    monkeypatch.setenv("HOTLINE_RECORDINGS_DEFAULT_DAYS", "0")
    with pytest.raises(ValidationError, match="recordings_default_days"):
        Settings()


def test_demo_audio_alternates_caller_and_agent(tmp_path: Path) -> None:
    mix = write_call(tmp_path / "call", 20, 7)
    peaks = media.compute_peaks(str(mix))
    assert peaks == {"duration": 20.0, "rate": 50}


async def test_a_recorded_call_is_checked_right_after_indexing_with_its_hold_time_from_the_log(
    seeded: Context, users: Users
) -> None:
    t = await _transferred_call(seeded, "leg-checked")
    async with seeded.write() as tx:  # agent1 put the caller on hold for 4 s during the first part
        for seconds, kind in ((12, "held"), (16, "resumed")):
            tx.session.add(ContactEvent(at=t + timedelta(seconds=seconds), kind=kind, call_id="leg-checked",
                                        queue="hotel", agent_id=(await _ids(seeded))["agent1"]))  # fmt: skip
    watcher = indexer.Watcher(seeded, seeded.bus)
    watcher.DELAY = 0.1
    watcher.start()
    try:
        await seeded.bus.publish(CallRecorded(call_id="leg-checked"))
        for _ in range(200):
            async with seeded.read() as session:
                rows = list((await session.scalars(select(Recording).order_by(Recording.part))).all())
            if len(rows) == 2 and all(row.checked_at for row in rows):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the call's two parts were not indexed and checked within 10 s")
    finally:
        await watcher.stop()
    assert [row.hold_seconds for row in rows] == [4.0, 0.0]
    qa = await users("qa")
    found = (await qa.get(f"/api/quality/recordings/{rows[0].id}")).json()["checks"]
    assert found["hold_seconds"] == 4.0
    assert found["agent_talk"] > 0 and found["caller_talk"] > 0  # both sides took turns
    assert found["caller_talk"] + found["agent_talk"] <= 12 + found["overtalk_seconds"]
    assert await checking.check_new(seeded) == 0  # checked once

    # the figures are searchable: by the longest silence, overtalk and the agent's share of the talk
    def ids(response: httpx.Response) -> set[int]:
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    longest = max(row.longest_silence or 0.0 for row in rows)
    share = round(100 * found["talk_ratio"])
    assert ids(await qa.get("/api/quality/recordings", params={"silence_at_least": 0})) == {
        r.id for r in rows
    }
    assert ids(await qa.get("/api/quality/recordings", params={"silence_at_least": longest + 0.1})) == set()
    assert rows[0].id in ids(
        await qa.get(
            "/api/quality/recordings",
            params={"agent_share_min": max(0, share - 1), "agent_share_max": min(100, share + 1)},
        )
    )
    assert rows[0].id not in ids(
        await qa.get("/api/quality/recordings", params={"overtalk_at_least": found["overtalk_seconds"] + 1})
    )


async def test_a_recording_the_analysis_refuses_is_marked_with_the_reason_and_not_tried_again(
    seeded: Context,
) -> None:
    await _transferred_call(seeded, "leg-lost")
    await indexer.index_new(seeded)
    for name in ("a.wav", "b.wav"):  # the first part's channel files are gone, the mix is not
        (seeded.settings.recordings_dir / "leg-lost" / name).unlink()
    assert await checking.check_new(seeded) == 2
    async with seeded.read() as session:
        rows = list((await session.scalars(select(Recording).order_by(Recording.part))).all())
    assert rows[0].checks == {"refused": "recording-missing"}
    assert rows[1].checks is not None and rows[1].checks["agent_talk"] > 0
    assert await checking.check_new(seeded) == 0


async def test_an_evaluation_s_score_shows_on_the_recordings_of_the_agent_it_judged(
    seeded: Context, users: Users
) -> None:
    await _transferred_call(seeded, "leg-judged")  # agent1 took the first part, agent2 the second
    await indexer.index_new(seeded)
    ids, qa = await _ids(seeded), await users("qa")
    card = (await qa.get("/api/quality/scorecards")).json()[0]
    made = await qa.post("/api/quality/evaluations", json={
        "call_id": "leg-judged", "agent_id": ids["agent1"], "evaluator_id": ids["qa"],
        "scorecard_id": card["id"], "queue": "hotel", "seconds": 12,
    })  # fmt: skip
    moves = f"/api/quality/evaluations/{made.json()['id']}/moves"
    assert (await qa.post(moves, json={"action": "start"})).status_code == 200
    answers = {item["key"]: {"value": item.get("max", 1)} for s in card["sections"] for item in s["items"]}
    scored = await qa.post(moves, json={"action": "submit", "answers": answers})
    assert scored.status_code == 200, scored.text
    parts = (await qa.get("/api/quality/recordings", params={"call_id": "leg-judged"})).json()["items"]
    by_agent = {row["agent_id"]: row["qa_score"] for row in parts}
    assert by_agent == {ids["agent1"]: float(scored.json()["score"]), ids["agent2"]: None}


async def test_given_a_forgotten_customer_then_their_recordings_and_transcripts_are_erased_except_held_audio(
    seeded: Context, users: Users
) -> None:
    # 赵敏 leaves a voicemail before she has a file (linked by number only), then calls and is
    # transferred (two parts, linked to her file); a complaint puts the first part on legal hold.
    await _voicemail(seeded, "erase-vm", caller="13700000009")
    await indexer.index_new(seeded)
    customer = await crm.create(seeded, CustomerIn(name="赵敏", phones=[PhoneIn(number="13700000009")]))
    await _transferred_call(seeded, "erase-call", caller="13700000009")
    await indexer.index_new(seeded)
    async with seeded.read() as session:
        rows = {r.call_id + f"/{r.part}": r for r in await session.scalars(
            select(Recording).where(Recording.call_id.in_(["erase-vm", "erase-call"]))
        )}  # fmt: skip
    held, part2, vm = rows["erase-call/1"], rows["erase-call/2"], rows["erase-vm/1"]
    assert held.customer_id == part2.customer_id == customer.id and vm.customer_id is None
    said = [{"channel": "caller", "start": 1.0, "end": 4.0, "text": "我的手机是13700000009"}]
    for row in rows.values():
        await speech.store_transcript(seeded, row.id, said, engine="demo", demo=True)
    supervisor, qa = await users("supervisor"), await users("qa")
    await supervisor.put(
        f"/api/quality/recordings/{held.id}/hold", json={"legal_hold": True, "reason": "诉讼"}
    )
    folder = seeded.settings.recordings_dir

    assert (await supervisor.delete(f"/api/customers/{customer.id}")).status_code == 204

    for gone in (part2, vm):  # files deleted, rows gone from the library, transcripts dropped
        assert not (folder / gone.path).exists() and not (folder / gone.path).with_name("a.wav").exists()
        assert_problem(await qa.get(f"/api/quality/recordings/{gone.id}"), 404, "recording-not-found")
    kept = (await qa.get(f"/api/quality/recordings/{held.id}")).json()
    assert (kept["customer_id"], kept["number"], kept["customer_name"]) == (None, "", "")  # unlinked
    assert (await qa.post(f"/api/quality/recordings/{held.id}/play")).status_code == 200  # the audio stays
    assert (folder / held.path).exists()
    text = (await qa.get(f"/api/quality/recordings/{held.id}/transcript")).json()
    assert (text["status"], text["reason"], text["utterances"]) == ("refused", "customer-erased", [])
    by_number = await qa.get("/api/quality/recordings", params={"number": "13700000009"})
    assert by_number.json()["items"] == []
    async with seeded.read() as session:
        left = await session.scalars(select(Utterance.recording_id).where(
            Utterance.recording_id.in_([r.id for r in rows.values()])))  # fmt: skip
        assert list(left) == []
        tombs = {
            r.id: r
            for r in await session.scalars(select(Recording).where(Recording.id.in_([part2.id, vm.id])))
        }
    assert all(t.deleted_at is not None and t.number == "" and t.customer_id is None for t in tombs.values())
    erased = await _audit(seeded, "recording.erased")
    assert {(a.entity_id, (a.after or {})["legal_hold"]) for a in erased} == {
        (str(held.id), True), (str(part2.id), False), (str(vm.id), False),
    }  # fmt: skip


async def test_an_agent_hears_their_own_evaluated_call_and_a_ticket_s_voicemail_and_nothing_else(
    seeded: Context, users: Users
) -> None:
    # agent1 took the first part of 张伟's call and agent2 the second; QA evaluates agent1's part
    await _transferred_call(seeded, "leg-eval")
    await _voicemail(seeded, "leg-vm-ticket")
    await indexer.index_new(seeded)
    ids = await _ids(seeded)
    async with seeded.read() as session:
        parts = {
            r.part: r.id
            for r in await session.scalars(select(Recording).where(Recording.call_id == "leg-eval"))
        }
        card = await session.scalar(select(Scorecard.id).where(Scorecard.status == "published").limit(1))
        vm = await session.scalar(select(Recording.id).where(Recording.call_id == "leg-vm-ticket"))
    assert card is not None and vm is not None
    async with seeded.write() as tx:
        evaluation = Evaluation(call_id="leg-eval", agent_id=ids["agent1"], evaluator_id=ids["qa"],
                                scorecard_id=card, status="in_progress")  # fmt: skip
        tx.session.add(evaluation)
    agent1, agent2, finance = await users("agent1"), await users("agent2"), await users("finance")
    calls = "/api/quality/calls/leg-eval/recordings"

    # not scored yet: the agent does not see the evaluation, nor hear the call through it
    assert_problem(await agent1.post(f"/api/quality/recordings/{parts[1]}/play"), 403, "permission-denied")
    async with seeded.write() as tx:
        row = await tx.session.get(Evaluation, evaluation.id)
        assert row is not None
        row.status = "scored"
    mine = await agent1.get(calls)
    assert [r["id"] for r in mine.json()] == [parts[1]]  # their part; agent2's part is not theirs
    played = await agent1.post(f"/api/quality/recordings/{parts[1]}/play")
    assert played.status_code == 200 and played.json()["caller"]
    assert (await agent1.get(played.json()["audio"])).status_code == 200
    listened = [a for a in await _audit(seeded, "recording.listened") if a.entity_id == str(parts[1])]
    assert [a.actor_id for a in listened] == [ids["agent1"]]  # audited as any listen
    refused = assert_problem(
        await agent1.post(f"/api/quality/recordings/{parts[2]}/play"), 403, "permission-denied"
    )
    assert refused["errors"][0]["type"] == "recording-not-yours"
    assert_problem(await agent2.get(calls), 403, "permission-denied")  # agent2 has no evaluation of it
    assert_problem(await agent2.post(f"/api/quality/recordings/{parts[1]}/play"), 403, "permission-denied")
    assert (
        await agent1.get(f"/api/quality/recordings/{parts[1]}")
    ).status_code == 403  # no library for agents

    # the voicemail plays for whoever may read the ticket it became; finance reads no tickets
    assert_problem(await agent2.post(f"/api/quality/recordings/{vm}/play"), 403, "permission-denied")
    await intake.voicemail(seeded)
    assert [r["id"] for r in (await agent2.get("/api/quality/calls/leg-vm-ticket/recordings")).json()] == [vm]
    assert (await agent2.post(f"/api/quality/recordings/{vm}/play")).status_code == 200
    assert_problem(await finance.post(f"/api/quality/recordings/{vm}/play"), 403, "permission-denied")
    assert (await agent1.get("/api/quality/calls/no-such-call/recordings")).json() == []


async def test_the_demo_s_scored_calls_show_their_qa_score_in_the_library(
    seeded: Context, users: Users
) -> None:
    from hotline import demo

    await demo.load_agent_day(seeded)  # `hotline demo-data`: the recordings come after the evaluations
    qa = await users("qa")

    async def score_of(call_id: str) -> object:
        items = (await qa.get("/api/quality/recordings", params={"call_id": call_id})).json()["items"]
        assert len(items) == 1, items
        return items[0]["qa_score"]

    assert await score_of("demo-qa-1") is None  # assigned, not scored yet
    scored = await score_of("demo-qa-3")
    assert isinstance(scored, float) and 0 <= scored <= 100
