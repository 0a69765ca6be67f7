"""The auditors' mailbox (issue 28): copies of the audit checkpoints, and the alarm when the
audit trail does not verify, through the SMTP server set in the settings — not in the database,
where someone who can write the database could redirect them. The alarm also reaches everyone
who may read the audit log, in-app."""

from __future__ import annotations

import structlog

from hotline.admin import directory
from hotline.admin.events import AuditFailed
from hotline.core.checkpoints import Checkpoint, copies_to
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.reactions import reacts_to
from hotline.notify import inbox
from hotline.notify.gateways import Outgoing, SmtpGateway

log = structlog.get_logger(__name__)
NOTICE_KIND = "audit"


class MailSink:
    """Checkpoints mailed to the auditors. Interval checkpoints are mailed at most every
    `audit_mail_every_minutes`; the others always."""

    name = "mail"

    def __init__(self, settings: Settings) -> None:
        self.to = list(settings.audit_mail_to)
        self.every = max(1, settings.audit_mail_every_minutes // settings.audit_checkpoint_minutes)
        password = settings.audit_smtp_password.get_secret_value() if settings.audit_smtp_password else ""
        self.gateway = SmtpGateway(dict(settings.audit_smtp), password)

    async def publish(self, checkpoint: Checkpoint) -> None:
        if checkpoint.reason == "interval" and checkpoint.n % self.every:
            return
        body = (
            f"Hotline audit checkpoint {checkpoint.n} ({checkpoint.reason}), "
            f"{checkpoint.at.isoformat(timespec='seconds')}: the audit log held {checkpoint.seq} entries, "
            f"the last with hash {checkpoint.hash}.\n\nKeep this mail: `hotline audit verify` compares the "
            "log with lines like the one below, signed with the key "
            f"{checkpoint.key}.\n\n{checkpoint.line()}\n"
        )
        for recipient in self.to:
            await self.gateway.send(
                Outgoing(
                    id=checkpoint.n,
                    key=f"audit-checkpoint-{checkpoint.key}-{checkpoint.n}-{recipient}",
                    channel="email",
                    recipient=recipient,
                    subject=f"[Hotline audit] checkpoint {checkpoint.n}: entry {checkpoint.seq}",
                    body=body,
                    html="",
                )
            )


@copies_to
def auditors_mailbox(settings: Settings) -> MailSink | None:
    return MailSink(settings) if settings.audit_mail_to else None


@reacts_to(AuditFailed)
async def tell_the_readers(ctx: Context, event: AuditFailed) -> None:
    first = event.problems[0]
    async with ctx.write() as tx:
        readers = await directory.holders_of(tx.session, Permission.AUDIT_READ)
        await inbox.tell(
            tx,
            readers,
            NOTICE_KIND,
            f"审计日志校验失败：{first.message}"[:200],
            body="\n".join(f"[{p.kind}] {p.message} {p.window}" for p in event.problems)[:1000],
            link="/admin/audit",
        )


@reacts_to(AuditFailed)
async def mail_the_auditors(ctx: Context, event: AuditFailed) -> None:
    sink = auditors_mailbox(ctx.settings)
    if sink is None:
        return
    first = event.problems[0]
    text = "\n".join(f"- [{p.kind}] {p.message} ({p.window or 'time unknown'})" for p in event.problems)
    for recipient in sink.to:
        try:
            await sink.gateway.send(
                Outgoing(
                    id=0,
                    key=f"audit-alarm-{first.kind}-{first.seq}-{recipient}",
                    channel="email",
                    recipient=recipient,
                    subject="[Hotline audit] verification FAILED",
                    body=f"Hotline's audit trail does not verify:\n\n{text}\n\nSee docs/security.md.\n",
                    html="",
                )
            )
        except Exception as exc:  # the in-app notice went out; a mailbox down is logged
            log.warning("audit.alarm_mail_failed", to=recipient, error=str(exc))
