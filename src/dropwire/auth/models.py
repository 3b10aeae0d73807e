from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dropwire.core.db import Base, IdMixin
from dropwire.core.time import utcnow


class Scope(StrEnum):
    admin = "admin"
    vendor = "vendor"


class ApiUser(IdMixin, Base):
    """Who calls the API. The token itself is never stored, only its SHA-256."""

    __tablename__ = "api_users"

    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))  # for developer notifications
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    scope: Mapped[Scope] = mapped_column(String(16))
    dropship_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="CASCADE"), index=True
    )
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def role(self) -> str:
        """Onport's name for the scope: `api` (the whole account) or `dropship_provider`."""
        return "dropship_provider" if self.scope == Scope.vendor else "api"


class User(IdMixin, Base):
    """A person who signs in (web pages, `/auth/login`). A vendor user sees only its vendor."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(320), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    dropship_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]

    @property
    def scope(self) -> Scope:
        return Scope.vendor if self.dropship_provider_id is not None else Scope.admin
