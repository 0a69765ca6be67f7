"""Phrase-rule matching speed: a long call's transcript against a queue's rules, on one core.

    uv run python benchmarks/phrase_rules.py [--minutes 60] [--runs 5]

Builds a transcript of --minutes (one utterance of 12–40 Chinese characters every 4 s, sides
alternating, a 禁用语 in one utterance of twenty) and times `match` with the demo's rules
(quality/speech/demo.py: 问候语 and 报工号 in the first seconds, the closing in the last 30 s, five
禁用语) — once with the rules as they are (报工号 pinyin-insensitive) and once with every rule
pinyin-insensitive. Prints the median and each run.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hotline.quality.speech import service  # noqa: E402
from hotline.quality.speech.demo import RULES  # noqa: E402
from hotline.quality.speech.rules import Line, match  # noqa: E402

WORDS = (
    "您好欢迎致电英冠酒店我想预订明天晚上的一间大床房请问您贵姓"
    "稍等帮您查一下会员可以享受八五折优惠早餐从七点开始供应"
)


def transcript(minutes: float, seed: int = 3) -> list[Line]:
    rng = random.Random(seed)
    lines = []
    for n in range(int(minutes * 60 / 4)):
        text = "".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40)))
        if n % 20 == 7:
            text = text[:6] + "这个我也不知道" + text[6:]
        lines.append(Line(n, "agent" if n % 2 else "caller", n * 4.0, n * 4.0 + 3.5, text))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    lines = transcript(args.minutes)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{len(lines)} utterances, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    for name, rules in (
        ("demo rules", service.rules_of(RULES)),
        ("every rule by pinyin", service.rules_of([r | {"pinyin": True} for r in RULES])),
    ):
        runs = []
        for _ in range(args.runs):
            start = time.perf_counter()
            found = match(lines, rules, args.minutes * 60)
            runs.append(time.perf_counter() - start)
        each = ", ".join(f"{r * 1000:.1f}" for r in runs)
        median = statistics.median(runs) * 1000
        print(f"{name}: median {median:.1f} ms ({each}), {len(found.forbidden)} forbidden hits")


if __name__ == "__main__":
    main()
