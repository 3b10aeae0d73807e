"""An `EmailMessage` from a stored message: text and HTML alternatives, then the documents.

Headers go through the standard library's `email.policy.SMTP`, which refuses a line break in
any header value; the values are also made one line before that, so a vendor's name or a
subject holding CR/LF can neither add a header nor fail the send.
"""

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any

from dropwire.core.time import utcnow
from dropwire.documents.service import render as render_document
from dropwire.mail.rendering import one_line


def _domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] or "localhost"


def build(
    *,
    message_id: int,
    event: str,
    sender: str,
    to: list[str],
    to_name: str | None,
    subject: str,
    html: str,
    text: str,
    attachments: list[dict[str, Any]],
) -> EmailMessage:
    mime = EmailMessage(policy=SMTP)
    mime["From"] = one_line(sender)
    name = one_line(to_name or "")
    mime["To"] = [Address(display_name=name, addr_spec=address) for address in to]
    mime["Subject"] = one_line(subject)
    mime["Date"] = format_datetime(utcnow())
    mime["Message-ID"] = make_msgid(idstring=f"dropwire.{message_id}", domain=_domain(sender))
    mime["X-Dropwire-Event"] = event
    mime.set_content(text)
    mime.add_alternative(html, subtype="html")
    for attachment in attachments:
        mime.add_attachment(
            render_document(attachment["kind"], attachment["data"]),
            maintype="application",
            subtype="pdf",
            filename=one_line(attachment["filename"]),
        )
    return mime
