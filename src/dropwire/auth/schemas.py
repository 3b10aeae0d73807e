from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from dropwire.core.schemas import COMPANY_ID, ApiInput, ApiModel, CompanyRecord, Id


class LoginRequest(ApiInput):
    """Onport's `POST /auth/login`: an API user (admin) or a dropship provider's user."""

    role: Literal["api", "dropship_provider"] = "api"
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(ApiModel):
    token: str = Field(description="A bearer token, shown once; revoke with `dropwire token`")
    id: int = Field(description="The API user the token belongs to")
    role: Literal["api", "dropship_provider"]
    dropship_provider_id: int | None
    email: str
    company_id: int = Field(default=COMPANY_ID, description="Always 1: one company per server")


Role = Literal["api", "admin", "dropship_provider"]
Text255 = Annotated[str, Field(max_length=255)]


class ApiUserCreate(ApiInput):
    """Onport's `POST /users.json` as its CLI sends it (`users:create`, `auth:token`)."""

    # 254: the longest address SMTP can carry (RFC 5321); it is also the user's stored name
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    role: Role = "api"
    first_name: Text255 | None = None
    last_name: Text255 | None = None
    dropship_provider_id: Id | None = Field(
        default=None, description="For role dropship_provider (a vendor token: always its own)"
    )


class ApiUserRead(CompanyRecord):
    """An API user: who holds a token, and what it may see (`role`)."""

    id: int
    name: str
    email: str | None
    first_name: str | None
    last_name: str | None
    role: Literal["api", "dropship_provider"]
    dropship_provider_id: int | None
    token_prefix: str = Field(description="The first characters of the token, to recognise it")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiUserCreated(ApiUserRead):
    token: str = Field(description="The bearer token, shown this once only")
