"""Work for the compute-pool tests: module-level functions, as the pool's workers import them."""

from __future__ import annotations

import time

from hotline.core.errors import InvalidInput


def spin(seconds: float) -> float:
    """Hold a CPU for `seconds`, as a heavy report would."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return seconds


def refuse(value: int) -> int:
    raise InvalidInput(f"{value} is not allowed here", field="body.value", rule="demo")


def hoard(mebibytes: int) -> int:
    return len(bytearray(mebibytes * 1024 * 1024))


def echo(data: bytes) -> bytes:
    return data[::-1]
