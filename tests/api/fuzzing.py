"""The harness behind tests/api/test_schemathesis.py and `make fuzz` (docs/platform.md, "Fuzzing").

Schemathesis' engine (what `schemathesis run` drives) runs in-process against the ASGI app, once
per user, through its phases: examples, coverage (boundary and invalid values derived from the
schema, undeclared methods), fuzzing (hypothesis) and stateful (chains of calls it infers from
the schema: create, then read, change, delete). Path ids are drawn from the demo data most of
the time, so detail routes are reached rather than answered 404.

Failures are kept as schemathesis crash files (what `schemathesis replay` reads: the requests
that failed, as JSON) in tests/api/fuzz-examples/<user>/, committed, and replayed by every run;
`make fuzz` adds the ones it finds.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.cli.commands.replay.executor import ReplayStatus, replay_crash_file
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from schemathesis.python import asgi
from schemathesis.reporting.crashes import CrashFile, build_crashes_from_recorder

CORPUS = Path(__file__).parent / "fuzz-examples"

# Prompt uploads take a raw WAV body: let the fuzzer send real (tiny) WAV files and random bytes.
_WAV = (
    b"RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00"
    b"\x02\x00\x10\x00data\x08\x00\x00\x00" + b"\x00\x10" * 4
)
schemathesis.openapi.media_type("audio/wav", st.one_of(st.just(_WAV), st.binary(max_size=64)))

# Path parameter -> the demo data it names ("table.column", or several): what the fuzzer draws
# most of the time for it.
ID_SOURCES: dict[str, str | tuple[str, ...]] = {
    "user_id": "users.id",
    "token_id": "api_tokens.id",
    "extension_id": "extensions.id",
    "trunk_id": "trunks.id",
    "did_id": "dids.id",
    "prompt_id": "prompts.id",
    "name": ("queues.name", "ivr_flow_versions.name", "prompts.name"),  # routes name each of them
    "call_id": "contact_events.call_id",
    "task_id": "callback_tasks.id",
    "customer_id": "customers.id",
    "phone_id": "customer_phones.id",
    "article_id": "kb_articles.id",
    "template_id": "message_templates.id",
    "rule_id": "message_rules.id",
    "message_id": "messages.id",
    "notice_id": "staff_notices.id",
    "hotel_id": "hotels.id",
    "room_type_id": "room_types.id",
    "rate_plan_id": "rate_plans.id",
    "reservation_id": "reservations.id",
    "block_id": "group_blocks.id",
    "type_id": "ticket_types.id",
    "unit_id": "ticket_units.id",
    "canned_id": "canned_responses.id",
    "view_id": "ticket_saved_views.id",
    "ticket_id": "tickets.id",
    "route_id": "travel_routes.id",
    "departure_id": "travel_departures.id",
    "product_id": "travel_insurance.id",
    "order_id": "travel_orders.id",
    "item_id": "travel_order_items.id",
}


# Operations left out of every run until their fix lands (issue 17), with why. Each was found by
# this fuzzer; HOTLINE_FUZZ_KNOWN=1 puts them back in, to check a fix. Empty this as fixes merge.
KNOWN_BROKEN = {
    "POST /api/routing/staffing": "5e-324 calls or seconds divide by zero in routing/erlang.py, and "
    "large ones hold the event loop for minutes (Erlang A); `loop` bounds and fixes both",
    "POST /api/notify/templates/preview": "an unknown topic is a KeyError (500); `loop` fixes it",
}


@dataclass(frozen=True)
class Profile:
    """How hard to look: `make test` runs the quick one with a fixed seed, `make fuzz` the deep one."""

    name: str
    seed: int
    max_examples: int
    stateful_steps: int
    save_findings: bool

    @classmethod
    def from_env(cls) -> Profile:
        deep = os.environ.get("HOTLINE_FUZZ") == "deep"
        seed = os.environ.get("HOTLINE_FUZZ_SEED")
        examples = os.environ.get("HOTLINE_FUZZ_EXAMPLES")
        return cls(
            name="deep" if deep else "quick",
            seed=int(seed) if seed else (random.SystemRandom().randrange(2**32) if deep else 17),
            max_examples=int(examples) if examples else (100 if deep else 8),
            stateful_steps=20 if deep else 6,
            save_findings=deep,
        )


@dataclass
class Finding:
    operation: str
    check: str
    title: str
    message: str
    curl: str

    def __str__(self) -> str:
        message = "\n    ".join(self.message.strip().splitlines()[:8])
        return f"{self.operation}: {self.title} ({self.check})\n    {message}\n    {self.curl}"


@dataclass
class Outcome:
    user: str
    profile: Profile
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    seconds: float = 0.0
    replayed: int = 0
    saved: int = 0

    def operations_never_answered_2xx(self) -> list[str]:
        operations = {operation for operation, _ in self.statuses}
        reached = {operation for operation, status in self.statuses if 200 <= status < 300}
        return sorted(operations - reached)


ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


def as_served(app: ASGIApp) -> ASGIApp:
    """The app as a server runs it: an exception still escaping after the 500 went out is logged
    (the app has done that) and the client keeps its answer, so the fuzzer sees the 500."""

    async def served(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except Exception:
            if scope["type"] != "http":
                raise

    return served


def config(
    token: str,
    ids: dict[str, list[Any]],
    pinned: dict[str, dict[str, Any]],
    profile: Profile,
    coverage: str = "all",
) -> SchemathesisConfig:
    known = {name: values for name, values in ids.items() if values}
    return SchemathesisConfig.from_dict(
        {
            "seed": profile.seed,
            # Schemathesis' own cache would replay requests of earlier runs: each run stands alone.
            "cache": {"enabled": False},
            "headers": {"Authorization": f"Bearer {token}"},
            "workers": 1,
            # Report every failure, not only the first of each operation (one can hide another).
            "continue-on-failure": True,
            # A request still running after this is a finding. Above the compute pool's time limit
            # (30 s): PDFs and import checks queue for its one worker on a loaded 2-core machine, and
            # past the limit they answer 503 computation-too-long, which their spec documents.
            "request-timeout": 45,
            # Failures are kept as crash files (exact requests); hypothesis' own database would replay
            # choices, which schemathesis' adaptive generation maps to other inputs next time.
            "generation": {"max-examples": profile.max_examples, "database": "none"},
            # Crash files keep the requests as sent (a replay cannot restore a masked password or
            # cookie), but for the token, which the replay sends afresh.
            "output": {
                "sanitization": {
                    "keys-to-sanitize": ["authorization"],
                    "sensitive-markers": ["authorization"],
                }
            },
            "phases": {
                "coverage": {"generation": {"mode": coverage}},
                "stateful": {"max-steps": profile.stateful_steps},
            },
            "checks": {
                # A business rule's 422 (wrong current password, a date already past) is what 422
                # is for, not a valid request refused.
                "positive_data_acceptance": {"enabled": False},
                # Pydantic reads 0/1 as booleans and "5" as 5 (lax mode, documented): the check
                # calls that accepting invalid input, we call it leniency. Bounds are enforced.
                "negative_data_rejection": {"enabled": False},
                # Re-sends every case without the token: 401 for that is tested in tests/admin.
                "ignored_auth": {"enabled": False},
            },
            "dictionaries": {name: {"values": values} for name, values in known.items()},
            "parameters": {f"path.{name}": {"dictionary": name, "probability": 0.8} for name in known},
            # Routes that could lock the fuzzing user out (revoke its token, reset its password)
            # only ever touch a spare token or another user.
            "operations": [
                {"include-path": path, "parameters": parameters} for path, parameters in pinned.items()
            ],
        }
    )


def run(
    app: ASGIApp,
    user: str,
    token: str,
    ids: dict[str, list[Any]],
    pinned: dict[str, dict[str, Any]],
    operations: Iterable[str],
    profile: Profile,
    coverage: str = "all",
) -> Outcome:
    """One user's run over the given operations ("GET /api/users/{user_id}", ...); `coverage`
    "positive" leaves out the coverage phase's invalid inputs (another user's run sends them)."""
    wanted = set(operations) if os.environ.get("HOTLINE_FUZZ_KNOWN") else set(operations) - set(KNOWN_BROKEN)
    only = os.environ.get("HOTLINE_FUZZ_ONLY")
    if only:
        wanted = {label for label in wanted if re.search(only, label)}
    settings = config(token, ids, pinned, profile, coverage)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=settings)
    # `exclude` rather than `include`: with per-operation settings in the config, schemathesis
    # 4.32 drops an `include` filter and runs every operation.
    schema = schema.exclude(lambda ctx: ctx.operation.label not in wanted)
    outcome = Outcome(user, profile)
    seen: set[tuple[str, str, str]] = set()
    progress = os.environ.get("HOTLINE_FUZZ_PROGRESS")
    for event in schemathesis.engine.from_schema(schema).execute():
        if progress and isinstance(event, events.ScenarioStarted | events.PhaseStarted):
            what = getattr(event, "label", None) or event.phase.name
            print(
                f"{time.strftime('%H:%M:%S')} {user} {event.phase.name}: {what}", file=sys.stderr, flush=True
            )
        if isinstance(event, events.ScenarioFinished):
            _collect(event, outcome, seen)
            if profile.save_findings and event.status == Status.FAILURE:
                outcome.saved += _save_crashes(event.recorder, CORPUS / user, settings)
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            outcome.seconds = event.running_time
    # After the run, when the data it created (which a failure may have needed) is there too.
    _replay(schema, CORPUS / user, wanted, outcome)
    return outcome


def _save_crashes(recorder: Any, directory: Path, settings: SchemathesisConfig) -> int:
    """One crash file per failing request (its first failing check names it), never overwriting."""
    directory.mkdir(parents=True, exist_ok=True)
    saved = 0
    for case_id in recorder.failing_case_ids():
        crashes = build_crashes_from_recorder(
            recorder=recorder, failing_case_id=case_id, sanitization=settings.output.sanitization
        )
        path = directory / crashes[0].filename() if crashes else None
        if path is not None and not path.exists():
            path.write_text(json.dumps(crashes[0].to_dict(), indent=2, ensure_ascii=False) + "\n")
            saved += 1
    return saved


def _replay(schema: Any, directory: Path, wanted: set[str], outcome: Outcome) -> None:
    """Every kept failure of this user, sent again as recorded (with the current token)."""
    for path in sorted(directory.glob("*.json")):
        crash = CrashFile.from_dict(json.loads(path.read_text()))
        if crash.operation not in wanted:
            continue
        outcome.replayed += 1
        result = replay_crash_file(crash, project_config=schema.config, schema=schema)
        if result.status is not ReplayStatus.FIXED:
            checks = ", ".join(f"{c.name}: {c.status.value}" for c in result.check_outcomes)
            message = result.error_message or checks
            curl = result.code_sample or crash.code_sample
            outcome.findings.append(
                Finding(crash.operation, "replay", f"{path.name} still fails", message, curl)
            )


def _collect(event: events.ScenarioFinished, outcome: Outcome, seen: set[tuple[str, str, str]]) -> None:
    recorder = event.recorder
    for case_id, interaction in recorder.interactions.items():
        node = recorder.cases.get(case_id)
        if interaction.response is not None and node is not None:
            outcome.statuses[(node.value.operation.label, interaction.response.status_code)] += 1
    if event.status != Status.FAILURE:
        return
    for checks in recorder.checks.values():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            key = (failure.operation or recorder.label, check.name, failure.title)
            if key in seen:
                continue
            seen.add(key)
            outcome.findings.append(
                Finding(key[0], check.name, failure.title, failure.message, info.code_sample)
            )


def stop_app() -> None:
    """End the lifespan schemathesis started for the app (voice engine, database pool)."""
    asgi.shutdown_lifespans()
