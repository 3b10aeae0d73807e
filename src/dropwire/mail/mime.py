"""A MIME message from a stored message: text and HTML alternatives, then the documents.

Built with the standard library's `email.mime` classes: the modern `EmailMessage` parses every
header it is given again (a third of the time it takes to send a purchase order), and every
value here is already known to be one line. Each header value is made one line (any run of
whitespace, CR and LF included, becomes a space) before it is set, and the names are encoded by
`formataddr`/`Header`, so a vendor's name or a subject holding CR/LF can neither add a header
nor fail the send; `_one_header` checks it once more.
"""

from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any

from dropwire.core.time import utcnow
from dropwire.documents.service import render as render_document
from dropwire.mail.rendering import one_line


def _domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] or "localhost"


def _one_header(value: str) -> str:
    """A value that cannot start another header: folded lines only go on with a space."""
    lines = value.replace("\r\n", "\n").split("\n")
    if any(not line[:1].isspace() for line in lines[1:]):
        raise ValueError("a header value would start a new header")
    return value


def _text(value: str) -> str:
    plain = one_line(value)
    return plain if plain.isascii() else Header(plain, "utf-8").encode()


def _address(name: str, address: str) -> str:
    return formataddr((one_line(name), one_line(address)), charset="utf-8")


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
) -> MIMEBase:
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(text, "plain", "utf-8"))
    body.attach(MIMEText(html, "html", "utf-8"))
    if attachments:
        mime: MIMEBase = MIMEMultipart("mixed")
        mime.attach(body)
    else:
        mime = body
    name, address = parseaddr(one_line(sender))
    headers = {
        "From": _address(name, address or one_line(sender)),
        "To": ", ".join(_address(to_name or "", recipient) for recipient in to),
        "Subject": _text(subject),
        "Date": format_datetime(utcnow()),
        "Message-ID": make_msgid(idstring=f"dropwire.{message_id}", domain=_domain(sender)),
        "X-Dropwire-Event": one_line(event),
    }
    for header, value in headers.items():
        mime[header] = _one_header(value)
    for attachment in attachments:
        document = MIMEApplication(
            render_document(attachment["kind"], attachment["data"]), "pdf", name=None
        )
        filename = one_line(attachment["filename"])
        document.add_header(
            "Content-Disposition",
            "attachment",
            filename=filename if filename.isascii() else ("utf-8", "", filename),
        )
        mime.attach(document)
    return mime
