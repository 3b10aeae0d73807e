"""Email templates (the merchant's versions over the built-in ones) and the mail log."""

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.errors import NotFound
from dropwire.core.time import utcnow
from dropwire.mail.composing import shown
from dropwire.mail.defaults import BY_EVENT, DEFAULTS, DefaultTemplate
from dropwire.mail.models import EmailMessage, EmailTemplate
from dropwire.mail.rendering import Parts, TemplateRefused, render

log = logging.getLogger("dropwire.mail")


def default_of(event: str) -> DefaultTemplate:
    default = BY_EVENT.get(event)
    if default is None:
        raise NotFound("Email template", event)
    return default


def stored(session: Session, *, event: str) -> EmailTemplate | None:
    return session.scalar(select(EmailTemplate).where(EmailTemplate.event == event))


def template_of(session: Session, *, event: str) -> tuple[Parts, EmailTemplate | None]:
    """The template an event's email is rendered with: the merchant's, else the built-in."""
    default = default_of(event)
    own = stored(session, event=event)
    if own is not None:
        return Parts(own.subject, own.html, own.text), own
    return Parts(default.subject, default.html, default.text), None


def all_templates(session: Session) -> list[tuple[DefaultTemplate, Parts, EmailTemplate | None]]:
    own = {row.event: row for row in session.scalars(select(EmailTemplate))}
    result = []
    for default in DEFAULTS:
        row = own.get(default.event)
        parts = Parts(row.subject, row.html, row.text) if row else None
        result.append((default, parts or Parts(default.subject, default.html, default.text), row))
    return result


def save_template(
    session: Session,
    *,
    event: str,
    subject: str | None = None,
    html: str | None = None,
    text: str | None = None,
) -> EmailTemplate:
    """Keep the merchant's version once it renders the event's sample; a part left out keeps
    its current text. A template that does not render is refused here, never at send."""
    current, own = template_of(session, event=event)
    candidate = Parts(
        subject if subject is not None else current.subject,
        html if html is not None else current.html,
        text if text is not None else current.text,
    )
    render(candidate, default_of(event).sample)
    if own is None:
        own = EmailTemplate(event=event, updated_at=utcnow(), **candidate.__dict__)
        session.add(own)
    else:
        own.subject, own.html, own.text = candidate.subject, candidate.html, candidate.text
        own.updated_at = utcnow()
    session.flush()
    return own


def reset_template(session: Session, *, event: str) -> None:
    default_of(event)
    own = stored(session, event=event)
    if own is not None:
        session.delete(own)
        session.flush()


def preview(
    session: Session,
    *,
    event: str,
    subject: str | None = None,
    html: str | None = None,
    text: str | None = None,
) -> Parts:
    """The event's sample rendered with the given parts (the current ones where left out)."""
    current, _own = template_of(session, event=event)
    candidate = Parts(
        subject if subject is not None else current.subject,
        html if html is not None else current.html,
        text if text is not None else current.text,
    )
    return render(candidate, default_of(event).sample)


def render_event(session: Session, *, event: str, context: dict[str, Any]) -> Parts:
    """An event's email for `context`. A saved template rendered its sample; should it still
    fail on real data, the built-in one is used so the email goes out anyway."""
    parts, own = template_of(session, event=event)
    try:
        return render(parts, context)
    except TemplateRefused as exc:
        if own is None:
            raise
        log.warning("template %s failed on real data (%s); the built-in one was used", event, exc)
        default = default_of(event)
        return render(Parts(default.subject, default.html, default.text), context)


def get_message(session: Session, *, message_id: int) -> EmailMessage:
    """The message as sent, or (not sent yet) as it would be made now."""
    message = session.get(EmailMessage, message_id)
    if message is None:
        raise NotFound("Email message", message_id)
    shown(session, messages=[message])
    return message
