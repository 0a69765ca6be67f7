"""The demo's phrase rules (hotel and travel lines: 欢迎致电, 工号, 请问还有什么可以帮您, and the 禁用语)
and transcripts of the demo recordings. The demo's audio is tones, not speech, so its transcripts
are written here as data, marked as demo (engine "demo"), and matched like any other: the library
shows calls with forbidden phrases and missing ones. Idempotent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.quality.recordings.models import Recording
from hotline.quality.speech import service
from hotline.quality.speech.models import PhraseRuleSet, Transcript

RULES: list[dict[str, Any]] = [
    {"key": "greeting", "title": "问候语", "kind": "required", "phrases": ["欢迎致电", "您好，这里是"],
     "side": "agent", "within": "first", "seconds": 15, "pinyin": False},
    {"key": "job_number", "title": "报工号", "kind": "required", "phrases": ["工号"],
     "side": "agent", "within": "first", "seconds": 20, "pinyin": True},
    {"key": "closing", "title": "结束语", "kind": "required",
     "phrases": ["请问还有什么可以帮您", "还有什么可以帮您", "还有其他问题吗"],
     "side": "agent", "within": "last", "seconds": 30, "pinyin": False},
    {"key": "forbidden", "title": "禁用语", "kind": "forbidden",
     "phrases": ["不知道", "没办法", "你自己看", "不归我管", "听不懂吗"],
     "side": "agent", "within": None, "seconds": None, "pinyin": False},
]  # fmt: skip

A, C = "agent", "caller"
GOOD_HOTEL = [
    (A, "您好，欢迎致电英冠酒店，我是工号1008，很高兴为您服务"),
    (C, "你好，我想订明天晚上的一间大床房"),
    (A, "好的，请问您贵姓，留一个联系电话"),
    (C, "我姓张，手机是13800138000"),
    (A, "请稍等，我帮您查一下。明天大床房还有，含双早，会员价四百二十八元"),
    (C, "可以，就订这个吧"),
    (A, "已经为您预订好了，确认短信稍后发到您的手机。请问还有什么可以帮您"),
    (C, "没有了，谢谢"),
    (A, "感谢您的来电，祝您生活愉快，再见"),
]
GOOD_TRAVEL = [
    (A, "您好，欢迎致电英冠旅行，工号2003为您服务"),
    (C, "我想问一下下个月去云南的团还有位置吗"),
    (A, "有的，十五号出发的昆明大理丽江六日游还有八个名额"),
    (C, "两个人多少钱"),
    (A, "每位三千六百八十元，含往返机票和酒店。请问还有什么可以帮您"),
    (C, "好的，我再考虑一下"),
    (A, "好的，感谢您的来电，再见"),
]
NO_JOB_NUMBER = [
    (A, "您好，欢迎致电英冠旅行"),
    (C, "我上周订的机票想改签"),
    (A, "请稍等，我帮您查一下订单。可以改签到后天同一航班，需要补差价一百二十元"),
    (C, "行，改吧"),
    (A, "已经改好了，请问还有什么可以帮您"),
    (C, "没有了"),
]
COMPLAINT = [
    (A, "喂，您好"),
    (C, "我昨天住的房间有很大的异味，一晚上都没睡好"),
    (A, "这个我也不知道，你自己看一下入住须知吧"),
    (C, "你这是什么态度？我要投诉"),
    (A, "没办法，这个不归我管"),
]
SHORT_OK = [
    (A, "您好，欢迎致电英冠酒店，工号1012为您服务"),
    (C, "我想确认一下明天的预订"),
    (A, "您的预订已确认，明天下午两点后可以入住。请问还有什么可以帮您"),
    (C, "没有了，谢谢"),
]
BRUSH_OFF = [
    (A, "您好，欢迎致电英冠酒店，工号1003"),
    (C, "我想问一下你们酒店附近有没有停车场"),
    (A, "没办法帮您确认，您到了再问前台吧。还有其他问题吗"),
    (C, "那算了"),
]
SCRIPTS = {1: GOOD_HOTEL, 2: GOOD_TRAVEL, 3: NO_JOB_NUMBER, 4: COMPLAINT, 5: SHORT_OK, 6: GOOD_TRAVEL,
           7: BRUSH_OFF, 8: GOOD_HOTEL, 9: GOOD_TRAVEL, 10: COMPLAINT}  # fmt: skip
"""demo-rec-N (recordings/demo.py) → what was said in it."""


def timed(script: list[tuple[str, str]], seconds: float) -> list[dict[str, Any]]:
    """The script's turns laid over a recording `seconds` long: each turn as long as its text
    (about four characters a second), with pauses, stretched to end a second before the call."""
    lengths = [0.25 * len(text) for _, text in script]
    pause = max(0.3, (seconds - 1.5 - sum(lengths)) / max(1, len(script)))
    scale = min(1.0, (seconds - 1.5 - pause * len(script)) / sum(lengths))
    at, out = 0.5, []
    for (channel, text), length in zip(script, lengths, strict=True):
        end = at + length * scale
        out.append({"channel": channel, "start": round(at, 2), "end": round(end, 2), "text": text})
        at = end + pause
    return out


async def load(ctx: Context) -> int:
    """The rules of the hotel and travel queues and the demo recordings' transcripts, matched."""
    async with ctx.write() as tx:
        for queue in ("hotel", "travel"):
            if await tx.session.get(PhraseRuleSet, queue) is None:
                tx.session.add(PhraseRuleSet(queue=queue, rules=RULES, updated_at=utcnow(), updated_by=None))
    async with ctx.read() as session:
        found: list[tuple[int, str, float, datetime]] = [
            (r.id, r.call_id, r.seconds, r.started_at)
            for r in await session.scalars(
                select(Recording)
                .outerjoin(Transcript, Transcript.recording_id == Recording.id)
                .where(
                    Recording.call_id.like("demo-rec-%"),
                    Recording.kind == "call",
                    Transcript.recording_id.is_(None),
                )
            )
        ]
    made = 0
    for recording_id, call_id, seconds, _ in found:
        script = SCRIPTS.get(int(call_id.rsplit("-", 1)[1]))
        if script is not None:
            await service.store_transcript(
                ctx, recording_id, timed(script, seconds), engine="demo", demo=True
            )
            made += 1
    await service.match_pending(ctx)
    return made
