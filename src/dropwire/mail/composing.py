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
    # Loads what a batch of its messages is made from in a few statements (one per table, not
    # one per message); the answer is held while they are composed.
    prepare: Callable[[Session, list[EmailMessage]], object] | None = None


class NotComposed(Exception):
    """The message could not be made (its subject is gone, or no composer knows its event)."""


def _composer(wiring: Wiring, event: str) -> Composer:
    for composer in wiring.every(Composer):
        if event.startswith(composer.prefix):
            return composer
    raise NotComposed(f"no composer makes {event} emails")


def stored_whole(message: EmailMessage) -> bool:
    """Whether the message was rendered at its event, documents and all (else it is composed
    when sent, or again when sent again)."""
    return message.subject is not None and all("data" in a for a in message.attachments)


def prepare(session: Session, *, messages: list[EmailMessage]) -> list[object]:
    """Load what the messages still to be composed are made from, per composer in one go;
    hold the answer while composing them."""
    waiting: dict[int, tuple[Composer, list[EmailMessage]]] = {}
    for message in messages:
        if not stored_whole(message):
            try:
                composer = _composer(wiring_of(session), message.event)
            except NotComposed:
                continue  # `compose` says so, message by message
            waiting.setdefault(id(composer), (composer, []))[1].append(message)
    return [
        composer.prepare(session, some)
        for composer, some in waiting.values()
        if composer.prepare is not None
    ]


def compose(session: Session, *, message: EmailMessage) -> Composed:
    """The message as it stands: as stored when it was rendered at its event, else composed
    now by its event's composer (one kept as sent keeps its documents' names, not their data, so
    sending it again composes it again). `NotComposed` says why it cannot be."""
    if stored_whole(message):
        assert message.subject is not None and message.html is not None
        return Composed(
            Parts(message.subject, message.html, message.text or ""), message.attachments
        )
    composer = _composer(wiring_of(session), message.event)
    try:
        return composer.compose(session, message)
    except NotComposed:
        raise
    except Exception as exc:  # any failure makes the message unsendable, saying why
        raise NotComposed(f"{type(exc).__name__}: {exc}") from exc


def keep(session: Session, *, message_id: int, composed: Composed) -> None:
    """Store what was sent, so the mail log shows it as it went out (one UPDATE; the
    documents by name: their data is the larger part, and shown nowhere)."""
    session.execute(
        update(EmailMessage)
        .where(EmailMessage.id == message_id)
        .values(
            subject=composed.parts.subject,
            html=composed.parts.html,
            text=composed.parts.text,
            attachments=[
                {"filename": attachment["filename"], "kind": attachment["kind"]}
                for attachment in composed.attachments
            ],
        )
        .execution_options(synchronize_session=False)
    )


def shown(session: Session, *, messages: Iterable[EmailMessage]) -> None:
    """Fill in, for reading only (nothing is written), the messages not made yet: a page or an
    answer shows what would be sent now."""
    unmade = [message for message in messages if message.subject is None]
    _held = prepare(session, messages=unmade)
    for message in unmade:
        try:
            composed = compose(session, message=message)
        except NotComposed as exc:
            composed = Composed(Parts(f"(cannot be made: {exc})", "", ""))
        for name, value in (
            ("subject", composed.parts.subject),
            ("html", composed.parts.html),
            ("text", composed.parts.text),
            ("attachments", composed.attachments),
        ):
            set_committed_value(message, name, value)
