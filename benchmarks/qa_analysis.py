"""Recording analysis speed: the checks of a call in multiples of real time, on one core.

    uv run python benchmarks/qa_analysis.py [--minutes 10] [--runs 5]

Builds a call of --minutes from espeak-ng Mandarin phrases (tests/quality/speech.py): turns of one
to three phrases per side with pauses of 0.3–3 s, one answer in four started before the other side
has finished and one in ten after 5.5–9 s of dead air, a faint hiss on both lines; writes it as the
recorder does (a.wav caller, b.wav agent, 8 kHz 16-bit mono) and times `analyse_files` on it --runs
times in this process, pinned to one core (reading both files, speech detection, the checks, the
JSON dict). Prints the median and each run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.quality.speech import PHRASES, POLICY, RATE, channel, clip, write_wav  # noqa: E402

from hotline.quality.analysis import analyse_files  # noqa: E402


def conversation(seconds: float, seed: int = 7) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """Alternating turns until `seconds`: (moment, phrase) for the caller and for the agent."""
    rng = random.Random(seed)
    sides: tuple[list[tuple[float, str]], list[tuple[float, str]]] = ([], [])
    at, speaker = 1.0, 1  # the agent greets
    while True:
        for _ in range(rng.randint(1, 3)):
            text = rng.choice((*PHRASES, POLICY))
            length = len(clip(text).samples) / RATE
            if at + length > seconds:
                return sides
            sides[speaker].append((at, text))
            at += length + rng.uniform(0.3, 1.2)
        speaker = 1 - speaker
        # one answer in four starts before the other side has finished; one in ten after dead air
        draw = rng.random()
        at += (
            -rng.uniform(2.5, 4.5)
            if draw < 0.25
            else rng.uniform(5.5, 9.0)
            if draw < 0.35
            else rng.uniform(0.3, 3)
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    seconds = args.minutes * 60
    caller, agent = conversation(seconds)
    with tempfile.TemporaryDirectory() as folder:
        a = write_wav(Path(folder) / "a.wav", channel(seconds, caller, seed=1))
        b = write_wav(Path(folder) / "b.wav", channel(seconds, agent, seed=2))
        times, checks = [], {}
        for _ in range(args.runs):
            started = time.perf_counter()
            checks = analyse_files(str(a), str(b))
            times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(
        json.dumps(
            {
                "call_seconds": seconds,
                "median_seconds": round(median, 3),
                "times_real_time": round(seconds / median),
                "runs": [round(t, 3) for t in times],
                "caller_talk": checks["caller_talk"],
                "agent_talk": checks["agent_talk"],
                "silences": checks["silence_count"],
                "overtalk": checks["overtalk_count"],
                "longest_monologue": checks["longest_monologue"],
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                f"Python {platform.python_version()}, numpy {np.__version__}",
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
