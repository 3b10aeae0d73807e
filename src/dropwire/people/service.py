"""Invitations and password resets: a one-time link by email, through the mail outbox.

The email holds the link and nothing else secret; the stored copy of a message loses its link
once the message is settled (sent, failed or dead), and with no SMTP server the kept copy never
has it (the invitation's answer carries the link instead, for the admin to pass on).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.auth.models import User
from dropwire.auth.users import create_user, find_user, normalize_email
from dropwire.core.db import settings_of
from dropwire.core.errors import Conflict
from dropwire.core.time import utcnow
from dropwire.delivery.kinds import EventKind
from dropwire.delivery.models import UNFINISHED, Delivery
from dropwire.jobs.registry import JobKind
from dropwire.jobs.service import enqueue
from dropwire.mail.defaults import ADMIN_INVITATION, INVITATION, PASSWORD_RESET
from dropwire.mail.models import EmailMessage, withhold_links
from dropwire.mail.outbox import record_email
from dropwire.mail.rendering import Parts
from dropwire.mail.service import render_event
from dropwire.people import links
from dropwire.people.models import LinkPurpose
from dropwire.vendors.models import DropshipProvider

LINK_EVENTS = (INVITATION, ADMIN_INVITATION, PASSWORD_RESET)
"""The emails that carry a one-time link (kept without it once settled)."""


@dataclass(frozen=True)
class Invitation:
    user: User
    expires_at: datetime
    message: EmailMessage
    link: str | None  # only when no email can carry it (no SMTP server)


def _email_link(
    session: Session, *, user: User, purpose: LinkPurpose, event: str, context: dict[str, Any]
) -> tuple[EmailMessage, str]:
    settings = settings_of(session)
    token = links.issue(session, user=user, purpose=purpose)
    link = links.url_of(settings.links_base, token)
    hours = int(links.LIFETIMES[purpose].total_seconds() // 3600)
    full = {
        "merchant": {"name": settings.merchant_name},
        "person": {"email": user.email, "name": user.name},
        "link": link,
        "expiresHours": hours,
        **context,
    }
    parts = render_event(session, event=event, context=full)
    if settings.smtp_url is None:  # kept to be read, never sent: keep no usable link in it
        parts = Parts(parts.subject, withhold_links(parts.html), withhold_links(parts.text))
    message = record_email(
        session,
        event=event,
        to=[user.email],
        to_name=user.name if user.name != user.email else None,
        parts=parts,
        subject_type="user",
        subject_id=user.id,
        user_id=user.id,
        dropship_provider_id=user.dropship_provider_id,
    )
    return message, link


def invite(
    session: Session, *, vendor: DropshipProvider | None, email: str, name: str = ""
) -> Invitation:
    """Invite a person to the vendor's portal, or with no vendor to the dashboard as an admin:
    their user (made now, with no usable password, or theirs already with the same role) and an
    emailed link to choose a password."""
    address = normalize_email(email)
    vendor_id = vendor.id if vendor is not None else None
    user = find_user(session, email=address)
    if user is not None and user.dropship_provider_id != vendor_id:
        raise Conflict("This email belongs to a person of another account", "email")
    if user is None:
        user = create_user(
            session,
            email=address,
            password=secrets.token_urlsafe(32),  # nobody knows it: the link sets a real one
            name=name,
            dropship_provider_id=vendor_id,
        )
    message, link = _email_link(
        session,
        user=user,
        purpose=LinkPurpose.invitation,
        event=INVITATION if vendor is not None else ADMIN_INVITATION,
        context={"vendor": {"name": vendor.name}} if vendor is not None else {},
    )
    expires = utcnow() + links.LIFETIMES[LinkPurpose.invitation]
    sent_by_mail = settings_of(session).smtp_url is not None
    return Invitation(user, expires, message, None if sent_by_mail else link)


def ask_for_reset(session: Session, *, email: str) -> None:
    """Take a "forgot password" request: only queued here, the same work whoever the address
    belongs to (or nobody), so neither the answer nor its timing says whether it is anyone's.
    The worker looks the person up and emails the link (`RESET_JOB_KIND`)."""
    enqueue(session, kind=RESET_JOB, payload={"email": normalize_email(email)}, max_attempts=3)


def _send_reset(session: Session, payload: dict[str, Any]) -> None:
    """The job behind `ask_for_reset`."""
    forgot_password(session, email=payload["email"])


def forgot_password(session: Session, *, email: str) -> None:
    """Email a reset link when an active person has this address; say nothing either way."""
    user = find_user(session, email=email)
    if user is None or user.disabled_at is not None:
        return
    _email_link(
        session,
        user=user,
        purpose=LinkPurpose.password_reset,
        event=PASSWORD_RESET,
        context={},
    )


def _links_settled(session: Session, subject_type: str, subject_id: int, _state: str) -> None:
    """A person's email was settled: its stored copy keeps no usable link."""
    if subject_type != "user":
        return
    for message in session.scalars(
        select(EmailMessage)
        .join(Delivery, Delivery.id == EmailMessage.delivery_id)
        .where(
            EmailMessage.user_id == subject_id,
            EmailMessage.event.in_(LINK_EVENTS),
            Delivery.state.not_in(UNFINISHED),
        )
    ):
        message.html = withhold_links(message.html or "")
        message.text = withhold_links(message.text or "")


RESET_JOB = "people.password_reset"
RESET_JOB_KIND = JobKind(RESET_JOB, _send_reset)
EVENT_KINDS = tuple(EventKind(event, on_finished=_links_settled) for event in LINK_EVENTS)
