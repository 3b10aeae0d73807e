from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dropwire.core.db import Base, IdMixin, TimestampMixin
from dropwire.core.time import utcnow


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"  # a non-retryable outcome recorded by the handler's owner
    dead = "dead"  # retries exhausted: visible, re-runnable


UNFINISHED = (JobState.queued, JobState.running)


class Job(IdMixin, TimestampMixin, Base):
    """Durable background work, claimed by workers in (priority, run_at, id) order."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "state", "priority", "run_at", "id"),
        Index("ix_jobs_ordering", "ordering_key", "id"),
        Index(  # "is an earlier job of this key unfinished?": a claim asks it of every
            # queued row, so it must not walk the key's finished history
            "ix_jobs_unfinished_ordering",
            "ordering_key",
            "id",
            sqlite_where=text("state IN ('queued', 'running')"),
            postgresql_where=text("state IN ('queued', 'running')"),
        ),
        Index(  # "is a job of this key running?": any running one holds the key (see claiming)
            "ix_jobs_running_ordering",
            "ordering_key",
            sqlite_where=text("state = 'running'"),
            postgresql_where=text("state = 'running'"),
        ),
        Index(
            "uq_jobs_dedupe_unfinished",
            "dedupe_key",
            unique=True,
            sqlite_where=text("state IN ('queued', 'running')"),
            postgresql_where=text("state IN ('queued', 'running')"),
        ),
    )

    kind: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    priority: Mapped[int] = mapped_column(default=100)
    state: Mapped[JobState] = mapped_column(String(16), default=JobState.queued)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_expires_at: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    ordering_key: Mapped[str | None] = mapped_column(String(255))
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
