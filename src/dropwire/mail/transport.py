"""The `email` transport: what the relay calls to send an email delivery."""

import logging

import aiosmtplib
import httpx

from dropwire.core.db import Database
from dropwire.delivery import transports
from dropwire.mail import mime
from dropwire.mail.models import EmailMessage
from dropwire.mail.smtp import sender_for

log = logging.getLogger("dropwire.mail")
EXCERPT = 500


def send_email(
    database: Database, message: transports.Message, _client: httpx.Client
) -> transports.Sent:
    settings = database.settings
    if settings.smtp_url is None:
        return transports.Sent(error="no SMTP server is configured (DROPWIRE_SMTP_URL)")
    with database.session(write=False) as session:
        stored = session.get(EmailMessage, message.body["emailMessageId"])
        if stored is None:
            return transports.Sent(status=404, error="the email message no longer exists")
        built = mime.build(
            message_id=stored.id,
            event=stored.event,
            sender=settings.mail_from,
            to=list(stored.to_addresses),
            to_name=stored.to_name,
            subject=stored.subject,
            html=stored.html,
            text=stored.text,
            attachments=list(stored.attachments),
        )
    sender = sender_for(settings.smtp_url.get_secret_value(), settings.smtp_timeout)
    try:
        reply = sender.send(built)
    except aiosmtplib.SMTPResponseException as exc:
        return transports.Sent(error=f"{exc.code} {exc.message}"[:EXCERPT])
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return transports.Sent(error=f"{type(exc).__name__}: {exc}"[:EXCERPT])
    return transports.Sent(status=250, excerpt=reply[:EXCERPT])
