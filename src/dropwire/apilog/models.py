from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dropwire.core.db import Base, IdMixin
from dropwire.core.time import utcnow


class Direction(StrEnum):
    inbound_sync = "inbound-sync"
    inbound_async = "inbound-async"


class LogStatus(StrEnum):
    success = "success"
    error = "error"
    skipped = "skipped"


class ApiLog(IdMixin, Base):
    """One sync API request or one async inbound item, with what became of it."""

    __tablename__ = "api_logs"
    __table_args__ = (
        Index("ix_api_logs_created_at", "created_at"),
        # "errors first": the errors are a page of their own, then the rest (two index scans)
        Index(
            "ix_api_logs_errors",
            "id",
            postgresql_where=text("status = 'error'"),
            sqlite_where=text("status = 'error'"),
        ),
        Index(
            "ix_api_logs_errors_created_at",
            "created_at",
            postgresql_where=text("status = 'error'"),
            sqlite_where=text("status = 'error'"),
        ),
    )

    direction: Mapped[Direction] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8))
    endpoint: Mapped[str] = mapped_column(String(512))
    status: Mapped[LogStatus] = mapped_column(String(8), index=True)
    http_status: Mapped[int | None]
    problem: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[Any | None] = mapped_column(JSON)
    api_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_users.id", ondelete="SET NULL"), index=True
    )
    api_user_name: Mapped[str | None] = mapped_column(String(255))
    channel_id: Mapped[int | None] = mapped_column(index=True)
    inventory_feed_id: Mapped[int | None] = mapped_column(index=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(64), index=True)
    duration_ms: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(32), index=True)
