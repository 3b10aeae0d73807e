import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dropwire.core.db import Base, IdMixin, TimestampMixin
from dropwire.delivery.models import Delivery, DeliveryState

_STATUS = {
    DeliveryState.pending: "queued",
    DeliveryState.delivering: "queued",
    DeliveryState.delivered: "sent",
    DeliveryState.failed: "failed",
    DeliveryState.dead: "dead",
    DeliveryState.disabled: "dead",
}


_TOKEN_IN_LINK = re.compile(r"(token=)[A-Za-z0-9_\-]{16,}")


def withhold_links(text: str) -> str:
    """The text with the token of every one-time link (`...?token=...`) replaced: what may be
    kept or shown of an email that carries one."""
    return _TOKEN_IN_LINK.sub(r"\1[withheld]", text)


class EmailMessage(IdMixin, TimestampMixin, Base):
    """One email, sent (or not) by its outbox delivery: rendered when its event happened, or
    (`subject` empty) composed when it is sent and kept as sent (`mail.composing`).

    `delivery_id` is empty when no SMTP server is configured: the message is kept as
    `recorded`, readable in the mail log, and sends nothing.
    """

    __tablename__ = "email_messages"

    event: Mapped[str] = mapped_column(String(48), index=True)
    to_addresses: Mapped[list[str]] = mapped_column(JSON)
    to_name: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(998))
    html: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    # [{"filename", "kind", "data"}]: documents made when the message is sent
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    purchase_id: Mapped[int | None] = mapped_column(index=True)
    dropship_provider_id: Mapped[int | None] = mapped_column(index=True)
    user_id: Mapped[int | None]
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="SET NULL"), index=True
    )

    delivery: Mapped[Delivery | None] = relationship(lazy="joined")

    @property
    def status(self) -> str:
        """queued|sent|failed|dead as its delivery stands; `recorded` when nothing sends it."""
        if self.delivery is None:
            return "recorded"
        return _STATUS[DeliveryState(self.delivery.state)]

    @property
    def attempts(self) -> int:
        return self.delivery.attempts if self.delivery else 0

    @property
    def last_error(self) -> str | None:
        return self.delivery.last_error if self.delivery else None

    @property
    def sent_at(self) -> datetime | None:
        return self.delivery.delivered_at if self.delivery else None


class EmailTemplate(IdMixin, Base):
    """A merchant's own version of one event's email (the built-in one applies otherwise)."""

    __tablename__ = "email_templates"

    event: Mapped[str] = mapped_column(String(48), unique=True)
    subject: Mapped[str] = mapped_column(String(998))
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
