from datetime import datetime

from pydantic import Field

from dropwire.core.schemas import ApiInput, ApiModel


class InvitationRequest(ApiInput):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")
    name: str = Field(default="", max_length=255)


class InvitationRead(ApiModel):
    user_id: int
    email: str
    dropship_provider_id: int
    expires_at: datetime
    email_message_id: int
    link: str | None = Field(
        default=None,
        description="The one-time link, only when no SMTP server is configured to email it",
    )


class ForgotPasswordRequest(ApiInput):
    email: str = Field(max_length=320)


class Accepted(ApiModel):
    detail: str
