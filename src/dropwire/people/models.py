from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dropwire.core.db import Base, IdMixin
from dropwire.core.time import utcnow


class LinkPurpose(StrEnum):
    invitation = "invitation"
    password_reset = "password_reset"


class PersonLink(IdMixin, Base):
    """A one-time link that lets a person set a password. Only the token's digest is kept: the
    token itself exists in the email (until it is sent) and in the person's hands."""

    __tablename__ = "person_links"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(String(16))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
