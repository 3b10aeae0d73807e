from typing import Literal

from pydantic import Field

from dropwire.core.schemas import COMPANY_ID, ApiInput, ApiModel


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
