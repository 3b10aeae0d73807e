from datetime import datetime

from pydantic import Field, field_validator

from dropwire.core.schemas import ApiInput, ApiModel
from dropwire.mail.models import withhold_links


class AttachmentRead(ApiModel):
    filename: str
    kind: str


class EmailMessageRead(ApiModel):
    id: int
    to: list[str] = Field(validation_alias="to_addresses")
    subject: str
    event: str
    status: str = Field(description="queued|sent|failed|dead|recorded")
    attempts: int
    last_error: str | None
    purchase_id: int | None
    dropship_provider_id: int | None
    created_at: datetime
    sent_at: datetime | None


class EmailMessageDetail(EmailMessageRead):
    html: str
    text: str
    attachments: list[AttachmentRead]

    @field_validator("html", "text")
    @classmethod
    def _no_usable_links(cls, value: str) -> str:
        return withhold_links(value)


class EmailTemplateRead(ApiModel):
    event: str
    description: str
    subject: str
    html: str
    text: str
    custom: bool = Field(description="The merchant's own version (else the built-in one)")
    updated_at: datetime | None


class EmailTemplateWrite(ApiInput):
    subject: str | None = Field(default=None, max_length=998)
    html: str | None = None
    text: str | None = None


class RenderedEmail(ApiModel):
    subject: str
    html: str
    text: str
