"""Chinese text as phrase rules compare it: what a transcript and a rule's phrase are reduced to.

Speech engines write the same words differently — full-width or half-width letters and digits
(ＶＩＰ, VIP), with or without punctuation and spaces (您好，欢迎致电 / 您好 欢迎致电), and now
and then a homophone (公号 for 工号). `plain` removes the differences of form; `sounds` goes further
and compares by pinyin without tones, for rules that ask to be pinyin-insensitive.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin


def plain(text: str) -> str:
    """NFKC (full-width to half-width), lower case, and nothing but letters, digits and Han
    characters: punctuation, symbols and every kind of space dropped."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


def sounds(text: str) -> tuple[str, ...]:
    """One token per character of `plain(text)`: a Han character's pinyin without tone (the
    first reading of a polyphone), any other character itself."""
    return tuple(_sound(c) for c in plain(text))


@lru_cache(maxsize=8192)
def _sound(char: str) -> str:
    if "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff":
        return lazy_pinyin(char, style=Style.NORMAL)[0]
    return char
