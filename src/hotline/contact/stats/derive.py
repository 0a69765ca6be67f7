"""Pure derivations: a call's lines → its record; a record → what it adds to each interval row;
an agent's state lines → milliseconds per interval. No I/O: the rollup feeds them, the property
test checks them against each other.

A call's figures belong to the 15-minute interval it arrived in (docs/metrics.md): a call that
waits across a boundary is counted once, where it began, so adding intervals never counts it twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hotline.contact.calls.wrapup import DISPOSITIONS
from hotline.contact.metrics import SHORT_ABANDON_SECONDS
from hotline.contact.stats.models import MEASURES

INTERVAL = timedelta(minutes=15)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
DISPOSITION_OF = {label: code for code, label in DISPOSITIONS.items()}
OUTCOMES = (
    "answered", "abandoned", "short_abandoned", "callback", "timed_out", "refused", "voicemail",
    "ivr_only", "failed", "in_progress",
)  # fmt: skip
"""Every outcome a record can have (docs/metrics.md "Call records")."""
_UNANSWERED = ("voicemail", "callback", "timed_out", "refused")


@dataclass(frozen=True)
class Line:
    """One line of contact_events, as the derivations need it (picklable for ctx.compute)."""

    id: int
    at: datetime
    kind: str
    call_id: str = ""
    agent_id: int | None = None
    queue: str = ""
    state: str = ""
    detail: str = ""


MAX_ENQUIRIES = 32
"""Subjects kept per call (a caller looping through the menus does not grow the record)."""


@dataclass
class Record:
    """A call record's derived values (models.CallRecord's columns)."""

    call_id: str
    arrived_at: datetime
    ended_at: datetime | None = None
    direction: str = "in"
    channel: str = "voice"
    campaign: str = ""
    flow: str = ""
    dnis: str = ""
    caller: str = ""
    caller_rev: str = ""
    first_queue: str = ""
    last_queue: str = ""
    agent_id: int | None = None
    outcome: str = "in_progress"
    wait_ms: int | None = None
    ring_ms: int | None = None
    talk_ms: int | None = None
    hold_ms: int = 0
    wrap_ms: int = 0
    duration_ms: int | None = None
    in_time: bool = False
    transfers: int = 0
    disposition: str = ""
    has_recording: bool = False
    survey_score: int | None = None
    ivr_path: list[list[str]] = field(default_factory=list)
    flow_outcome: str = ""
    enquiries: list[str] = field(default_factory=list)
    last_line: int = 0

    def columns(self) -> dict[str, object]:
        return asdict(self)


def _ms(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds() * 1000))


def reversed_digits(number: str) -> str:
    return "".join(ch for ch in reversed(number) if ch.isdigit())[:32]


def derive_record(
    call_id: str,
    lines: Iterable[Line],
    *,
    service_seconds: Mapping[str, int],
    wrap_ends: Mapping[int, datetime],
) -> Record | None:
    """The record of a call from all its lines (in time order; a late line lands in its place).
    `wrap_ends`: for each wrap-up state line of the call (by id), when the agent left wrap-up.
    None when the log holds only agents' lines of the call (nothing of the call itself yet)."""
    ordered = sorted(lines, key=lambda x: (x.at, x.id))
    own = [x for x in ordered if x.kind != "agent"]
    if not own:
        return None
    arrived = next((x for x in own if x.kind == "arrived"), None)
    dialled = next((x for x in own if x.kind == "dialled"), None)
    record = Record(call_id=call_id, arrived_at=(arrived or own[0]).at, last_line=max(x.id for x in ordered))
    if dialled is not None or call_id.startswith("out-"):
        record.direction = "out"
        record.caller = dialled.detail[:32] if dialled else ""
        record.campaign = dialled.queue[:64] if dialled else ""
        if arrived is None and dialled is not None:
            record.arrived_at = dialled.at
    if arrived is not None:
        caller, _, dnis = arrived.detail.partition("→")
        record.caller, record.dnis, record.flow = caller.strip()[:32], dnis.strip()[:32], arrived.queue
    record.caller_rev = reversed_digits(record.caller)
    queued = [x for x in own if x.kind in ("queued", "requeued")]
    if queued:
        record.first_queue = queued[0].queue or queued[0].detail[:64]
        record.last_queue = queued[-1].queue or queued[-1].detail[:64]
    answers = [x for x in own if x.kind == "answered"]
    answer = answers[0] if answers else None
    if answer is not None:
        record.agent_id = answer.agent_id
        offers = [
            x for x in own if x.kind == "offered" and x.agent_id == answer.agent_id and x.at <= answer.at
        ]
        if offers:
            record.ring_ms = _ms(offers[-1].at, answer.at)
        ends = [x for x in own if x.kind == "ended" and x.at >= answer.at]
        if ends:
            record.talk_ms = _ms(answer.at, ends[-1].at)
        record.hold_ms = _held(own, answer.at, ends[-1].at if ends else None)
    first_queued = queued[0] if queued and queued[0].kind == "queued" else None
    record.outcome = _outcome(own, answer, first_queued)
    if first_queued is not None:
        left = answer if answer is not None else _left_queue(own, first_queued)
        if left is not None:
            record.wait_ms = _ms(first_queued.at, left.at)
            if record.outcome == "abandoned" and record.wait_ms < SHORT_ABANDON_SECONDS * 1000:
                record.outcome = "short_abandoned"
        if answer is not None and record.wait_ms is not None:
            limit = service_seconds.get(record.first_queue, 20)
            record.in_time = record.wait_ms <= limit * 1000
    record.transfers = sum(1 for x in own if x.kind == "transferred")
    for x in own:
        if x.kind == "wrapped":
            record.disposition = DISPOSITION_OF.get(x.detail.split(":", 1)[0].strip(), "other")
        elif x.kind == "survey" and x.detail.isdigit():
            record.survey_score = int(x.detail)
        elif x.kind == "recorded":
            record.has_recording = True
        elif x.kind == "ivr":
            record.ivr_path.append([x.detail[:64], x.state])
        elif x.kind == "finished":
            record.flow_outcome = x.detail[:64]
        elif x.kind == "enquiry" and len(record.enquiries) < MAX_ENQUIRIES:
            record.enquiries.append(x.detail[:40])
    for x in ordered:
        if x.kind == "agent" and x.state == "wrap_up" and x.id in wrap_ends:
            record.wrap_ms += _ms(x.at, wrap_ends[x.id])
    finished = [x for x in own if x.kind in ("finished", "dial_failed")]
    if finished:
        record.ended_at = max(x.at for x in finished)
        record.duration_ms = _ms(record.arrived_at, record.ended_at)
    return record


