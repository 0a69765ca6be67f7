"""Answering-machine detection (voice/media/amd.py): the rules over any cadence, and espeak-ng
speech through the real VAD — a person's short greeting then silence, a voicemail's long one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.voice.media.amd import AmdSettings, Detector, Verdict
from hotline.voice.media.g711 import ulaw_encode
from tests.quality.speech import channel

S = AmdSettings()
F = 100  # frames per second


def fed(flags: list[bool]) -> Detector:
    detector = Detector()
    for flag in flags:
        if detector.verdict is not None:
            break
        detector.frame(flag)
    return detector


@given(
    lead=st.integers(0, int(S.initial_silence * F) - 1),
    talk=st.integers(int(S.min_word * F), int(S.long_greeting * F)),
)
@settings(max_examples=200, deadline=None)
def test_a_short_greeting_then_silence_is_a_person_as_soon_as_the_silence_is_long_enough(
    lead: int, talk: int
) -> None:
    after = int(S.after_greeting * F)
    detector = fed([False] * lead + [True] * talk + [False] * 500)
    if lead + talk + after <= int(S.total * F):
        assert detector.verdict is Verdict.PERSON
        assert detector.frames == lead + talk + after  # decided the frame the silence is long enough
    else:
        assert detector.verdict is Verdict.UNSURE  # out of time: the dialer treats it as a person


@given(
    lead=st.integers(0, int(S.initial_silence * F) - 1), talk=st.integers(int(S.long_greeting * F) + 1, 800)
)
@settings(max_examples=200, deadline=None)
def test_a_greeting_longer_than_the_limit_is_a_machine_the_moment_it_passes_it(lead: int, talk: int) -> None:
    detector = fed([False] * lead + [True] * talk + [False] * 200)
    if lead + int(S.long_greeting * F) < int(S.total * F):
        assert detector.verdict is Verdict.MACHINE and detector.why == "long-greeting"
        assert detector.frames == lead + int(S.long_greeting * F) + 1


@given(st.lists(st.booleans(), min_size=0, max_size=1000))
@settings(max_examples=300, deadline=None)
def test_any_audio_is_decided_within_four_seconds_and_silence_never_makes_a_machine(
    flags: list[bool],
) -> None:
    detector = fed(flags + [False] * 500)
    assert detector.verdict is not None and detector.frames <= int(S.total * F)
    if not any(flags):
        assert detector.verdict is Verdict.UNSURE


def test_spoken_greetings_through_the_vad() -> None:
    person = channel(3.0, [(0.3, "喂")])
    machine = channel(8.0, [(0.2, "您好，我现在不方便接听电话，请在提示音后留言")])
    for samples, expected in ((person, Verdict.PERSON), (machine, Verdict.MACHINE)):
        audio, detector = ulaw_encode(samples.tolist()), Detector()
        for i in range(0, len(audio), 160):  # 20 ms packets, as a call delivers them
            if detector.feed(audio[i : i + 160]) is not None:
                break
        assert detector.finish() is expected
        assert detector.decided_after < 3.5
