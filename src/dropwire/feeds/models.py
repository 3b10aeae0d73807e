from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dropwire.core.db import Base, IdMixin, TimestampMixin
from dropwire.core.time import utcnow
from dropwire.vendors.models import DropshipProvider

NAME_LENGTH = 255


class ResourceType(StrEnum):
    webhook = "webhook"  # pushed to us (parse-webhook, async batches)
    csv = "csv"
    xml = "xml"
    json = "json"


class FetchFrequency(StrEnum):
    never = "never"
    hourly = "hourly"
    daily = "daily"
    custom = "custom"
    webhook = "webhook"


class Delimiter(StrEnum):
    comma = "comma"
    tab = "tab"
    semicolon = "semicolon"
    pipe = "pipe"


DELIMITER_CHARS = {
    Delimiter.comma: ",",
    Delimiter.tab: "\t",
    Delimiter.semicolon: ";",
    Delimiter.pipe: "|",
}


class DecimalNotation(StrEnum):
    decimal = "decimal"  # 1234.50
    comma = "comma"  # 1.234,50


class QuantityOverride(StrEnum):
    none = "none"  # the vendor's number
    manual = "manual"  # the merchant's number instead
    maximum = "maximum"  # the vendor's number, capped at the merchant's


class InventoryFeed(IdMixin, TimestampMixin, Base):
    """A vendor's stock list; each feed is one inventory location of that vendor."""

    __tablename__ = "inventory_feeds"

    dropship_provider_id: Mapped[int] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    resource_type: Mapped[ResourceType] = mapped_column(String(16), default=ResourceType.webhook)
    resource_location: Mapped[str | None] = mapped_column(String(2048))
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fetch_frequency: Mapped[FetchFrequency] = mapped_column(
        String(16), default=FetchFrequency.webhook
    )
    fetch_interval_minutes: Mapped[int | None]
    diff_previous: Mapped[bool] = mapped_column(default=True)
    fetch_cleanup: Mapped[bool] = mapped_column(default=True)
    automatically_connect: Mapped[bool] = mapped_column(default=True)
    automatically_connect_by_barcode: Mapped[bool] = mapped_column(default=False)
    case_insensitive_skus: Mapped[bool] = mapped_column(default=False)
    allocation_buffer: Mapped[int] = mapped_column(default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    delimiter: Mapped[Delimiter] = mapped_column(
        String(16), default=Delimiter.comma, server_default="comma"
    )
    csv_has_header: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    decimal_notation: Mapped[DecimalNotation] = mapped_column(
        String(16), default=DecimalNotation.decimal, server_default="decimal"
    )
    # sent as `Authorization: Bearer ...` to REST sources; never shown back
    authentication_token: Mapped[str | None] = mapped_column(String(2048))
    cleanup_guard_percent: Mapped[int] = mapped_column(default=20, server_default="20")
    next_fetch_at: Mapped[datetime | None]  # the schedule's next firing (None: no schedule)
    hash: Mapped[str] = mapped_column(String(64))
    hash_digest: Mapped[str] = mapped_column(String(64), unique=True)

    dropship_provider: Mapped[DropshipProvider] = relationship(lazy="joined")

    @property
    def authentication_token_set(self) -> bool:
        return bool(self.authentication_token)


class InventoryFeedVariant(IdMixin, TimestampMixin, Base):
    """One item of a vendor's feed, keyed by the vendor's `externalId`; may connect to a variant."""

    __tablename__ = "inventory_feed_variants"
    __table_args__ = (
        UniqueConstraint("inventory_feed_id", "external_id"),
        Index("ix_feed_variants_feed_sku_key", "inventory_feed_id", "vendor_sku_key"),
        # a run's reads of its feed's rows in id order (read-ahead, cleanup), page by page
        Index("ix_feed_variants_feed_id", "inventory_feed_id", "id"),
        Index("ix_feed_variants_vendor_sku", "vendor_sku"),  # where[vendorSku], sorting by SKU
        # SKU prefix search under any collation (PostgreSQL; SQLite's GLOB uses the plain index)
        Index(
            "ix_feed_variants_sku_key_prefix",
            "vendor_sku_key",
            postgresql_ops={"vendor_sku_key": "text_pattern_ops"},
        ).ddl_if(dialect="postgresql"),
        # the few rows with a problem, among millions (the overview's panel, "problems only")
        Index(
            "ix_feed_variants_problem",
            "inventory_feed_id",
            "id",
            postgresql_where=text("problem IS NOT NULL"),
            sqlite_where=text("problem IS NOT NULL"),
        ),
    )

    inventory_feed_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_feeds.id", ondelete="CASCADE")
    )
    external_id: Mapped[str] = mapped_column(String(255))
    vendor_sku: Mapped[str | None] = mapped_column(String(255))
    vendor_sku_key: Mapped[str | None] = mapped_column(String(255), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    barcode: Mapped[str | None] = mapped_column(String(64), index=True)
    cost_price: Mapped[Decimal | None]
    price: Mapped[Decimal | None]
    compare_at_price: Mapped[Decimal | None]
    external_group_id: Mapped[str | None] = mapped_column(String(255))
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    inventory_policy: Mapped[str | None] = mapped_column(String(16))
    locations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    inventory_quantity: Mapped[int] = mapped_column(default=0)
    inventory_quantity_override: Mapped[QuantityOverride] = mapped_column(
        String(16), default=QuantityOverride.none
    )
    manual_inventory_quantity: Mapped[int | None]
    allocation_buffer_override: Mapped[int | None]
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("variants.id", ondelete="SET NULL"), index=True
    )
    connected_at: Mapped[datetime | None]
    inventory_updated_at: Mapped[datetime | None]
    problem: Mapped[str | None] = mapped_column(Text)
    # digest of the item as last received; equal next time = unchanged, nothing to write
    content_hash: Mapped[str | None] = mapped_column(String(32))

    feed: Mapped[InventoryFeed] = relationship(lazy="joined")

    @property
    def connected(self) -> bool:
        return self.variant_id is not None

    @property
    def effective_quantity(self) -> int:
        return effective_quantity(
            self.inventory_quantity,
            self.inventory_quantity_override,
            self.manual_inventory_quantity,
        )