def _left_queue(own: list[Line], queued: Line) -> Line | None:
    return next(
        (
            x
            for x in own
            if x.at >= queued.at and x.kind in ("abandoned", "callback", "timed_out", "finished")
        ),
        None,
    )


def _held(own: list[Line], start: datetime, end: datetime | None) -> int:
    total, since = 0, None
    for x in own:
        if x.at < start:
            continue
        if x.kind == "held" and since is None:
            since = x.at
        elif x.kind == "resumed" and since is not None:
            total += _ms(since, x.at)
            since = None
    if since is not None and end is not None:
        total += _ms(since, end)
    return total


def _outcome(own: list[Line], answer: Line | None, queued: Line | None) -> str:
    kinds = {x.kind for x in own}
    if answer is not None:
        return "answered"
    for kind in _UNANSWERED:
        if kind in kinds:
            return kind
    if "abandoned" in kinds:
        return "abandoned"
    if "dial_failed" in kinds:
        return "failed"
    if "finished" in kinds:
        if queued is not None:
            return "abandoned"  # hung up in the queue without its line (an older node)
        return "ivr_only" if "ivr" in kinds else "failed"
    return "in_progress"


# ---------------------------------------------------------------- what a record adds


def interval_of(at: datetime) -> datetime:
    steps = (at - EPOCH) // INTERVAL
    return EPOCH + steps * INTERVAL


