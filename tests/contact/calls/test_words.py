"""A call's log lines as data the UI words: the English `detail` of each kind of line, read back as
a code and parameters; lines from other domains keep their words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotline.contact.calls.words import line_words
from hotline.contact.queues.reasons import RoutingReason


def test_given_the_lines_a_call_logs_when_read_then_each_is_a_code_with_its_parameters() -> None:
    assert line_words("queued", "priority 2") == ("priority", {"n": "2"})
    assert line_words("abandoned", "after 14 s") == ("after", {"seconds": "14"})
    assert line_words("overflowed", "to emergency") == ("overflow_to", {"queue": "emergency"})
    assert line_words("timed_out", "waited too long") == ("waited_too_long", {})
    assert line_words("refused", "nobody is logged in to the queue") == ("nobody_logged_in", {})
    assert line_words("missed", "desktop closed") == ("desk_closed", {})
    assert line_words("missed", "no-answer") == ("end_reason", {"reason": "no-answer"})
    assert line_words("finished", "caller-hung-up") == ("outcome", {"outcome": "caller-hung-up"})
    assert line_words("finished", "transferred:queue:hotel") == ("to_queue", {"queue": "hotel"})
    assert line_words("identified", "known") == ("caller_class", {"caller_class": "known"})
    assert line_words("transferred", "to 1002 (002) (consulted)") == ("target", {"target": "1002 (002)"})
    assert line_words("transferred", "blind to 1003") == ("target", {"target": "1003"})
    assert line_words("monitor", "whisper by 1009 (009)") == (
        "monitor",
        {"mode": "whisper", "by": "1009 (009)"},
    )


def test_given_a_recording_or_a_voicemail_when_read_then_the_server_path_is_not_shown() -> None:
    assert line_words("recorded", "/var/lib/hotline/recordings/leg-1/mix.wav") == ("recording", {})
    assert line_words("voicemail", "12 s: /var/lib/hotline/voicemail/leg-1.wav") == (
        "voicemail",
        {"seconds": "12"},
    )


def test_given_another_domains_line_when_read_then_it_keeps_its_words() -> None:
    assert line_words("booked", "预订 R20261205-0001") is None
    assert line_words("arrived", "13800138000 → 4008001000") is None  # masked by the schema


@given(
    st.sampled_from(["queued", "abandoned", "overflowed", "missed", "finished", "recorded", "x"]), st.text()
)
def test_any_detail_reads_back_without_an_error_and_never_as_a_path(kind: str, detail: str) -> None:
    words = line_words(kind, detail)
    if words is not None and kind == "recorded":
        assert words == ("recording", {})


def test_given_an_old_english_reason_when_read_then_it_is_text_and_a_new_one_round_trips() -> None:
    old = "offered to 1001 (001): idle 6 s (step 1, after 0 s, waited 2 s)"
    assert RoutingReason.decode(old) == RoutingReason("text", {"text": old})
    assert RoutingReason.decode("") is None
    new = RoutingReason("ring_all", {"agent": "1002 (002)", "with_agent": "1001 (001)"})
    assert RoutingReason.decode(new.encode()) == new
    assert str(new) == "offered to 1002 (002): ring-all, with 1001 (001)"
