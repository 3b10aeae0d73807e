"""API users and their tokens.

Tokens are random (256 bits), shown once, and stored as a SHA-256 digest: a fast hash is enough
for secrets with that much entropy, and lets us find the user by an indexed lookup.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.auth.models import ApiUser, Scope
from dropwire.auth.schemas import ApiUserCreate
from dropwire.core.errors import Conflict, Invalid, NotFound
from dropwire.core.time import utcnow

TOKEN_PREFIX = "dw_"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    api_user_id: int | None
    name: str
    scope: Scope
    dropship_provider_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.scope is Scope.admin


BOOTSTRAP_ADMIN = Principal(api_user_id=None, name="bootstrap-admin", scope=Scope.admin)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_user(
    session: Session,
    *,
    name: str,
    dropship_provider_id: int | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> tuple[ApiUser, str]:
    """Create an API user; returns it with the plain token, which is never retrievable again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user = ApiUser(
        name=name,
        email=email,
        first_name=first_name,
        last_name=last_name,
        scope=Scope.vendor if dropship_provider_id is not None else Scope.admin,
        dropship_provider_id=dropship_provider_id,
        token_digest=digest(token),
        token_prefix=token[:10],
    )
    add_naming_vendor(session, record=user, vendor_id=dropship_provider_id)
    return user, token


def create_token(
    session: Session, *, data: ApiUserCreate, principal: Principal
) -> tuple[ApiUser, str]:
    """`POST /api/users.json` and the dashboard's token form: role `api` or `admin` is the
    whole account, `dropship_provider` one vendor's; a vendor caller only ever makes tokens of
    its own vendor (it can never widen its scope)."""
    vendor_id = data.dropship_provider_id
    if not principal.is_admin:
        vendor_id = principal.dropship_provider_id
    elif data.role == "dropship_provider" and vendor_id is None:
        raise Invalid("dropshipProviderId", "role dropship_provider needs the vendor's id")
    elif data.role != "dropship_provider":
        vendor_id = None
    return create_api_user(
        session,
        name=data.email,
        dropship_provider_id=vendor_id,
        email=data.email,
        first_name=data.first_name,
        last_name=data.last_name,
    )


def add_naming_vendor(session: Session, *, record: object, vendor_id: int | None) -> None:
    """Store a user or token that may belong to a vendor. The foreign key tells a vendor that
    does not exist (a 404): auth sits below vendors and never reads their table."""
    try:
        with session.begin_nested():  # its rollback also takes the refused record back out
            session.add(record)
            session.flush()
    except IntegrityError as exc:
        if vendor_id is None:
            raise
        raise NotFound("Dropship provider", vendor_id) from exc


def list_api_users(session: Session) -> list[ApiUser]:
    return list(session.scalars(select(ApiUser).order_by(ApiUser.id)))


def active_admin_token(session: Session, *, name: str) -> ApiUser | None:
    """The oldest unrevoked admin token of this name (what `token ensure` reuses)."""
    return session.scalars(
        select(ApiUser)
        .where(ApiUser.name == name, ApiUser.scope == Scope.admin, ApiUser.revoked_at.is_(None))
        .order_by(ApiUser.id)
    ).first()


def revoke_api_user(
    session: Session, *, api_user_id: int, principal: Principal | None = None
) -> ApiUser:
    """Revoke a token, never the one making the request: that would lock its holder out
    mid-conversation (another token, the dashboard or `dropwire token revoke` can)."""
    user = session.get(ApiUser, api_user_id)
    if user is None:
        raise NotFound("API user", api_user_id)
    if principal is not None and principal.api_user_id == api_user_id:
        raise Conflict("A token cannot revoke itself: revoke it with another admin token")
    if user.revoked_at is None:
        user.revoked_at = utcnow()
    return user


def authenticate(session: Session, *, token: str, bootstrap_token: str | None) -> Principal | None:
    """The principal a bearer token stands for, or None when it is unknown or revoked."""
    if bootstrap_token and hmac.compare_digest(token.encode(), bootstrap_token.encode()):
        return BOOTSTRAP_ADMIN
    user = session.scalar(
        select(ApiUser).where(ApiUser.token_digest == digest(token), ApiUser.revoked_at.is_(None))
    )
    if user is None:
        return None
    return Principal(
        api_user_id=user.id,
        name=user.name,
        scope=Scope(user.scope),
        dropship_provider_id=user.dropship_provider_id,
    )
