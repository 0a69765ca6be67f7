"""Reads one domain grants on another's records, without the two importing each other.

A voicemail's recording plays for whoever may read the ticket opened on it: the recordings library
(quality) asks `may_read_call`, the tickets domain answers through a reader it registered with
`reads_call`. Domains sit side by side in the layers (pyproject's import contracts), so the
question goes through core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hotline.core.context import Context

CallReader = Callable[[Context, str], Awaitable[bool]]
_readers: list[CallReader] = []


def reads_call(reader: CallReader) -> CallReader:
    """Register a domain's answer to "may this reader open something attached to this call"."""
    if reader not in _readers:
        _readers.append(reader)
    return reader


async def may_read_call(ctx: Context, call_id: str) -> bool:
    """Whether any domain lets the reader open something attached to the call."""
    for reader in _readers:
        if await reader(ctx, call_id):
            return True
    return False