def local_day(start: datetime, zone: ZoneInfo) -> date:
    return start.astimezone(zone).date()


Key = tuple[str, str]
"""(dimension, key)"""


def contribution(record: Record | None) -> dict[Key, dict[str, int]]:
    """What a record adds to its interval's rows, per (dimension, key); each value holds MEASURES
    and `wait_max_ms`. Empty for a call still in progress (counted once it ends)."""
    if record is None or record.outcome == "in_progress":
        return {}
    m = dict.fromkeys(MEASURES, 0)
    m["calls"] = 1
    offered = bool(record.first_queue)
    answered = record.outcome == "answered"
    m["offered"] = int(offered)
    m["answered"] = int(offered and answered)
    m["answered_in_time"] = int(offered and answered and record.in_time)
    if record.outcome in ("abandoned", "short_abandoned", "callback", "timed_out", "refused", "voicemail"):
        m[record.outcome if record.outcome != "callback" else "callbacks"] = 1
    m["ivr_only"] = int(record.outcome == "ivr_only")
    m["self_service"] = int(record.outcome == "ivr_only" and record.flow_outcome == "completed")
    m["failed"] = int(record.outcome == "failed")
    if offered and answered and record.wait_ms is not None:
        m["wait_ms"] = record.wait_ms
    m["ring_ms"] = record.ring_ms or 0
    talk = record.talk_ms or 0
    if record.direction == "in":
        m["in_answered"] = int(answered)
        m["in_talk_ms"] = talk if answered else 0
    else:
        m["out_calls"] = 1
        m["out_connected"] = int(answered)
        m["out_talk_ms"] = talk if answered else 0
    m["hold_ms"] = record.hold_ms
    m["wrap_ms"] = record.wrap_ms
    m["handled"] = int(answered and record.talk_ms is not None)
    m["transfers"] = record.transfers
    m["surveys"] = int(record.survey_score is not None)
    m["survey_sum"] = record.survey_score or 0
    m["recorded"] = int(record.has_recording)
    m["ivr_visits"] = len(record.ivr_path)
    m["ivr_calls"] = int(bool(record.ivr_path))
    m["wait_max_ms"] = (record.wait_ms or 0) if offered else 0
    out: dict[Key, dict[str, int]] = {("site", ""): m, ("channel", record.channel): m}
    if record.first_queue:
        out["queue", record.first_queue] = m
    if record.agent_id is not None:
        out["agent", str(record.agent_id)] = m
    if record.dnis:
        out["dnis", record.dnis] = m
    if record.campaign:
        out["campaign", record.campaign] = m
    out.update(_ivr_rows(record))
    out.update(_enquiry_rows(record, m))
    return out


def _enquiry_rows(record: Record, m: dict[str, int]) -> dict[Key, dict[str, int]]:
    """Per subject asked about in the IVR (a travel route, a hotel): the calls that asked, how
    often, those that ended in the IVR and those it served by itself, those that went on to a
    queue."""
    rows: dict[Key, dict[str, int]] = {}
    for about in record.enquiries:
        row = rows.setdefault(("enquiry", about), dict.fromkeys(MEASURES, 0) | {"wait_max_ms": 0})
        row["ivr_visits"] += 1
        row["calls"] = 1
        row["ivr_only"] = m["ivr_only"]
        row["self_service"] = m["self_service"]
        row["offered"] = m["offered"]
    return rows


