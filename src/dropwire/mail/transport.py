"""The `email` transport: what the relay calls to send email deliveries.

The relay hands it a round's claimed emails at once: they are read in one query, composed (a
message recorded without its parts, by its event's `Composer`), built (the PDFs rendered), and
handed to the server in turn over one kept connection. One composed now keeps, once the server
took it, what was sent. One that cannot be composed is dead at once, saying why.

A batch is bounded in time (`batch_seconds`) and the relay holds its deliveries at least that
long, so no other worker takes over and sends a message a second time.

What the server answers decides each message's fate: a permanent refusal of the message (a 5xx
reply to its sender, recipients or content, or an address that cannot be sent) makes it dead at
once with the server's reply; a temporary one (4xx), a connection that fails or a server that
turns the login down are tried again with backoff.
"""

import functools
import logging
import time
from collections.abc import Callable
from email.message import Message
from email.mime.base import MIMEBase

import aiosmtplib
import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from dropwire.core.db import Database
from dropwire.core.settings import Settings
from dropwire.delivery import transports
from dropwire.mail import mime
from dropwire.mail.composing import (
    Composed,
    NotComposed,
    compose,
    keep,
    prepare,
    stored_whole,
)
from dropwire.mail.models import EmailMessage
from dropwire.mail.smtp import Handed, SmtpSender, sender_for

log = logging.getLogger("dropwire.mail")
EXCERPT = 500
# A batch composes no new message, and hands over no new message, after this many seconds
# each; the rest go back in line untried.
BATCH_SECONDS = 10.0
RECORDING_SECONDS = 10.0  # the outcomes' transaction, and a margin
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


def batch_seconds(settings: Settings) -> float:
    """The longest a batch may take, which the relay holds its deliveries for: composing (no
    message started after `BATCH_SECONDS`), handing over (none started after `BATCH_SECONDS`,
    the last one bounded by `SmtpSender.send_all`), and recording the outcomes."""
    return 2 * BATCH_SECONDS + settings.smtp_timeout * SmtpSender.EXCHANGES + RECORDING_SECONDS


def _kept(message_id: int, composed: Composed) -> Callable[[Session], None]:
    return functools.partial(keep, message_id=message_id, composed=composed)


def _built(
    database: Database, wanted: list[int]
) -> dict[int, tuple[MIMEBase, Callable[[Session], None] | None] | transports.Sent]:
    """Each delivery's MIME message (and, for one composed now, how to keep what was sent),
    or the answer that settles it unsent."""
    settings = database.settings
    started = time.perf_counter()
    built: dict[int, tuple[MIMEBase, Callable[[Session], None] | None] | transports.Sent] = {}
    with database.session(write=False) as session:
        stored = {
            row.delivery_id: row
            for row in session.scalars(
                select(EmailMessage)
                .where(EmailMessage.delivery_id.in_(wanted))
                .options(lazyload(EmailMessage.delivery))
            )
        }
        _held = prepare(session, messages=list(stored.values()))
        for delivery_id in wanted:
            row = stored.get(delivery_id)
            if row is None:
                built[delivery_id] = transports.Sent(
                    status=404, error="the email message no longer exists"
                )
            elif built and time.perf_counter() - started > BATCH_SECONDS:
                built[delivery_id] = transports.Sent(deferred=True)
            else:
                built[delivery_id] = _build(session, settings, row)
    return built


def _build(
    session: Session, settings: Settings, row: EmailMessage
) -> tuple[MIMEBase, Callable[[Session], None] | None] | transports.Sent:
    composed_now = not stored_whole(row)
    try:
        composed = compose(session, message=row)
        mime_message = mime.build(
            message_id=row.id,
            event=row.event,
            sender=settings.mail_from,
            to=list(row.to_addresses),
            to_name=row.to_name,
            subject=composed.parts.subject,
            html=composed.parts.html,
            text=composed.parts.text,
            attachments=list(composed.attachments),
        )
    except NotComposed as exc:
        error = f"cannot be made: {exc}"[:EXCERPT]
        log.error("email message %s %s", row.id, error)
        return transports.Sent(error=error, excerpt=error, permanent=True)
    return mime_message, _kept(row.id, composed) if composed_now else None


def send_emails(
    database: Database, messages: list[transports.Message], _client: httpx.Client
) -> list[transports.Sent]:
    settings = database.settings
    if settings.smtp_url is None:
        missing = "no SMTP server is configured (DROPWIRE_SMTP_URL)"
        return [transports.Sent(error=missing) for _ in messages]
    wanted = [message.id for message in messages]  # each email names its delivery
    started = time.perf_counter()
    built = _built(database, wanted)
    ready = {key: value for key, value in built.items() if isinstance(value, tuple)}
    sender = sender_for(settings.smtp_url.get_secret_value(), settings.smtp_timeout)
    mimes: list[Message] = [mime_message for mime_message, _keep in ready.values()]
    handed = iter(sender.send_all(mimes, budget=BATCH_SECONDS) if mimes else [])
    share = round((time.perf_counter() - started) * 1000 / max(len(ready), 1), 2)
    results = []
    for delivery_id in wanted:
        made = built[delivery_id]
        if isinstance(made, transports.Sent):
            results.append(made)
            continue
        sent = _sent(next(handed), share)
        if sent.status == 250:
            sent.on_delivered = made[1]
        results.append(sent)
    return results


def send_email(
    database: Database, message: transports.Message, client: httpx.Client
) -> transports.Sent:
    """One email delivery (a resend, or a relay without batches)."""
    (sent,) = send_emails(database, [message], client)
    return sent
