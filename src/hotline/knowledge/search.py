"""Search that works for Chinese without a word list: text is cut into runs of CJK characters and
runs of letters/digits. A CJK run is indexed as its overlapping character pairs (and a lone
character as itself); a letter/digit run as the lowercased word. A query is cut the same way; an
article matches when it holds at least half of the query's distinct terms (all of them for one
or two), ranked by how many it holds, then by weight (title and tags ×3, then body).

So "退款" finds "取消后退款将原路返回", "保留到几点" (保留 留到 到几 几点) finds "保留到XX点" (two of
four) as agents type questions, not keywords, and "4008001000" or "VIP" find their words — on
SQLite and PostgreSQL alike, with one index table."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
RUNS = re.compile(f"[{CJK}]+|[A-Za-z0-9]+")
MAX_TERM = 32


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def terms(text: str) -> list[str]:
    """The index terms of a text, in order (with repeats)."""
    found: list[str] = []
    for run in RUNS.findall(normalise(text)):
        if run[0].isascii():
            found.append(run[:MAX_TERM])
        elif len(run) == 1:
            found.append(run)
        else:
            found.extend(run[i : i + 2] for i in range(len(run) - 1))
    return found


def weights(title: str, body: str, tags: list[str]) -> dict[str, int]:
    counted: Counter[str] = Counter()
    for term in terms(title) + [t for tag in tags for t in terms(tag)]:
        counted[term] += 3
    counted.update(terms(body))
    return dict(counted)


def snippet(body: str, query: str, width: int = 60) -> str:
    """A piece of the body around the first place the query (or its first term) appears."""
    text = " ".join(body.split())
    lowered = normalise(text)
    wanted = [normalise(query).strip(), *terms(query)]
    at = next((lowered.find(w) for w in wanted if w and lowered.find(w) >= 0), 0)
    start = max(0, at - width // 3)
    piece = text[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


def needed(count: int) -> int:
    """How many of a query's distinct terms an article must hold."""
    return count if count <= 2 else -(-count // 2)
