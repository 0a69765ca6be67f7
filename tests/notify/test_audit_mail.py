"""Audit checkpoints and audit alarms reach the auditors' mailbox through the SMTP server set in
the settings (not in the database), on a real SMTP server (issue 28)."""

from __future__ import annotations

from sqlalchemy import delete

from hotline.admin import audit
from hotline.core.audit import AuditEntry
from hotline.core.checkpoints import Checkpoint
from hotline.core.context import Context
from tests.notify.conftest import Inbox


async def test_checkpoints_and_a_failed_verification_are_mailed_to_the_auditors(
    ctx: Context, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    settings = ctx.settings.model_copy(
        update={
            "audit_mail_to": ["audit@hotel.example"],
            "audit_smtp": {"host": "127.0.0.1", "port": port, "sender": "hotline@hotel.example"},
            "audit_mail_every_minutes": 10,  # every second interval checkpoint of 5 minutes
        }
    )
    auditors = Context(settings, ctx.db, ctx.bus, ctx.actor)
    for i in range(3):
        async with auditors.write() as tx:
            tx.audit("test.mark", "tests", i)
    started = await audit.take_checkpoint(auditors, "startup")
    first = await audit.take_checkpoint(auditors, "interval")  # n=2: mailed (every second one)
    skipped = await audit.take_checkpoint(auditors, "interval")  # n=3: not mailed
    assert started and first and skipped
    assert [m["Subject"] for m in inbox.messages] == [
        "[Hotline audit] checkpoint 1: entry 3",
        "[Hotline audit] checkpoint 2: entry 3",
    ]
    mail = inbox.messages[0]
    assert mail["To"] == "audit@hotel.example"
    line = next(row for row in mail.get_content().splitlines() if row.startswith("{"))
    assert Checkpoint.parse(line) == started  # the mailed line is the signed checkpoint itself

    async with ctx.db.write() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    report, _row = await audit.verify(auditors, "job")
    assert not report.ok
    alarm = inbox.messages[-1]
    assert alarm["Subject"] == "[Hotline audit] verification FAILED"
    assert "[tail-cut] entries 3..3 are missing" in alarm.get_content()
