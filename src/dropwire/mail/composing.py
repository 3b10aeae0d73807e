"""Emails made when they are sent, not when their event happens.

A domain whose emails are costly to make (a purchase order's: its vendor view, the template,
two PDFs) records only who gets which event's email in the changing transaction, and declares a
`Composer` that the sender (and a page showing a message not yet sent) asks for the message as
the subject stands then. Templates are refused on save when they fail to render, so composing
fails only if the subject is gone or a bug: the message is then dead with that error.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dropwire.core.wiring import Wiring, wiring_of
from dropwire.mail.models import EmailMessage
from dropwire.mail.rendering import Parts


@dataclass(frozen=True)
class Composed:
    parts: Parts
    # [{"filename", "kind", "data"}]: documents rendered when the MIME message is built
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Composer:
    """Makes the emails of the events named `{prefix}...` (declared in a domain's `serves`)."""

    prefix: str
    compose: Callable[[Session, EmailMessage], Composed]


class NotComposed(Exception):
    """The message could not be made (its subject is gone, or no composer knows its event)."""


def _composer(wiring: Wiring, event: str) -> Composer:
    for composer in wiring.every(Composer):
        if event.startswith(composer.prefix):
            return composer
    raise NotComposed(f"no composer makes {event} emails")


def compose(session: Session, message: EmailMessage) -> Composed:
    """The message as it stands: as stored when it was made whole (rendered at its event, or
    sent), else composed now by its event's composer. `NotComposed` says why it cannot be."""
    if message.subject is not None and message.html is not None and message.text is not None:
        return Composed(Parts(message.subject, message.html, message.text), message.attachments)
    composer = _composer(wiring_of(session), message.event)
    try:
        return composer.compose(session, message)
    except NotComposed:
        raise
    except Exception as exc:  # any failure makes the message unsendable, saying why
        raise NotComposed(f"{type(exc).__name__}: {exc}") from exc


def keep(session: Session, *, message_id: int, composed: Composed) -> None:
    """Store what was sent, so the mail log shows it as it went out (one UPDATE)."""
    session.execute(
        update(EmailMessage)
        .where(EmailMessage.id == message_id)
        .values(
            subject=composed.parts.subject,
            html=composed.parts.html,
            text=composed.parts.text,
            attachments=composed.attachments,
        )
        .execution_options(synchronize_session=False)
    )


def shown(session: Session, messages: Iterable[EmailMessage]) -> None:
    """Fill in, for reading only (nothing is written), the messages not made yet: a page or an
    answer shows what would be sent now."""
    for message in messages:
        if message.subject is not None:
            continue
        try:
            composed = compose(session, message)
        except NotComposed as exc:
            composed = Composed(Parts(f"(cannot be made: {exc})", "", ""))
        for name, value in (
            ("subject", composed.parts.subject),
            ("html", composed.parts.html),
            ("text", composed.parts.text),
            ("attachments", composed.attachments),
        ):
            set_committed_value(message, name, value)
