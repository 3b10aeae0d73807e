from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from dropwire.core.db import Base, IdMixin, TimestampMixin


class ImportType(StrEnum):
    cost_prices = "cost_prices"  # a feed's items' cost prices, by vendor SKU
    variants = "variants"  # catalog variants created or updated by SKU


class ImportStatus(StrEnum):
    pending = "pending"
    processing = "processing"
    complete = "complete"  # every row applied
    partial = "partial"  # some rows refused (see errors and the report)
    failed = "failed"  # no row applied


class DataImport(IdMixin, TimestampMixin, Base):
    """A CSV file applied in the background, row by row (Onport's data imports)."""

    __tablename__ = "data_imports"

    import_type: Mapped[ImportType] = mapped_column(String(32))
    status: Mapped[ImportStatus] = mapped_column(String(16), default=ImportStatus.pending)
    inventory_feed_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_feeds.id", ondelete="CASCADE"), index=True
    )
    dropship_provider_id: Mapped[int | None] = mapped_column(index=True)  # whose data it holds
    file_name: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str] = deferred(mapped_column(Text))
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_applied: Mapped[int] = mapped_column(default=0)
    rows_failed: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    report: Mapped[str | None] = deferred(mapped_column(Text))
    problem: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
