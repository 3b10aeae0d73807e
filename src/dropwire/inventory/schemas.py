from datetime import datetime
from typing import Annotated

from pydantic import Field

from dropwire.core.schemas import ApiInput, ApiModel, ExternalId, Name

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class WarehouseCreate(ApiInput):
    name: Name
    external_id: ExternalId | None = None
    is_default: bool = False
    country: CountryCode | None = None


class WarehouseUpdate(ApiInput):
    name: Name | None = None
    external_id: ExternalId | None = None
    is_default: bool | None = None
    country: CountryCode | None = None


class WarehouseRead(ApiModel):
    id: int
    name: str
    external_id: str | None
    is_default: bool
    country: str | None
    created_at: datetime
    updated_at: datetime
