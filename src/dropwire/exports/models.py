from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dropwire.core.db import Base, IdMixin, TimestampMixin


class ExportStatus(StrEnum):
    pending = "pending"
    processing = "processing"
    complete = "complete"
    failed = "failed"


class DataExport(IdMixin, TimestampMixin, Base):
    """A file made in the background (Onport's data exports): queued, then downloadable."""

    __tablename__ = "data_exports"

    export_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[ExportStatus] = mapped_column(String(16), default=ExportStatus.pending)
    inventory_feed_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_feeds.id", ondelete="CASCADE"), index=True
    )
    dropship_provider_id: Mapped[int | None] = mapped_column(index=True)  # whose data it holds
    content_type: Mapped[str] = mapped_column(String(64), default="text/csv")
    content: Mapped[str | None] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(default=0)
    problem: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
