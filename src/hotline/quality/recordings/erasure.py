"""What forgetting a customer means for their recordings (PIPL art. 47; docs/qa.md, "A customer
forgotten").

When crm anonymises a customer at their request, every recording linked to them — by their file,
or by one of the numbers the file had (calls indexed before the file existed, outbound calls to
them) — loses what identifies them, and what was said on it is erased:
- not on legal hold: the files (mix, both channels, peaks) are deleted and the row becomes a
  tombstone: marked deleted, its customer, number and dialled number cleared. The row is kept, as
  retention keeps it, because its call log line would otherwise be indexed again;
- on legal hold (a dispute, a complaint before a court, an investigation: PIPL art. 47 lets the
  data be stored while a law requires it, with all other processing stopped): the audio is kept and
  still playable for that matter, but unlinked — no customer, no number — and never transcribed;
- either way the transcript, its utterances and phrase hits are deleted;
- one audit line `recording.erased` each, saying which and whether it was held.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog
from sqlalchemy import or_, select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.quality.recordings import retention
from hotline.quality.recordings.indexer import reversed_digits
from hotline.quality.recordings.models import Recording
from hotline.quality.speech import service as speech

log = structlog.get_logger(__name__)


def number_forms(phones: Iterable[str]) -> set[str]:
    """The ways a stored E.164 number shows in a call's log, digits reversed (as `number_rev`):
    +8613800138000 as 13800138000 or 8613800138000, +862155551234 also as 02155551234."""
    forms: set[str] = set()
    for phone in phones:
        digits = "".join(ch for ch in phone if ch.isdigit())
        if not digits:
            continue
        forms.add(digits)
        if digits.startswith("86") and len(digits) > 9:
            national = digits[2:]
            forms.update((national, "0" + national))
    return {reversed_digits(form) for form in forms}


async def erase_customer(ctx: Context, customer_id: int, phones: Iterable[str]) -> int:
    """Erase a forgotten customer's recordings as the module docstring says; how many."""
    ctx.require(Permission.CUSTOMERS_DELETE)
    forms = number_forms(phones)
    linked = [Recording.customer_id == customer_id]
    if forms:
        linked += [Recording.number_rev.in_(forms), Recording.dialled_rev.in_(forms)]
    async with ctx.read() as session:
        rows = list((await session.scalars(select(Recording).where(or_(*linked)))).all())
    for row in rows:
        if not row.legal_hold and row.deleted_at is None:
            await asyncio.to_thread(retention.remove_files, ctx.settings.recordings_dir, row.path, row.kind)
    async with ctx.write() as tx:
        held = []
        for row in rows:
            fresh = await tx.session.get(Recording, row.id)
            if fresh is None:
                continue
            fresh.customer_id, fresh.number, fresh.number_rev = None, "", ""
            if reversed_digits(fresh.dialled) in forms:
                fresh.dialled, fresh.dialled_rev = "", ""
            if fresh.legal_hold:
                held.append(fresh.id)
            elif fresh.deleted_at is None:
                fresh.deleted_at = utcnow()
            tx.audit(
                "recording.erased",
                "recording",
                fresh.id,
                after={"call_id": fresh.call_id, "part": fresh.part, "legal_hold": fresh.legal_hold,
                       "reason": "customer-forgotten"},
            )  # fmt: skip
        await speech.erase(tx, [row.id for row in rows], held=held)
    if rows:
        log.info("recordings of a forgotten customer erased", recordings=len(rows), held=len(held))
    return len(rows)
