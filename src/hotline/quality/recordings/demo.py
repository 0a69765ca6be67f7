"""A dozen demo recordings for `make run`: calls and voicemail on the event log as the router
writes them, with WAV files synthesised at load (caller and agent taking turns: tone bursts shaped
like syllables, pauses, a moment on hold), then indexed, so the library is never empty."""

from __future__ import annotations

import asyncio
import math
import random
import wave
from array import array
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from hotline.admin import directory
from hotline.contact.models import ContactEvent
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.quality.recordings import indexer
from hotline.quality.reviews import demo as reviews_demo

RATE = 8000
DEMO = (
    # caller, dialled, queue, agent, hours ago, seconds, disposition label, survey (None: no survey);
    # a day ago or more, so the agent day's figures for today (demo.load_agent_day) stay its own
    ("13800138000", "4008001000", "hotel", "agent1", 25, 75, "预订成功", 5),
    ("13912345678", "4008002000", "travel", "agent2", 28, 60, "咨询", 4),
    ("13800138000", "4008002000", "travel", "agent3", 26, 90, "咨询", None),
    ("13600001111", "4008001000", "hotel", "agent1", 30, 45, "投诉", 2),
    ("13700002222", "4008001000", "hotel", "agent4", 50, 35, "需回电", 3),
    ("13500003333", "4008002000", "travel", "agent5", 74, 80, "预订成功", 5),
    ("13800138000", "4008001000", "hotel", "agent2", 98, 40, "其他", None),
    ("13300004444", "4008001000", "hotel", "agent3", 122, 55, "咨询", 4),
    ("13200005555", "4008002000", "travel", "agent1", 150, 70, "预订成功", 5),
    ("13100006666", "4008001000", "hotel", "agent4", 170, 30, "投诉", 1),
)
QA_CALLERS = ("13800138000", "13600001111", "13912345678", "13700002222")
LINES = {"hotel": "4008001000", "travel": "4008002000"}
VOICEMAIL = (("13800138000", "4008001000", "hotel", 30, 18), ("13912345678", "4008002000", "travel", 40, 25))


def _voice(frequency: int, amplitude: int) -> array[int]:
    """One second of 'speech': a tone in bursts of four syllables (periodic over the second, so
    longer turns are copies of it)."""
    return array(
        "h",
        (
            int(
                amplitude
                * max(0.0, math.sin(math.pi * 4 * n / RATE))
                * math.sin(2 * math.pi * frequency * n / RATE)
            )
            for n in range(RATE)
        ),
    )


def synthesise(seconds: int, seed: int) -> tuple[array[int], array[int]]:
    """The caller's and the agent's channels: turns of 1–5 s with pauses, an occasional overlap,
    and one quiet stretch (the caller on hold) in calls over a minute."""
    rng = random.Random(seed)  # noqa: S311 - demo audio, not a secret
    length = seconds * RATE
    sides = array("h", bytes(2 * length)), array("h", bytes(2 * length))
    sounds = _voice(220, 6000), _voice(180, 7000)
    at, speaker = int(0.5 * RATE), 1  # the agent greets first
    held = seconds > 60
    while at < length:
        turn = rng.randint(1, 5) * RATE
        end = min(length, at + turn)
        out, sound = sides[speaker], sounds[speaker]
        for start in range(at, end, RATE):
            piece = min(RATE, end - start)
            out[start : start + piece] = sound[:piece]
        gap = rng.choice((-RATE // 2, RATE // 3, RATE // 2, RATE, 2 * RATE))
        if held and at > length // 2:
            gap, held = 8 * RATE, False
        at, speaker = max(at + RATE, end + gap), 1 - speaker
    return sides


def _write(path: Path, channels: int, samples: array[int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())


def write_call(folder: Path, seconds: int, seed: int) -> Path:
    caller, agent = synthesise(seconds, seed)
    mix = array("h", bytes(4 * len(caller)))
    mix[0::2], mix[1::2] = caller, agent
    _write(folder / "a.wav", 1, caller)
    _write(folder / "b.wav", 1, agent)
    _write(folder / "mix.wav", 2, mix)
    return folder / "mix.wav"


def write_message(path: Path, seconds: int, seed: int) -> Path:
    caller, _ = synthesise(seconds, seed)
    _write(path, 1, caller)
    return path


async def load(ctx: Context) -> int:
    """The demo calls and voicemail on the log, their files written, indexed; idempotent."""
    async with ctx.read() as session:
        if await session.scalar(
            select(ContactEvent.id).where(ContactEvent.call_id.like("demo-rec-%")).limit(1)
        ):
            return 0
    people = {p.username: p for p in (await directory.staff(ctx)).values()}
    folder, now, lines = ctx.settings.recordings_dir, utcnow(), []
    calls = [
        (f"demo-rec-{n + 1}", number, dialled, queue, who, now - timedelta(hours=ago), seconds, label, score)
        for n, (number, dialled, queue, who, ago, seconds, label, score) in enumerate(DEMO)
    ] + [  # the calls QA's demo evaluations are of (agent1's), so each one plays
        (call_id, QA_CALLERS[n % len(QA_CALLERS)], LINES[queue], queue, "agent1",
         now - timedelta(minutes=ago), seconds, "投诉" if seconds > 900 else "咨询", None)
        for n, (call_id, ago, seconds, queue, _) in enumerate(reviews_demo.FLOW)
    ]  # fmt: skip
    for n, (call_id, caller, dialled, queue, username, answered, seconds, label, score) in enumerate(calls):
        agent = people.get(username)
        agent_id = agent.id if agent else None
        arrived = answered - timedelta(seconds=20)
        ended = answered + timedelta(seconds=seconds)
        mix = await asyncio.to_thread(write_call, folder / call_id, seconds, n)
        on = {"call_id": call_id, "queue": queue}
        lines += [
            ContactEvent(at=arrived, kind="arrived", detail=f"{caller} → {dialled}", **on),
            ContactEvent(at=arrived + timedelta(seconds=8), kind="queued", **on),
            ContactEvent(at=answered, kind="answered", agent_id=agent_id, **on),
            ContactEvent(at=ended, kind="ended", agent_id=agent_id, **on),
            ContactEvent(at=ended, kind="recorded", agent_id=agent_id, detail=str(mix), **on),
            ContactEvent(at=ended + timedelta(seconds=30), kind="wrapped", agent_id=agent_id,
                         detail=f"{label}: 演示通话", **on),
        ]  # fmt: skip
        if score is not None:
            lines.append(
                ContactEvent(
                    at=ended + timedelta(seconds=15),
                    kind="survey",
                    call_id=call_id,
                    agent_id=agent_id,
                    detail=str(score),
                )
            )
    for n, (caller, dialled, queue, ago, seconds) in enumerate(VOICEMAIL):
        call_id = f"demo-rec-vm-{n + 1}"
        left = now - timedelta(hours=ago)
        path = await asyncio.to_thread(write_message, folder / call_id / "voicemail.wav", seconds, 100 + n)
        lines += [
            ContactEvent(at=left - timedelta(seconds=40), kind="arrived", call_id=call_id, queue=queue,
                         detail=f"{caller} → {dialled}"),
            ContactEvent(at=left + timedelta(seconds=seconds), kind="voicemail", call_id=call_id,
                         detail=f"{seconds} s: {path}"),
        ]  # fmt: skip
    async with ctx.write() as tx:
        tx.session.add_all(lines)
    return await indexer.index_new(ctx)
