"""Transcripts and phrase rules (issue 20 item 3): a recorded call is transcribed in a worker after
its checks, what each side said is shown with the recording (audited like a listen), each queue's
phrase rules find the greeting, the 工号 and the closing or their absence and every 禁用语, and the
library and sampling use those findings. The engine is the tests' double (speech_double.py): it
recognises the espeak-ng Mandarin clips the calls are made of, so the transcript is known."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from hotline.admin.models import User
from hotline.contact.models import ContactEvent
from hotline.core.audit import AuditEntry
from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.quality.recordings import checking, indexer
from hotline.quality.recordings import demo as recordings_demo
from hotline.quality.recordings.models import Recording
from hotline.quality.reviews import plans
from hotline.quality.speech import demo as speech_demo
from hotline.quality.speech import engines, service
from hotline.quality.speech import jobs as speech_jobs
from hotline.quality.speech.models import Transcript, Utterance
from tests.conftest import Users, assert_problem, audit_files, make_settings
from tests.quality.speech import GREETING, REQUEST, WAIT, channel, write_wav
from tests.quality.speech_double import BRUSH_OFF, JOB_NUMBER, KnownPhrases

DOUBLE = "tests.quality.speech_double:KnownPhrases"
SECONDS = 40.0
AGENT = [(1.0, GREETING), (7.0, JOB_NUMBER), (24.0, BRUSH_OFF)]
CALLER = [(13.0, REQUEST), (32.0, WAIT)]
RULES = {
    "rules": [
        {"key": "greeting", "title": "问候语", "kind": "required", "phrases": ["欢迎致电"],
         "within": "first", "seconds": 15},
        {"key": "job_number", "title": "报工号", "kind": "required", "phrases": ["工号"], "pinyin": True,
         "within": "first", "seconds": 20},
        {"key": "closing", "title": "结束语", "kind": "required", "phrases": ["请问还有什么可以帮您"],
         "within": "last", "seconds": 30},
        {"key": "forbidden", "title": "禁用语", "kind": "forbidden", "phrases": ["不知道", "你自己看"]},
    ]
}  # fmt: skip


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        recordings_dir=tmp_path / "recordings",
        speech_engine=DOUBLE,
        **audit_files(tmp_path / "audit"),
    )


def _write_call(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    caller, agent = channel(SECONDS, CALLER, seed=1), channel(SECONDS, AGENT, seed=2)
    write_wav(folder / "a.wav", caller)
    write_wav(folder / "b.wav", agent)
    mix = np.empty(2 * len(caller), dtype="<i2")
    mix[0::2], mix[1::2] = caller, agent
    return write_wav(folder / "mix.wav", mix, channels=2)


async def _recorded_call(ctx: Context, call_id: str = "leg-speech-1", *, hours_ago: float = 0.1) -> int:
    """agent1 answers 张伟 on the hotel line and says AGENT, he says CALLER; indexed and checked."""
    async with ctx.read() as session:
        agent1 = await session.scalar(select(User.id).where(User.username == "agent1"))
    mix = await asyncio.to_thread(_write_call, ctx.settings.recordings_dir / call_id)
    t = utcnow() - timedelta(hours=hours_ago)
    on = {"call_id": call_id, "queue": "hotel"}
    async with ctx.write() as tx:
        tx.session.add_all([
            ContactEvent(at=t, kind="arrived", detail="13800138000 → 4008001000", **on),
            ContactEvent(at=t + timedelta(seconds=3), kind="queued", **on),
            ContactEvent(at=t + timedelta(seconds=5), kind="answered", agent_id=agent1, **on),
            ContactEvent(at=t + timedelta(seconds=45), kind="recorded", agent_id=agent1, detail=str(mix),
                         **on),
            ContactEvent(at=t + timedelta(seconds=45), kind="ended", agent_id=agent1, **on),
        ])  # fmt: skip
    await indexer.index_new(ctx)
    assert await checking.check_new(ctx) == 1
    async with ctx.read() as session:
        found = await session.scalar(select(Recording.id).where(Recording.call_id == call_id))
    assert found is not None
    return found


async def test_given_a_call_with_a_brush_off_when_transcribed_then_its_words_and_phrase_findings_show(
    seeded: Context, users: Users
) -> None:
    recording_id = await _recorded_call(seeded)
    qa = await users("qa")
    assert (await qa.put("/api/quality/phrase-rules/hotel", json=RULES)).status_code == 200

    before = (await qa.get(f"/api/quality/recordings/{recording_id}/transcript")).json()
    assert before["status"] == "pending" and before["utterances"] == []
    assert await service.transcribe_new(seeded) == 1
    assert await service.transcribe_new(seeded) == 0  # once

    body = (await qa.get(f"/api/quality/recordings/{recording_id}/transcript")).json()
    assert body["status"] == "done" and body["engine"] == DOUBLE and body["demo"] is False
    said = [(u["channel"], u["text"]) for u in body["utterances"]]
    assert said == [("agent", GREETING), ("agent", JOB_NUMBER), ("caller", REQUEST), ("agent", BRUSH_OFF),
                    ("caller", WAIT)]  # fmt: skip
    for utterance, (at, _) in zip(body["utterances"], sorted(AGENT + CALLER), strict=True):
        assert at <= utterance["start"] < at + 0.3  # espeak's own lead-in, no more

    hits = {(h["rule"], h["kind"]): h for h in body["hits"]}
    assert set(hits) == {("greeting", "required"), ("job_number", "required"), ("closing", "missing"),
                         ("forbidden", "forbidden")}  # fmt: skip
    assert (
        1.0 < hits[("greeting", "required")]["at"] < 3.0
        and hits[("greeting", "required")]["title"] == "问候语"
    )
    brush = [h for h in body["hits"] if h["kind"] == "forbidden"]  # 不知道 and 你自己看, in the order said
    assert [h["phrase"] for h in brush] == ["不知道", "你自己看"]
    assert all(24.0 < h["at"] < 30.0 and h["channel"] == "agent" for h in brush)
    assert {body["utterances"][h["utterance"]]["text"] for h in brush} == {BRUSH_OFF}
    assert hits[("closing", "missing")]["at"] is None

    row = (await qa.get(f"/api/quality/recordings/{recording_id}")).json()
    assert row["phrases"] == {"forbidden_count": 2, "missing_count": 1, "missing": ["closing"]}

    async def found(**params: object) -> list[int]:
        response = await qa.get("/api/quality/recordings", params=params)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await found(forbidden=True) == [recording_id]
    assert await found(forbidden=False) == []
    assert await found(missing_required="closing") == [recording_id]
    assert await found(missing_required="any") == [recording_id]
    assert await found(missing_required="greeting") == []
    assert await found(text="欢迎致电") == [recording_id]
    assert await found(text="欢迎，致电！") == [recording_id]  # punctuation does not matter
    assert await found(text="退房") == []

    async with seeded.read() as session:
        read = list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "recording.transcript_read")
                .order_by(AuditEntry.seq)
            )
        )
    assert [a.entity_id for a in read] == [str(recording_id)] * 2

    # sampling's always-rule: the call with a forbidden-phrase hit is flagged
    facts = await plans.candidates(seeded, utcnow() - timedelta(hours=1), utcnow())
    assert [(f.call_id, f.forbidden_hit) for f in facts] == [("leg-speech-1", True)]


async def test_the_agent_figures_count_the_checked_calls_their_silences_and_forbidden_hits(
    seeded: Context, users: Users
) -> None:
    recording_id = await _recorded_call(seeded)
    qa, agent1 = await users("qa"), await users("agent1")
    assert (await qa.put("/api/quality/phrase-rules/hotel", json=RULES)).status_code == 200
    await service.transcribe_new(seeded)
    checks = (await qa.get(f"/api/quality/recordings/{recording_id}")).json()["checks"]
    assert checks["silence_count"] > 0  # the agent waits while 张伟 speaks and the other way round
    hour = {"from": (utcnow() - timedelta(hours=1)).isoformat(), "to": utcnow().isoformat()}
    line = (await qa.get("/api/quality/figures/agents", params=hour)).json()
    assert [f["agent_name"] for f in line] == ["001 陈晓"]  # (the demo's evaluations of agent1 count too)
    found = {k: line[0][k] for k in ("calls_checked", "silences", "overtalks", "forbidden_hits")}
    assert found == {"calls_checked": 1, "silences": checks["silence_count"],
                     "overtalks": checks["overtalk_count"], "forbidden_hits": 1}  # fmt: skip
    assert (await agent1.get("/api/quality/my/figures", params=hour)).json() == line
    before = {
        "from": (utcnow() - timedelta(days=2)).isoformat(),
        "to": (utcnow() - timedelta(days=1)).isoformat(),
    }
    assert (await qa.get("/api/quality/figures/agents", params=before)).json() == []


async def test_given_changed_rules_then_the_queues_transcripts_are_matched_again(
    seeded: Context, users: Users
) -> None:
    recording_id = await _recorded_call(seeded)
    await service.transcribe_new(seeded)
    qa = await users("qa")
    row = (await qa.get(f"/api/quality/recordings/{recording_id}")).json()
    assert row["phrases"] == {"forbidden_count": 0, "missing_count": 0, "missing": []}  # no rules yet

    rules = {"rules": [RULES["rules"][1] | {"phrases": ["公号"], "pinyin": False}]}  # the homophone, exactly
    assert (await qa.put("/api/quality/phrase-rules/hotel", json=rules)).status_code == 200
    assert await service.match_pending(seeded) == 1
    row = (await qa.get(f"/api/quality/recordings/{recording_id}")).json()
    assert row["phrases"]["missing"] == ["job_number"]

    rules["rules"][0]["pinyin"] = True  # 公号 sounds like 工号: found
    assert (await qa.put("/api/quality/phrase-rules/hotel", json=rules)).status_code == 200
    await service.match_pending(seeded)
    row = (await qa.get(f"/api/quality/recordings/{recording_id}")).json()
    assert row["phrases"]["missing"] == []
    sets = {s["queue"]: s for s in (await qa.get("/api/quality/phrase-rules")).json()}
    assert sets["hotel"]["rules"][0]["phrases"] == ["公号"] and sets["travel"]["rules"] == []
    async with seeded.read() as session:
        changed = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.entity_type == "phrase_rules").order_by(AuditEntry.seq)
            )
        )
    assert len(changed) == 2


async def test_phrase_rules_refuse_bad_input_naming_the_field_and_need_their_permissions(
    seeded: Context, users: Users
) -> None:
    qa = await users("qa")
    rule = RULES["rules"][0]

    async def put(body: object, queue: str = "hotel") -> object:
        return await qa.put(f"/api/quality/phrase-rules/{queue}", json=body)

    assert_problem(
        await put({"rules": [rule | {"seconds": None}]}), 422, "invalid-input", "body.rules.0.seconds"
    )
    assert_problem(await put({"rules": [rule, rule]}), 422, "invalid-input", "body.rules.1.key")
    assert_problem(await put({"rules": [rule | {"phrases": ["欢迎", "，。！"]}]}), 422, "invalid-input",
                   "body.rules.0.phrases.1")  # fmt: skip
    assert_problem(
        await put({"rules": [rule | {"phrases": []}]}), 422, "validation-failed", "body.rules.0.phrases"
    )
    assert_problem(
        await put({"rules": [rule | {"kind": "maybe"}]}), 422, "validation-failed", "body.rules.0.kind"
    )
    assert_problem(
        await put({"rules": [rule | {"seconds": 0}]}), 422, "validation-failed", "body.rules.0.seconds"
    )
    assert_problem(
        await put({"rules": [rule | {"key": "Greeting!"}]}), 422, "validation-failed", "body.rules.0.key"
    )
    assert_problem(await put(RULES, queue="nowhere"), 404, "recording-not-found", "queue")
    assert_problem(
        await qa.get("/api/quality/recordings", params={"text": "，。"}), 422, "invalid-input", "text"
    )
    assert_problem(await qa.get("/api/quality/recordings", params={"missing_required": "A B"}), 422,
                   "validation-failed", "query.missing_required")  # fmt: skip
    assert_problem(await qa.get("/api/quality/recordings/999999/transcript"), 404, "recording-not-found")

    agent = await users("agent1")
    assert_problem(await agent.get("/api/quality/phrase-rules"), 403, "permission-denied")
    assert_problem(await agent.get("/api/quality/recordings/1/transcript"), 403, "permission-denied")
    teamlead = await users("teamlead")  # listens to recordings, does not keep the rules
    assert_problem(
        await teamlead.put("/api/quality/phrase-rules/hotel", json=RULES), 403, "permission-denied"
    )
    supervisor = await users("supervisor")
    assert (await supervisor.put("/api/quality/phrase-rules/travel", json=RULES)).status_code == 200


async def test_given_no_engine_or_a_broken_one_then_nothing_breaks_and_a_refusal_is_kept(
    seeded: Context, users: Users, settings: Settings
) -> None:
    recording_id = await _recorded_call(seeded)
    qa = await users("qa")
    off = Context(settings.model_copy(update={"speech_engine": "none"}), seeded.db, seeded.bus,
                  seeded.actor, pool=seeded.pool)  # fmt: skip
    assert await service.transcribe_new(off) == 0
    broken = Context(settings.model_copy(update={"speech_engine": "nowhere.engine:Missing"}), seeded.db,
                     seeded.bus, seeded.actor, pool=seeded.pool)  # fmt: skip
    assert await service.transcribe_new(broken) == 1
    assert await service.transcribe_new(broken) == 0  # refused once, not every minute
    body = (await qa.get(f"/api/quality/recordings/{recording_id}/transcript")).json()
    assert body["status"] == "refused" and body["reason"] == "speech-engine-missing"
    assert (await qa.get(f"/api/quality/recordings/{recording_id}")).json()["phrases"] is None


def test_long_speech_is_cut_into_pieces_an_engine_can_take() -> None:
    one_side = channel(75.0, [(float(at), GREETING) for at in range(0, 70, 5)], seed=3)  # no pause over 0.3 s
    pieces = engines.pieces(one_side.tobytes())
    assert all(end - start <= engines.MAX_UTTERANCE_SECONDS for start, end in pieces)
    assert pieces[0][0] < 0.5 and pieces[-1][1] > 69 and len(pieces) >= 3
    assert KnownPhrases(engines.EngineConfig()).transcribe(channel(8.0, []).tobytes(), 8000) == []


async def test_the_demo_library_shows_forbidden_phrases_and_masks_numbers_said(
    seeded: Context, users: Users
) -> None:
    await recordings_demo.load(seeded)
    cli = Context(seeded.settings, seeded.db, seeded.bus, seeded.actor)  # `hotline demo-data`: no pool
    assert await speech_demo.load(cli) == 10
    assert await speech_demo.load(cli) == 0  # idempotent
    qa = await users("qa")
    flagged = (await qa.get("/api/quality/recordings", params={"forbidden": True})).json()["items"]
    assert sorted(r["call_id"] for r in flagged) == ["demo-rec-10", "demo-rec-4", "demo-rec-7"]
    no_job = (await qa.get("/api/quality/recordings", params={"missing_required": "job_number"})).json()[
        "items"
    ]
    assert {"demo-rec-3", "demo-rec-4", "demo-rec-10"} <= {r["call_id"] for r in no_job}
    first = next(
        r for r in (await qa.get("/api/quality/recordings", params={"call_id": "demo-rec-1"})).json()["items"]
    )
    body = (await qa.get(f"/api/quality/recordings/{first['id']}/transcript")).json()
    assert body["demo"] is True and body["engine"] == "demo"
    text = " ".join(u["text"] for u in body["utterances"])
    assert "138****8000" in text and "13800138000" not in text
    assert first["phrases"] == {"forbidden_count": 0, "missing_count": 0, "missing": []}
    async with seeded.read() as session:
        assert (
            await session.scalar(select(Transcript.status).where(Transcript.recording_id == first["id"]))
            == "done"
        )

    # retention deletes the recording: its transcript goes with it
    async with seeded.write() as tx:
        row = await tx.session.get(Recording, first["id"])
        assert row is not None
        row.deleted_at = utcnow()
    await speech_jobs.after_retention(seeded)
    async with seeded.read() as session:
        assert await session.get(Transcript, first["id"]) is None
        assert await session.scalar(select(Utterance.id).where(Utterance.recording_id == first["id"])) is None
