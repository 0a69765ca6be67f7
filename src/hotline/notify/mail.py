"""E-mail with files, sent at once through the e-mail gateway set up in 消息设置 (notify/api.py):
what a scheduled report mails. Unlike customer messages it is not kept in the outbox (the
workbook is not stored); the caller records the outcome and tries again at its next round."""

from __future__ import annotations

from hotline.core.context import Context
from hotline.notify import gateways
from hotline.notify.gateways import Attachment, Outgoing
from hotline.notify.models import GatewaySetting

__all__ = ["Attachment", "MailNotSent", "send_mail"]


class MailNotSent(Exception):
    """No SMTP gateway is set up, or the server refused or could not be reached."""


async def send_mail(
    ctx: Context,
    recipients: list[str],
    subject: str,
    body: str,
    attachments: tuple[Attachment, ...],
    key: str,
) -> list[str]:
    """Mails each recipient; returns the gateway's references. Raises `MailNotSent`."""
    async with ctx.read() as session:
        setting = await session.get(GatewaySetting, "email")
    if setting is None or setting.kind != "smtp":
        raise MailNotSent("no SMTP gateway is set up for e-mail (消息设置)")
    gateway = gateways.SmtpGateway(dict(setting.config), setting.secret or "")
    sent: list[str] = []
    try:
        for n, recipient in enumerate(recipients):
            message = Outgoing(0, f"{key}-{n}", "email", recipient, subject, body, "", attachments)
            sent.append(await gateway.send(message))
    except (gateways.Refused, gateways.Unavailable) as e:
        raise MailNotSent(str(e)) from e
    finally:
        await gateway.close()
    return sent
