"""One-time links: issued as a random token, kept as its digest, redeemed once before expiry."""

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dropwire.auth.models import User
from dropwire.auth.service import digest
from dropwire.auth.users import MIN_PASSWORD_LENGTH, set_password
from dropwire.core.errors import Invalid
from dropwire.core.time import utcnow
from dropwire.people.models import LinkPurpose, PersonLink

LIFETIMES = {
    LinkPurpose.invitation: timedelta(hours=72),
    LinkPurpose.password_reset: timedelta(hours=2),
}
SET_PASSWORD_PATH = "/password/set"


def issue(session: Session, *, user: User, purpose: LinkPurpose) -> str:
    """A new link token for `user`; earlier unused links of the same purpose stop working."""
    now = utcnow()
    session.execute(
        update(PersonLink)
        .where(
            PersonLink.user_id == user.id,
            PersonLink.purpose == purpose,
            PersonLink.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        PersonLink(
            user_id=user.id,
            purpose=purpose,
            token_digest=digest(token),
            expires_at=now + LIFETIMES[purpose],
        )
    )
    session.flush()
    return token


def url_of(base: str, token: str) -> str:
    return f"{base}{SET_PASSWORD_PATH}?token={token}"


def usable(session: Session, *, token: str) -> tuple[PersonLink, User] | None:
    """The link and its person while the link may still be used."""
    if not token or len(token) > 128:
        return None
    row = session.execute(
        select(PersonLink, User)
        .join(User, User.id == PersonLink.user_id)
        .where(PersonLink.token_digest == digest(token))
    ).first()
    if row is None:
        return None
    link, user = row
    if link.used_at is not None or link.expires_at <= utcnow() or user.disabled_at is not None:
        return None
    return link, user


def redeem(session: Session, *, token: str, password: str) -> User:
    """Set the person's password with the link, which is then used up (a second try fails)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    found = usable(session, token=token)
    if found is None:
        raise Invalid("token", "This link has expired or was already used; ask for a new one")
    link, user = found
    claimed = session.execute(
        update(PersonLink)
        .where(PersonLink.id == link.id, PersonLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:  # a concurrent use got there first
        raise Invalid("token", "This link was already used; ask for a new one")
    return set_password(session, user_id=user.id, password=password)