def effective_quantity(quantity: int, override: str, manual: int | None) -> int:
    """The quantity the feed location is stocked with, after the merchant's override."""
    if override == QuantityOverride.manual and manual is not None:
        return manual
    if override == QuantityOverride.maximum and manual is not None:
        return min(quantity, manual)
    return quantity


class FeedDailyCount(Base):
    """How many distinct feed variants changed on a UTC day (the daily SKU limit's counter)."""

    __tablename__ = "feed_daily_counts"

    day: Mapped[date] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class FeedDailyUpdate(Base):
    """Which feed variants already counted today (a variant counts once per day)."""

    __tablename__ = "feed_daily_updates"

    day: Mapped[date] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(String(300), primary_key=True)


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"  # every row applied
    partial = "partial"  # the whole file was read; some rows failed
    failed = "failed"  # stopped early (download, parse or database error); see `problem`
    held = "held"  # the guard stopped it before anything was applied: approve or discard
    discarded = "discarded"


ACTIVE_RUN_STATUSES = (RunStatus.queued, RunStatus.running)


class InventoryFeedRun(IdMixin, Base):
    """One fetch of a pull feed: what was downloaded, read and applied, batch by batch."""

    __tablename__ = "inventory_feed_runs"
    __table_args__ = (
        # one run per feed at a time, kept by the database even between two workers
        Index(
            "uq_inventory_feed_runs_active",
            "inventory_feed_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        Index("ix_inventory_feed_runs_feed", "inventory_feed_id", "id"),
    )

    inventory_feed_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_feeds.id", ondelete="CASCADE")
    )
    status: Mapped[RunStatus] = mapped_column(String(16), default=RunStatus.queued, index=True)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")  # manual|schedule|cli
    approved: Mapped[bool] = mapped_column(default=False)  # the guard was overruled
    bytes: Mapped[int] = mapped_column(default=0)
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_created: Mapped[int] = mapped_column(default=0)
    rows_updated: Mapped[int] = mapped_column(default=0)
    rows_unchanged: Mapped[int] = mapped_column(default=0)
    rows_failed: Mapped[int] = mapped_column(default=0)
    rows_zero: Mapped[int] = mapped_column(default=0)  # rows whose quantity is 0 (the guard)
    rows_cleaned: Mapped[int] = mapped_column(default=0)  # items zeroed as missing from the file
    batches_applied: Mapped[int] = mapped_column(default=0)
    rows_applied_through: Mapped[int] = mapped_column(default=0)  # last row of the last batch
    encoding: Mapped[str | None] = mapped_column(String(32))
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    problem: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
