from datetime import datetime
from typing import Any

from dropwire.core.schemas import ApiModel
from dropwire.jobs.models import JobState


class JobRead(ApiModel):
    id: int
    kind: str
    payload: dict[str, Any]
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
