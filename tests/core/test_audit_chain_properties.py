"""Property: whatever single entry is altered, dropped or reordered, verification names it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.core.audit import AuditEntry, link, verify_entries

texts = st.text(max_size=12)
payloads = st.none() | st.dictionaries(
    st.sampled_from(["name", "roles", "active"]), texts | st.integers(), max_size=3
)


@st.composite
def logs(draw: st.DrawFn) -> list[AuditEntry]:
    size = draw(st.integers(min_value=1, max_value=12))
    start = datetime(2026, 11, 1, tzinfo=UTC)
    entries = [
        AuditEntry(
            at=start + timedelta(seconds=i),
            actor_id=draw(st.none() | st.integers(1, 50)),
            actor_name=draw(texts),
            action=draw(st.sampled_from(["users.create", "users.update", "auth.login"])),
            entity_type="users",
            entity_id=draw(st.none() | st.integers(1, 99).map(str)),
            before=draw(payloads),
            after=draw(payloads),
            ip="127.0.0.1",
            request_id=None,
        )
        for i in range(size)
    ]
    prev = "0" * 64
    for seq, entry in enumerate(entries, start=1):
        prev = link(entry, seq, prev)
    return entries


@settings(max_examples=200, deadline=None)
@given(log=logs())
def test_an_untouched_log_verifies(log: list[AuditEntry]) -> None:
    result = verify_entries(log)
    assert (result.ok, result.checked) == (True, len(log))


@settings(max_examples=300, deadline=None)
@given(log=logs(), data=st.data())
def test_altering_any_field_of_any_entry_is_caught_at_that_entry(
    log: list[AuditEntry], data: st.DataObject
) -> None:
    target = data.draw(st.integers(0, len(log) - 1))
    forged = copy.copy(log[target])
    field = data.draw(st.sampled_from(["actor_name", "action", "entity_id", "after", "at", "actor_id"]))
    original = getattr(forged, field)
    replacement = data.draw(
        {
            "actor_name": texts,
            "action": st.sampled_from(["users.delete", "auth.logout"]),
            "entity_id": st.integers(100, 200).map(str),
            "after": st.just({"forged": True}),
            "at": st.just(forged.at + timedelta(microseconds=1)),
            "actor_id": st.integers(51, 99),
        }[field].filter(lambda value: value != original)
    )
    setattr(forged, field, replacement)
    tampered = [*log[:target], forged, *log[target + 1 :]]
    result = verify_entries(tampered)
    assert (result.ok, result.first_bad_seq) == (False, target + 1)


@settings(max_examples=200, deadline=None)
@given(log=logs().filter(lambda entries: len(entries) > 1), data=st.data())
def test_dropping_an_entry_is_caught(log: list[AuditEntry], data: st.DataObject) -> None:
    target = data.draw(st.integers(0, len(log) - 2))  # removing the newest leaves no trace by design
    result = verify_entries([*log[:target], *log[target + 1 :]])
    assert (result.ok, result.first_bad_seq) == (False, target + 1)