def _ivr_rows(record: Record) -> dict[Key, dict[str, int]]:
    """Per IVR node: calls that reached it, visits, and the calls that ended there by themselves."""
    rows: dict[Key, dict[str, int]] = {}
    last = record.ivr_path[-1][0] if record.ivr_path else None
    for node, _kind in record.ivr_path:
        row = rows.setdefault(
            ("ivr", f"{record.flow}/{node}"[:140]), dict.fromkeys(MEASURES, 0) | {"wait_max_ms": 0}
        )
        row["ivr_visits"] += 1
        row["calls"] = 1
    if last is not None:
        row = rows["ivr", f"{record.flow}/{last}"[:140]]
        row["ivr_only"] = int(record.outcome == "ivr_only")
        row["self_service"] = int(record.outcome == "ivr_only" and record.flow_outcome == "completed")
    return rows


@dataclass
class Delta:
    """Changes to apply: per (start, dimension, key) the measures to add, and the rows whose
    longest wait may have shrunk (recomputed from the records)."""

    add: dict[tuple[datetime, str, str], dict[str, int]] = field(default_factory=dict)
    shrunk: set[tuple[datetime, str, str]] = field(default_factory=set)

    def merge(self, old: Record | None, new: Record | None) -> None:
        before = {(interval_of(old.arrived_at), *k): v for k, v in contribution(old).items()} if old else {}
        after = {(interval_of(new.arrived_at), *k): v for k, v in contribution(new).items()} if new else {}
        for key, values in before.items():
            row = self.add.setdefault(key, dict.fromkeys(MEASURES, 0) | {"wait_max_ms": 0})
            for name in MEASURES:
                row[name] -= values[name]
            if values["wait_max_ms"] > after.get(key, {}).get("wait_max_ms", 0):
                self.shrunk.add(key)
        for key, values in after.items():
            row = self.add.setdefault(key, dict.fromkeys(MEASURES, 0) | {"wait_max_ms": 0})
            for name in MEASURES:
                row[name] += values[name]
            row["wait_max_ms"] = max(row["wait_max_ms"], values["wait_max_ms"])


# ---------------------------------------------------------------- agents' states


Segment = tuple[datetime, datetime, str, str, int]
"""(start, end, state, reason, +1 | -1)"""


def state_delta(prev: Line | None, line: Line, nxt: Line | None) -> list[Segment]:
    """A state line arriving between its neighbours (in time): the time prev→next that counted in
    prev's state now splits prev→line (prev's state) and line→next (this line's state). The last
    line of an agent counts nothing yet: its state runs on until the next line comes."""
    out: list[Segment] = []
    if prev is not None and nxt is not None:
        out.append((prev.at, nxt.at, prev.state, prev.detail[:64], -1))
    if prev is not None:
        out.append((prev.at, line.at, prev.state, prev.detail[:64], +1))
    if nxt is not None:
        out.append((line.at, nxt.at, line.state, line.detail[:64], +1))
    return out


def split_ms(start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """Milliseconds of [start, end) in each 15-minute interval, cut exactly at the boundaries
    (the parts add up to the whole, to the millisecond)."""
    out: list[tuple[datetime, int]] = []
    if end <= start:
        return out
    total = _ms(start, end)
    done = 0
    cursor = interval_of(start)
    while cursor < end:
        upto = min(cursor + INTERVAL, end)
        part = _ms(start, upto) - done  # from `start`, so the parts never round apart
        out.append((cursor, part))
        done += part
        cursor += INTERVAL
    assert done == total  # noqa: S101 - the parts add up by construction
    return out


def state_ms(lines: Iterable[Line]) -> dict[tuple[datetime, int, str, str], int]:
    """Straight from one or more agents' full state lines: ms per (interval, agent, state, reason).
    What the incremental rollup must equal (the property test)."""
    out: dict[tuple[datetime, int, str, str], int] = {}
    by_agent: dict[int, list[Line]] = {}
    for x in lines:
        if x.kind == "agent" and x.agent_id is not None:
            by_agent.setdefault(x.agent_id, []).append(x)
    for agent_id, own in by_agent.items():
        own.sort(key=lambda x: (x.at, x.id))
        for a, b in pairwise(own):
            for start, part in split_ms(a.at, b.at):
                key = (start, agent_id, a.state, a.detail[:64])
                out[key] = out.get(key, 0) + part
    return out
