from datetime import datetime
from typing import Any

from pydantic import Field

from dropwire.apilog.redaction import loggable, redact_text
from dropwire.core.schemas import ApiModel
from dropwire.jobs.models import JobState


class JobRead(ApiModel):
    id: int
    kind: str
    payload: Any = Field(description="Redacted; cut to DROPWIRE_API_LOG_BODY_BYTES")
    priority: int
    state: JobState
    attempts: int
    max_attempts: int
    run_at: datetime
    lease_expires_at: datetime | None
    locked_by: str | None
    ordering_key: str | None
    dedupe_key: str | None
    last_error: str | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def shown(self, limit: int) -> "JobRead":
        """As the listing shows it: secrets masked, the payload within the log size limit."""
        return self.model_copy(
            update={
                "payload": loggable(self.payload, limit),
                "last_error": redact_text(self.last_error) if self.last_error else None,
            }
        )
