from datetime import datetime
from typing import Any

from pydantic import Field

from dropwire.apilog.models import Direction, LogStatus
from dropwire.core.schemas import ApiModel


class ApiLogRead(ApiModel):
    id: int
    direction: Direction
    method: str
    endpoint: str
    status: LogStatus
    http_status: int | None
    problem: str | None
    payload: Any | None
    api_user_id: int | None
    api_user_name: str | None
    channel_id: int | None
    inventory_feed_id: int | None
    external_id: str | None
    kind: str | None
    duration_ms: float | None
    created_at: datetime
    request_id: str | None = Field(
        default=None, description="The X-Request-Id (errorId) the client received"
    )
