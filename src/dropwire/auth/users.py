"""People who sign in with an email and a password (argon2id hashes).

The same users serve the web pages and Onport's `POST /auth/login`; a user with a
`dropship_provider_id` is a vendor user and gets the same scope as a vendor token.
"""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dropwire.auth.errors import CannotDeactivateSelf, EmailTaken, PasswordTooShort
from dropwire.auth.models import User
from dropwire.auth.service import add_naming_vendor
from dropwire.core.errors import Invalid, NotFound
from dropwire.core.time import utcnow

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


@cache
def _decoy_hash() -> str:
    """Verifying against this when the email is unknown keeps both answers equally slow (made at
    the first sign-in, not at import: every process, each CLI command, would pay for it)."""
    return _hasher.hash("decoy password that matches nothing")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    name: str = "",
    dropship_provider_id: int | None = None,
) -> User:
    address = normalize_email(email)
    if "@" not in address or len(address) > 320:
        raise Invalid("email", "must be an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(MIN_PASSWORD_LENGTH)
    if find_user(session, email=address) is not None:
        raise EmailTaken(f"A user with the email {address} exists")
    user = User(
        email=address,
        name=name or address,
        password_hash=_hasher.hash(password),
        dropship_provider_id=dropship_provider_id,
    )
    add_naming_vendor(session, record=user, vendor_id=dropship_provider_id)
    return user


def find_user(session: Session, *, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def verify_password(session: Session, *, email: str, password: str) -> User | None:
    """The active user with these credentials, else None (same cost either way)."""
    user = find_user(session, email=email)
    try:
        _hasher.verify(user.password_hash if user else _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_sign_in_at = utcnow()
    return user


def set_password(session: Session, *, user_id: int, password: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User", user_id)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(MIN_PASSWORD_LENGTH)
    user.password_hash = _hasher.hash(password)
    return user


def set_active(session: Session, *, user_id: int, active: bool, by_user_id: int | None) -> User:
    """Deactivate a person (they can no longer sign in; their open sessions stop at once, as
    a session of a disabled person is refused) or let them sign in again. Nobody deactivates
    themselves: an account must keep someone who can undo it."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User", user_id)
    if not active and user.id == by_user_id:
        raise CannotDeactivateSelf("user", "you cannot deactivate yourself")
    if active:
        user.disabled_at = None
    elif user.disabled_at is None:
        user.disabled_at = utcnow()
    session.flush()
    return user
