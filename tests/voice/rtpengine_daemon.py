"""A real rtpengine for tests (Debian's `rtpengine-daemon`): foreground, userspace forwarding
(`--table=-1`), ng on loopback, a port range of its own, pcap recordings in the test's folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Rtpengine:
    ng: tuple[str, int]
    ports: tuple[int, int]
    recordings: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_rtpengine(folder: Path, ports: tuple[int, int]) -> Iterator[Rtpengine]:
    if shutil.which("rtpengine") is None:
        pytest.fail("rtpengine is not installed: run `make test` (it installs rtpengine-daemon)")
    low, high = ports
    daemon = Rtpengine(("127.0.0.1", free_port()), ports, folder / "recordings")
    daemon.recordings.mkdir()
    process = subprocess.Popen(
        ["rtpengine", "--config-file=none", "--foreground", "--log-stderr", "--table=-1",
         "--interface=127.0.0.1", f"--listen-ng=127.0.0.1:{daemon.ng[1]}",
         f"--port-min={low}", f"--port-max={high}", "--delete-delay=0",
         f"--recording-dir={daemon.recordings}", "--recording-method=pcap", "--log-level=5"],
        stdout=subprocess.DEVNULL, stderr=(folder / "rtpengine.log").open("wb"), cwd=folder,
    )  # fmt: skip
    try:
        yield daemon
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
