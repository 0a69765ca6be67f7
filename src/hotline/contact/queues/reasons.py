"""A routing decision's reason as data: a code and its parameters, which the UI words in the
agent's language (docs/routing.md). The event log stores it as JSON in a line's `detail`; lines
written before reasons were data hold English text and read back as the code `text`.

    offered   agent, pick (idle | fewest_calls | highest_level | next_in_turn | fewest_chats),
              idle_seconds, calls, chats, level, skill, min_level, sticky, step, from_seconds,
              to_seconds, waited
    ring_all  agent, with_agent
    transferred  target (an agent transferred the call from the desktop)
    consulted    by (an agent consults this one)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

ReasonCode = Literal["offered", "ring_all", "transferred", "consulted", "text"]
Param = str | int | float | bool | None


CODES = ("offered", "ring_all", "transferred", "consulted")


@dataclass(frozen=True)
class RoutingReason:
    code: ReasonCode
    params: dict[str, Param] = field(default_factory=dict)

    def __str__(self) -> str:
        """The reason in English words, for logs and the flow variable `routing_reason`."""
        p = self.params
        if self.code == "ring_all":
            return f"offered to {p['agent']}: ring-all, with {p['with_agent']}"
        if self.code == "transferred":
            return f"transferred from the desktop to {p['target']}"
        if self.code == "consulted":
            return f"consulted by {p['by']}"
        if self.code == "text":
            return str(p.get("text", ""))
        why = {
            "fewest_calls": f"fewest calls ({p.get('calls')})",
            "highest_level": f"highest {p.get('skill')} level ({p.get('level')})",
            "next_in_turn": "next in turn",
            "fewest_chats": f"fewest open conversations ({p.get('chats')})",
        }.get(str(p.get("pick")), f"idle {p.get('idle_seconds')} s")
        if p.get("sticky"):
            why = f"last agent of this customer, {why}"
        elif int(p.get("min_level") or 1) > 1:
            why = f"skill {p.get('skill')} ≥ {p.get('min_level')}, {why}"
        start, end = p.get("from_seconds"), p.get("to_seconds")
        window = f"{start}–{end} s" if end is not None else f"after {start} s"
        return f"offered to {p['agent']}: {why} (step {p.get('step')}, {window}, waited {p.get('waited')} s)"

    def encode(self) -> str:
        return json.dumps(
            {"code": self.code, "params": self.params}, ensure_ascii=False, separators=(",", ":")
        )

    @classmethod
    def decode(cls, detail: str) -> RoutingReason | None:
        """The reason a log line holds: data, or an old line's English words as `text`."""
        if not detail:
            return None
        if detail.startswith("{"):
            try:
                data = json.loads(detail)
            except ValueError:
                data = None
            if isinstance(data, dict) and data.get("code") in CODES:
                return cls(data["code"], dict(data.get("params") or {}))
        return cls("text", {"text": detail})
