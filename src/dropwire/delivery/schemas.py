from datetime import datetime
from typing import Any

from pydantic import Field, field_serializer

from dropwire.apilog.redaction import loggable, redact_text
from dropwire.core.schemas import ApiModel
from dropwire.delivery.models import DeliveryState, EndpointOwner


class AttemptRead(ApiModel):
    id: int
    attempted_at: datetime
    http_status: int | None
    latency_ms: float | None
    response_excerpt: str | None
    error: str | None


class DeliveryRead(ApiModel):
    id: int
    event: str = Field(
        description="inventory, publishing, fulfillment, purchase.* or a transport's"
    )
    transport: str = Field(description="webhook (signed POST) or a registered transport")
    endpoint_id: int
    url: str
    channel_id: int | None
    dropship_provider_id: int | None
    subject_type: str
    subject_id: int
    body: Any = Field(description="Redacted; cut to DROPWIRE_API_LOG_BODY_BYTES")
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    attempt_log: list[AttemptRead] = Field(serialization_alias="attemptLog")
    created_at: datetime
    updated_at: datetime

    def shown(self, limit: int) -> "DeliveryRead":
        """As the listing shows it: secrets masked (URL userinfo, keys, tokens in receivers'
        answers), the body within the log size limit."""
        attempts = [
            attempt.model_copy(
                update={
                    "response_excerpt": _masked(attempt.response_excerpt),
                    "error": _masked(attempt.error),
                }
            )
            for attempt in self.attempt_log
        ]
        return self.model_copy(
            update={
                "url": redact_text(self.url),
                "body": loggable(self.body, limit),
                "last_error": _masked(self.last_error),
                "attempt_log": attempts,
            }
        )


def _masked(text: str | None) -> str | None:
    return redact_text(text) if text else text


class EndpointRead(ApiModel):
    id: int
    owner_type: EndpointOwner = Field(description="channel | vendor: whose URL this is")
    owner_id: int
    url: str = Field(description="Any credentials in the URL are masked")
    secret: str = Field(description="whsec_… key for the webhook-signature header")
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime

    @field_serializer("url")
    def _mask_url(self, value: str) -> str:
        return redact_text(value)
