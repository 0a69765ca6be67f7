"""Running an IVR flow on a call, through the call-control interface only.

The same interpreter runs on the built-in engine, on the simulated driver (tests, `hotline ivr
dry-run`, the staffing simulator) and so behaves the same everywhere. What a flow needs from the
rest of Hotline comes in through `FlowServices`: how to turn speech into audio, the lookup
functions, and how to transfer a call.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import structlog

from hotline.contact.ivr.flow import (
    ABOUT,
    CollectNode,
    ConditionNode,
    CountNode,
    Flow,
    HangupNode,
    HoursNode,
    LogNode,
    LookupNode,
    MenuNode,
    PlayNode,
    SayNode,
    SetNode,
    Speech,
    SurveyNode,
    TransferNode,
    VoicemailNode,
)
from hotline.core.jobs import is_china_workday
from hotline.voice.control import Leg, LegRecording, settle
from hotline.voice.media.g711 import tone, ulaw_encode
from hotline.voice.media.tts import PromptCache, TtsUnavailable

log = structlog.get_logger(__name__)

Lookup = Callable[[Mapping[str, Any]], Awaitable[Any]]
_FIELD = re.compile(r"\{([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)(?:\|([a-z]+))?\}")
_DIGITS = "零一二三四五六七八九"
MAX_STEPS = 500  # a flow that loops forever (menu → itself) still ends


def _lookup_path(variables: Mapping[str, Any], path: str) -> Any:
    value: Any = variables
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
        if value is None:
            return None
    return value


def spoken(value: Any, style: str | None = None) -> str:
    """A value as it should be read out in Mandarin: `digits` one by one (member and order
    numbers), `money` in 元, dates as 年月日, times as 点分."""
    if value is None:
        return ""
    if style == "digits":
        return "".join(_DIGITS[int(c)] if c.isdigit() else c for c in str(value))
    if style == "money" or isinstance(value, Decimal):
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
        yuan, fen = divmod(int(amount * 100), 100)
        return f"{yuan}元" + (f"{fen // 10}角{fen % 10}分" if fen % 10 else f"{fen // 10}角" if fen else "")
    if isinstance(value, datetime):
        return f"{value.year}年{value.month}月{value.day}日{value.hour}点{value.minute:02d}分"
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, time):
        return f"{value.hour}点{value.minute:02d}分" if value.minute else f"{value.hour}点"
    return str(value)


def render(text: str, variables: Mapping[str, Any]) -> str:
    """Fill `{name}`, `{order.status}` and `{member_number|digits}` from the flow's variables."""
    return _FIELD.sub(lambda m: spoken(_lookup_path(variables, m.group(1)), m.group(2)), text)


class Voice(Protocol):
    async def audio(self, speech: Speech, variables: Mapping[str, Any]) -> bytes:
        """8 kHz μ-law audio for what the node says."""
        ...


class Transfers(Protocol):
    async def transfer(self, leg: Leg, node: TransferNode, run: FlowRun) -> bool:
        """Connect the caller as the node says; True once the call was taken (and is over)."""
        ...


@dataclass
class FlowServices:
    voice: Voice
    transfers: Transfers
    lookups: Mapping[str, Lookup] = field(default_factory=dict)
    now: Callable[[], datetime] = datetime.now
    visited: Callable[[str, str, str, str, str], None] = lambda flow, node, leg_id, kind, label: None
    """Called at every node visit with the node's kind and label (the per-node counters of T4
    reports, the call's IVR path)."""
    record_to: Path | None = None
    """Where voicemail messages are kept (a folder per call); None: not recorded."""
    voicemail: Callable[[Leg, Path, float], None] = lambda leg, path, seconds: None
    """Called with each voicemail message left (the file and its length)."""
    surveyed: Callable[[str, int | None, dict[str, Any]], None] = lambda leg_id, score, variables: None
    """Called with the caller's survey score (None: no valid key) and the call's variables."""
    logged: Callable[[Leg, str, str, bool], None] = lambda leg, event, detail, audit: None
    """Called by a `log` node: the event, its detail and whether it goes to the audit trail too."""
    asked: Callable[[str, str], None] = lambda leg_id, about: None
    """Called with what the caller asks about (`route:YN6`, `hotel:SH-BUND`): a node's `about`,
    or the `about` of what a lookup found (the order enquired after is of that route or hotel)."""


@dataclass
class FlowRun:
    flow: Flow
    variables: dict[str, Any] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    outcome: str = ""


async def run_flow(
    flow: Flow, leg: Leg, services: FlowServices, *, variables: dict[str, Any] | None = None
) -> FlowRun:
    """Answer the call and walk the flow from its start until a hang-up, a transfer that was
    taken, or the caller leaving."""
    run = FlowRun(flow, {"caller": leg.caller, "number": leg.number, **(variables or {})})
    leg.variables["flow_run"] = run  # readable while the flow runs, and after a hang-up cancelled it
    await leg.answer()
    node_id: str | None = flow.start
    while node_id is not None and len(run.path) < MAX_STEPS and not leg.ended.is_set():
        run.path.append(node_id)
        node = flow.nodes[node_id]
        services.visited(flow.name, node_id, leg.id, node.type, node.label)
        if node.about:
            services.asked(leg.id, node.about)
        node_id = await _step(node, leg, services, run)
    if leg.ended.is_set() and not run.outcome:
        run.outcome = "caller-hung-up"
    log.info("ivr flow finished", flow=flow.name, path=run.path, outcome=run.outcome, leg=leg.id)
    return run


async def _say(leg: Leg, services: FlowServices, speech: Speech, run: FlowRun) -> bool:
    """Play with barge-in: a key stops the prompt (and is kept for the next input)."""
    audio = await services.voice.audio(speech, run.variables)
    return await leg.play(audio, interrupt=leg.key_pressed)


