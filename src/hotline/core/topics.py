"""What messages can be about, registered by the domains that own the facts, read by notify.

A **topic** is a durable event class whose fields are the variables its templates may use
(`{{guest_name}}`, `{{hotel}}` …); each field's first example is the preview's sample. A
**source** yields notices of a topic for a calendar day — the reservations arriving that day,
the customers born on it — for rules on a schedule ("17:00 the day before arrival"). Domains
register both at import; the registry lives in core so that a domain need not import notify to
say what can be told of it (notify is above the domains whose customers it writes to).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TypeVar, get_args, get_origin

from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.events import Event

E = TypeVar("E", bound=Event)
Namer = Callable[[Context, set[str]], Awaitable[dict[str, str]]]
TOPICS: dict[str, type[Event]] = {}
SUBJECTS: dict[str, Namer] = {}
"""What callers ask about in the IVR (`hotel:<code>`, `route:<code>`): each kind's names by code,
registered by the domain that owns it, for the domains that only hold the code."""
SOURCES: dict[str, Source] = {}
RECIPIENT_FIELDS = {"sms": "phone", "email": "email"}
"""Every topic has `phone`, `email`, `customer_id` and `ref` fields: who gets it and what it is about."""


@dataclass(frozen=True)
class Source:
    name: str
    topic: str
    label: str
    fetch: Callable[[Context, date], Awaitable[list[Event]]]


def register_topic(event_type: type[E]) -> type[E]:
    missing = {"phone", "email", "customer_id", "ref", "occasion"} - set(event_type.model_fields)
    if missing:
        raise TypeError(f"{event_type.__name__} lacks {sorted(missing)}")
    TOPICS[event_type.name] = event_type
    return event_type


def register_source(
    name: str, topic: type[Event], label: str, fetch: Callable[[Context, date], Awaitable[list[Event]]]
) -> None:
    SOURCES[name] = Source(name, topic.name, label, fetch)


def register_subject(kind: str, names: Namer) -> None:
    SUBJECTS[kind] = names


async def subject_names(ctx: Context, subjects: set[str]) -> dict[str, str]:
    """`kind:code` → its name (a hotel's, a route's); unknown kinds and codes are left out."""
    wanted: dict[str, set[str]] = {}
    for subject in subjects:
        kind, _, code = subject.partition(":")
        if kind in SUBJECTS and code:
            wanted.setdefault(kind, set()).add(code)
    named: dict[str, str] = {}
    for kind, codes in wanted.items():
        named |= {f"{kind}:{code}": name for code, name in (await SUBJECTS[kind](ctx, codes)).items()}
    return named


def event_type_of(topic: str, field: str = "body.topic") -> type[Event]:
    """The topic's event class; an unknown topic is the request's mistake, named by `field`."""
    try:
        return TOPICS[topic]
    except KeyError:
        known = ", ".join(sorted(TOPICS))
        raise InvalidInput(
            f"Unknown topic {topic!r}; the topics are {known}",
            field=field,
            reason="unknown-topic-topics",
            params={"topic": repr(topic), "known": known},
        ) from None


def variables(topic: str) -> dict[str, str]:
    """The variables of a topic with their descriptions."""
    event_type = event_type_of(topic)
    return {
        name: field.description or name
        for name, field in event_type.model_fields.items()
        if name not in ("occurred_at", "occasion")
    }


def sample(topic: str) -> dict[str, Any]:
    """Made-up values for a preview: each field's first example."""
    event_type = event_type_of(topic)
    return {name: (field.examples or [""])[0] for name, field in event_type.model_fields.items()}


def choices(topic: str, field: str) -> list[str] | None:
    """The values a field of a topic can take when it is a closed list (a `Literal`: occasions,
    festivals), else None."""

    def flat(annotation: Any) -> list[str] | None:
        if get_origin(annotation) is Literal:
            return [str(a) for a in get_args(annotation)]
        parts = [flat(a) for a in get_args(annotation)]
        if not parts or any(p is None for p in parts):
            return None
        return [value for p in parts for value in p or ()]

    return flat(event_type_of(topic).model_fields[field].annotation)
