from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dropwire.core.db import Base, IdMixin, TimestampMixin
from dropwire.core.time import utcnow


class DeliveryState(StrEnum):
    pending = "pending"  # waiting for its (next) attempt
    delivering = "delivering"  # an attempt is in flight
    delivered = "delivered"
    failed = "failed"  # the receiver refused it (4xx): not retried
    dead = "dead"  # retries exhausted
    disabled = "disabled"  # the endpoint answered 410 and is switched off


UNFINISHED = (DeliveryState.pending, DeliveryState.delivering)


class EndpointOwner(StrEnum):
    channel = "channel"  # a store: its custom channel's endpoints
    vendor = "vendor"  # a dropship provider's orderEndpoint
    mailbox = "mailbox"  # email to people who are no channel's or vendor's (owner id 0)


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    """A receiving URL of one owner, with the secret deliveries to it are signed with.

    Per owner AND url: two owners naming the same URL get two endpoints and two secrets, so
    nobody receives messages signed with a secret someone else was given.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "url", name="uq_webhook_endpoints_owner_url"),
    )

    owner_type: Mapped[EndpointOwner] = mapped_column(String(16))
    owner_id: Mapped[int]
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(500))


class Delivery(IdMixin, TimestampMixin, Base):
    """One outbound event: written with the change that causes it, sent after commit."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "state", "next_attempt_at", "id"),
        Index("ix_deliveries_coalesce", "coalesce_key", "id"),
        Index(  # "is a delivery of this key in flight?": any such one holds the key
            "ix_deliveries_delivering_coalesce",
            "coalesce_key",
            sqlite_where=text("state = 'delivering'"),
            postgresql_where=text("state = 'delivering'"),
        ),
    )

    # a kind registered in delivery/kinds.py
    event: Mapped[str] = mapped_column(String(32), index=True)
    transport: Mapped[str] = mapped_column(String(32), default="webhook", server_default="webhook")
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    channel_id: Mapped[int | None] = mapped_column(index=True)
    dropship_provider_id: Mapped[int | None] = mapped_column(index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int]
    coalesce_key: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    hash_header: Mapped[str | None] = mapped_column(String(128))  # onport-hash / jetti-hash
    version: Mapped[int] = mapped_column(default=1)  # bumped when a coalesced body is replaced
    state: Mapped[DeliveryState] = mapped_column(String(16), default=DeliveryState.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_expires_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    attempt_log: Mapped[list["DeliveryAttempt"]] = relationship(
        order_by="DeliveryAttempt.id", lazy="selectin"
    )


class DeliveryAttempt(IdMixin, Base):
    __tablename__ = "webhook_delivery_attempts"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    http_status: Mapped[int | None]
    latency_ms: Mapped[float | None]
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
