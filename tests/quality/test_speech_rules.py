"""Phrase rules on transcripts: the normaliser makes width, punctuation and spaces not matter; the
matcher finds required phrases in their window and on their side, every forbidden phrase, and
homophones when a rule is pinyin-insensitive."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from hotline.quality.speech.normalise import plain, sounds
from hotline.quality.speech.rules import Line, PhraseRule, match, positions

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
NOISE = st.sampled_from(list("，。！？、；：“”（）《》 \u3000\t,.!?-…·"))
LATIN = st.characters(min_codepoint=ord("a"), max_codepoint=ord("z"))
WORDS = st.text(HAN | LATIN | st.sampled_from("0123456789"), min_size=1, max_size=12)


def full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (ＶＩＰ１２３)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def sprinkled(draw: st.DrawFn, text: str) -> str:
    """`text` with punctuation and spaces put anywhere."""
    out = []
    for char in text:
        out.append(draw(st.text(NOISE, max_size=2)))
        out.append(char)
    return "".join(out) + draw(st.text(NOISE, max_size=2))


@given(st.text(max_size=40))
def test_normalising_twice_changes_nothing_and_leaves_only_words(text: str) -> None:
    once = plain(text)
    assert plain(once) == once
    assert all(unicodedata.category(c)[0] in "LN" for c in once)


@given(WORDS, st.data())
def test_punctuation_spaces_and_full_width_do_not_matter(words: str, data: st.DataObject) -> None:
    assert plain(data.draw(sprinkled(words))) == plain(words)
    assert plain(full_width(words)) == plain(words) == plain(words.upper())


def test_given_chinese_with_punctuation_and_full_width_then_plain_keeps_the_words() -> None:
    assert plain("您好，欢迎致电 ＶＩＰ１２３ 热线！") == "您好欢迎致电vip123热线"
    assert sounds("公号") == sounds("工号") == ("gong", "hao")


@given(WORDS, WORDS, WORDS, st.data())
def test_a_phrase_said_anywhere_is_found_where_it_is(
    before: str, phrase: str, after: str, data: st.DataObject
) -> None:
    said = data.draw(sprinkled(before)) + data.draw(sprinkled(phrase)) + after
    found = positions(said, phrase)
    assert len(plain(before)) in found
    for at in found:
        assert plain(said)[at : at + len(plain(phrase))] == plain(phrase)


@given(st.text(HAN, min_size=1, max_size=20), st.text(HAN, min_size=1, max_size=6))
def test_pinyin_matching_finds_at_least_what_exact_matching_finds(said: str, phrase: str) -> None:
    assert set(positions(said, phrase)) <= set(positions(said, phrase, pinyin=True))


def _line(index: int, channel: str, start: float, end: float, text: str) -> Line:
    return Line(index, "agent" if channel == "agent" else "caller", start, end, text)


GREETING = PhraseRule("greeting", "required", ("欢迎致电",), "agent", "first", 15)
JOB = PhraseRule("job_number", "required", ("工号",), "agent", "first", 20, pinyin=True)
CLOSING = PhraseRule("closing", "required", ("还有什么可以帮您", "还有其他问题吗"), "agent", "last", 30)
FORBIDDEN = PhraseRule("forbidden", "forbidden", ("不知道", "你自己看"), "agent")


def test_given_a_good_call_then_every_required_phrase_is_found_at_its_moment() -> None:
    lines = [
        _line(0, "agent", 1.0, 5.0, "您好，欢迎致电英冠酒店，公号1008"),  # the engine wrote 公号 for 工号
        _line(1, "caller", 6.0, 9.0, "我不知道怎么订"),  # the caller may say it
        _line(2, "agent", 80.0, 84.0, "还有其他问题吗？"),
    ]
    found = match(lines, [GREETING, JOB, CLOSING, FORBIDDEN], duration=90.0)
    assert found.missing == () and found.forbidden == ()
    by_rule = {h.rule: h for h in found.hits}
    assert by_rule["greeting"].at == 1.5 and by_rule["greeting"].utterance == 0  # 2 of 16 characters in
    assert by_rule["job_number"].phrase == "工号" and by_rule["closing"].at == 80.0


@given(
    st.floats(min_value=0, max_value=200, allow_nan=False),
    st.floats(min_value=0.5, max_value=10, allow_nan=False),
)
def test_a_required_phrase_counts_only_inside_its_window(start: float, length: float) -> None:
    duration = 300.0
    lines = [_line(0, "agent", start, start + length, "欢迎致电")]
    found = match(lines, [GREETING, CLOSING], duration)
    assert ("greeting" in found.missing) == (start > 15)
    assert "closing" in found.missing


@given(st.lists(st.sampled_from(["不知道", "你自己看", "好的", "嗯"]), max_size=8), st.booleans())
def test_every_forbidden_phrase_the_agent_says_is_a_hit_and_the_callers_are_not(
    said: list[str], caller_too: bool
) -> None:
    lines = [_line(n, "agent", 10.0 * n, 10.0 * n + 2, text) for n, text in enumerate(said)]
    if caller_too:
        lines.append(_line(len(said), "caller", 1.0, 2.0, "我不知道，你自己看"))
    found = match(lines, [FORBIDDEN], duration=100.0)
    assert len(found.forbidden) == sum(text in ("不知道", "你自己看") for text in said)
    assert all(h.channel == "agent" for h in found.forbidden)
    assert [h.at for h in found.forbidden] == sorted(h.at for h in found.forbidden)
