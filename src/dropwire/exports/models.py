from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
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
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_templates.id", ondelete="SET NULL"), index=True
    )
    filters: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a template export's body
    dropship_provider_id: Mapped[int | None] = mapped_column(index=True)  # whose data it holds
    content_type: Mapped[str] = mapped_column(String(64), default="text/csv")
    content: Mapped[str | None] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(default=0)
    problem: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class TemplateResource(StrEnum):
    sale = "sale"
    sale_item = "sale_item"
    purchase = "purchase"
    purchase_item = "purchase_item"


class TemplateFormat(StrEnum):
    csv = "csv"
    json = "json"


class ApiTemplate(IdMixin, TimestampMixin, Base):
    """Onport's API template: which columns of a resource an export writes, and how."""

    __tablename__ = "api_templates"

    name: Mapped[str] = mapped_column(String(255))
    resource: Mapped[TemplateResource] = mapped_column(String(32))
    format: Mapped[TemplateFormat] = mapped_column(String(8), default=TemplateFormat.csv)
    columns: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
