"""The `email` transport: what the relay calls to send email deliveries.

The relay hands it a round's claimed emails at once: they are read in one query, built (the
PDFs rendered), and handed to the server in turn over one kept connection.

What the server answers decides each message's fate: a permanent refusal of the message (a 5xx
reply to its sender, recipients or content, or an address that cannot be sent) makes it dead at
once with the server's reply; a temporary one (4xx), a connection that fails or a server that
turns the login down are tried again with backoff.
"""

import logging
import time

import aiosmtplib
import httpx
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from dropwire.core.db import Database
from dropwire.delivery import transports
from dropwire.mail import mime
from dropwire.mail.models import EmailMessage
from dropwire.mail.smtp import Handed, sender_for

log = logging.getLogger("dropwire.mail")
EXCERPT = 500
# A batch starts no new message after this many seconds, well inside the relay's lease on it;
# the rest go back in line untried.
BATCH_SECONDS = 10.0
# 530 "authentication required": the server's settings, not the message, are at fault.
_NOT_THE_MESSAGES_FAULT = {530}


def _permanent(error: BaseException) -> bool:
    """Whether no later attempt can get this message accepted."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in error.recipients]
        return bool(codes) and all(_permanent_code(code) for code in codes)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _permanent_code(error.code)
    return isinstance(error, ValueError | aiosmtplib.SMTPNotSupported)


def _permanent_code(code: int) -> bool:
    return 500 <= code < 600 and code not in _NOT_THE_MESSAGES_FAULT


def _described(error: BaseException) -> str:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{refusal.recipient}: {refusal.code} {refusal.message}" for refusal in error.recipients
        )
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"{error.code} {error.message}"
    return f"{type(error).__name__}: {error}"


def _sent(handed: Handed, latency_ms: float) -> transports.Sent:
    if handed.skipped:
        return transports.Sent(deferred=True)
    if handed.error is not None:
        text = _described(handed.error)[:EXCERPT]
        permanent = not handed.connecting and _permanent(handed.error)
        if permanent:
            text = f"refused for good: {text}"[:EXCERPT]
        return transports.Sent(error=text, excerpt=text, permanent=permanent, latency_ms=latency_ms)
    reply = (handed.reply or "")[:EXCERPT]
    return transports.Sent(status=250, excerpt=reply, latency_ms=latency_ms)


def send_emails(
    database: Database, messages: list[transports.Message], _client: httpx.Client
) -> list[transports.Sent]:
    settings = database.settings
    if settings.smtp_url is None:
        missing = "no SMTP server is configured (DROPWIRE_SMTP_URL)"
        return [transports.Sent(error=missing) for _ in messages]
    wanted = [message.id for message in messages]  # each email names its delivery
    with database.session(write=False) as session:
        stored = {
            row.delivery_id: row
            for row in session.scalars(
                select(EmailMessage)
                .where(EmailMessage.delivery_id.in_(wanted))
                .options(lazyload(EmailMessage.delivery))
            )
        }
    started = time.perf_counter()
    built = {}
    for delivery_id in wanted:
        row = stored.get(delivery_id)
        if row is not None:
            built[delivery_id] = mime.build(
                message_id=row.id,
                event=row.event,
                sender=settings.mail_from,
                to=list(row.to_addresses),
                to_name=row.to_name,
                subject=row.subject,
                html=row.html,
                text=row.text,
                attachments=list(row.attachments),
            )
    sender = sender_for(settings.smtp_url.get_secret_value(), settings.smtp_timeout)
    handed = iter(sender.send_all(list(built.values()), budget=BATCH_SECONDS) if built else [])
    share = round((time.perf_counter() - started) * 1000 / max(len(built), 1), 2)
    results = []
    for delivery_id in wanted:
        if delivery_id not in built:
            results.append(transports.Sent(status=404, error="the email message no longer exists"))
        else:
            results.append(_sent(next(handed), share))
    return results


def send_email(
    database: Database, message: transports.Message, client: httpx.Client
) -> transports.Sent:
    """One email delivery (a resend, or a relay without batches)."""
    (sent,) = send_emails(database, [message], client)
    return sent
