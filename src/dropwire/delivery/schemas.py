from datetime import datetime
from typing import Any

from pydantic import Field

from dropwire.core.schemas import ApiModel
from dropwire.delivery.models import DeliveryState, EndpointOwner, EventKind


class AttemptRead(ApiModel):
    id: int
    attempted_at: datetime
    http_status: int | None
    latency_ms: float | None
    response_excerpt: str | None
    error: str | None


class DeliveryRead(ApiModel):
    id: int
    event: EventKind
    endpoint_id: int
    url: str
    channel_id: int | None
    dropship_provider_id: int | None
    subject_type: str
    subject_id: int
    body: dict[str, Any]
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    attempt_log: list[AttemptRead] = Field(serialization_alias="attemptLog")
    created_at: datetime
    updated_at: datetime


class EndpointRead(ApiModel):
    id: int
    owner_type: EndpointOwner = Field(description="channel | vendor: whose URL this is")
    owner_id: int
    url: str
    secret: str = Field(description="whsec_… key for the webhook-signature header")
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
