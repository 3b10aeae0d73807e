"""Web sign-in sessions: a random cookie token (stored as its SHA-256), a CSRF token per session.

Sign-in verifies the password with the same argon2 users as `/auth/login`; signing out deletes the
row, so a copied cookie stops working at once.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dropwire.auth.models import Scope, User
from dropwire.auth.service import Principal, digest
from dropwire.auth.users import verify_password
from dropwire.core.time import utcnow
from dropwire.web.models import WebSession


@dataclass(frozen=True)
class Visitor:
    """The signed-in person of one page request."""

    user_id: int
    email: str
    name: str
    dropship_provider_id: int | None
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.dropship_provider_id is None

    @property
    def principal(self) -> Principal:
        """The same scope an API token of this kind has, for the services' scope checks."""
        return Principal(
            api_user_id=None,
            name=self.email,
            scope=Scope.admin if self.is_admin else Scope.vendor,
            dropship_provider_id=self.dropship_provider_id,
        )

    def csrf_matches(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            self.csrf_token.encode(), (presented or "").encode()
        )


def sign_in(
    session: Session,
    *,
    email: str,
    password: str,
    lifetime: timedelta,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str | None:
    """A new session token for these credentials, or None when they are wrong."""
    user = verify_password(session, email=email, password=password)
    if user is None:
        return None
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.add(
        WebSession(
            user_id=user.id,
            token_digest=digest(token),
            csrf_token=secrets.token_urlsafe(32),
            expires_at=now + lifetime,
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    session.flush()
    return token


def visitor_for(session: Session, *, token: str) -> Visitor | None:
    """The person a session cookie stands for; None when unknown, expired or disabled."""
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_digest == digest(token), WebSession.expires_at > utcnow())
    ).first()
    if row is None:
        return None
    web_session, user = row
    if user.disabled_at is not None:
        return None
    return Visitor(
        user_id=user.id,
        email=user.email,
        name=user.name,
        dropship_provider_id=user.dropship_provider_id,
        csrf_token=web_session.csrf_token,
    )


def sign_out(session: Session, *, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_digest == digest(token)))


def sign_out_everywhere(session: Session, *, user_id: int) -> None:
    """Every browser of this person signed out (they were deactivated: reactivating them must
    not bring an old session back)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