async def _step(node: object, leg: Leg, services: FlowServices, run: FlowRun) -> str | None:
    match node:
        case PlayNode():
            await _say(leg, services, node.say, run)
            return node.next
        case SayNode():
            await _say(leg, services, Speech(text=node.text), run)
            return node.next
        case MenuNode():
            for attempt in range(node.retries):
                if attempt:
                    await _say(leg, services, node.invalid, run)
                await _say(leg, services, node.say, run)
                key = await leg.collect(max_digits=1, terminator="", first_timeout=node.timeout)
                if key in node.options:
                    run.variables["last_key"] = key
                    return node.options[key]
            return node.on_fail
        case CollectNode():
            await _say(leg, services, node.say, run)
            digits = await leg.collect(
                max_digits=node.max_digits,
                terminator=node.terminator,
                first_timeout=node.first_timeout,
                next_timeout=node.next_timeout,
            )
            run.variables[node.variable] = digits
            return node.next if digits else node.on_empty
        case LookupNode():
            function = services.lookups.get(node.function)
            if function is None:
                log.error("ivr lookup missing", function=node.function)
                return node.on_empty
            try:
                result = await function(run.variables)
            except Exception as exc:  # a failing lookup must not drop the call
                log.error("ivr lookup failed", function=node.function, error=repr(exc))
                result = None
            run.variables[node.result] = result
            about = result.get("about") if isinstance(result, Mapping) else None
            if isinstance(about, str) and re.fullmatch(ABOUT, about):
                services.asked(leg.id, about)
            return node.next if result else node.on_empty
        case ConditionNode():
            for case in node.cases:
                value = _lookup_path(run.variables, case.variable)
                if case.is_set is not None and bool(value not in (None, "")) == case.is_set:
                    return case.next
                if case.equals is not None and value is not None and str(value) == case.equals:
                    return case.next
            return node.default
        case SetNode():
            run.variables[node.variable] = render(node.value, run.variables)
            return node.next
        case HoursNode():
            now = services.now()
            day_ok = node.days == "all" or (is_china_workday(now.date()) == (node.days == "workdays"))
            within = node.open <= now.strftime("%H:%M") < node.close
            return node.is_open if day_ok and within else node.is_closed
        case TransferNode():
            if await services.transfers.transfer(leg, node, run):
                run.outcome = f"transferred:{node.to}:{node.target}"
                return node.after if node.after and not leg.ended.is_set() else None
            return node.on_fail
        case VoicemailNode():
            await _say(leg, services, node.say, run)
            run.variables["voicemail_requested"] = True
            run.outcome = "voicemail"
            recording = (
                leg.record(services.record_to / leg.id / "voicemail.wav") if services.record_to else None
            )
            try:
                await _message(leg, node.max_seconds)
            finally:  # also when the caller hangs up, which is how most messages end
                if recording is not None:
                    await settle(_keep_message(recording, leg, services, run))
            return node.next
        case SurveyNode():
            await _say(leg, services, node.say, run)
            key = await leg.collect(max_digits=1, terminator="", first_timeout=10)
            score = int(key) if key in "12345" and key else None
            run.variables[node.variable] = score
            services.surveyed(leg.id, score, run.variables)
            return node.next
        case CountNode():
            before = run.variables.get(node.variable)
            count = (before if isinstance(before, int) else 0) + 1
            run.variables[node.variable] = count
            return node.on_limit if count >= node.limit else node.next
        case LogNode():
            services.logged(leg, node.event, render(node.detail, run.variables), node.audit)
            return node.next
        case HangupNode():
            if node.say is not None:
                await _say(leg, services, node.say, run)
            run.outcome = run.outcome or "completed"
            await leg.hang_up()
            return None
    raise TypeError(f"unknown node {node!r}")


async def _message(leg: Leg, seconds: float) -> None:
    """The caller speaks until they hang up, press #, or the time is up."""
    leg.key_pressed.clear()
    deadline = asyncio.get_running_loop().time() + seconds
    while not leg.ended.is_set():
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return
        ended = asyncio.ensure_future(leg.ended.wait())
        key = asyncio.ensure_future(leg.digits.get())
        try:
            done, _ = await asyncio.wait({ended, key}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            key.cancel()
        if not done or (key in done and not key.cancelled() and key.result() == "#"):
            return


async def _keep_message(recording: LegRecording, leg: Leg, services: FlowServices, run: FlowRun) -> None:
    kept = await recording.stop()
    if kept is not None:
        path, seconds = kept
        run.variables["voicemail"] = str(path)
        services.voicemail(leg, path, seconds)


class PacedSilence:
    """A voice for dry runs and simulations: silence as long as the text would take to say
    (about four Chinese characters a second), so virtual time passes as on a real call."""

    async def audio(self, speech: Speech, variables: Mapping[str, Any]) -> bytes:
        text = render(speech.text or speech.prompt or "", variables)
        return b"\xff" * max(1600, len(text) * 2000)


class SpokenVoice:
    """The engine's voice: a recorded prompt by name when the node names one that exists,
    otherwise the text (with its variables filled in) spoken by TTS; a beep when TTS is missing."""

    def __init__(self, cache: PromptCache, recorded: Callable[[str], Awaitable[bytes | None]]) -> None:
        self.cache, self.recorded = cache, recorded

    async def audio(self, speech: Speech, variables: Mapping[str, Any]) -> bytes:
        if speech.prompt:
            audio = await self.recorded(speech.prompt)
            if audio:
                return audio
        text = render(speech.text or "", variables)
        try:
            return await self.cache.mulaw(text)
        except TtsUnavailable:
            return ulaw_encode(tone(660, 300))
