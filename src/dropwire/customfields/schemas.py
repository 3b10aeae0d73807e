from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, model_validator

from dropwire.core.schemas import ApiInput, CompanyRecord
from dropwire.customfields.models import CustomFieldResource, CustomFieldType

Key = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]
Label = Annotated[str, Field(min_length=1, max_length=255)]
Option = Annotated[str, Field(min_length=1, max_length=255)]


class CustomFieldFields(ApiInput):
    label: Label | None = None
    help_text: Annotated[str, Field(max_length=2000)] | None = None
    options: list[Option] | None = Field(default=None, max_length=200)
    vendor_editable: bool | None = Field(
        default=None, description="Whether a vendor token may sync it on its own records"
    )


class CustomFieldCreate(CustomFieldFields):
    key: Key
    label: Label
    type: CustomFieldType = CustomFieldType.text
    resource: CustomFieldResource

    @model_validator(mode="after")
    def _options(self) -> "CustomFieldCreate":
        if self.type == CustomFieldType.select and not self.options:
            raise ValueError("a select field needs options")
        return self


class CustomFieldUpdate(CustomFieldFields):
    clearable = frozenset({"help_text"})


class CustomFieldRead(CompanyRecord):
    id: int
    key: str
    label: str
    type: CustomFieldType
    resource: CustomFieldResource
    help_text: str | None
    options: list[str]
    vendor_editable: bool
    created_at: datetime
    updated_at: datetime


class CustomFieldEntry(ApiInput):
    key: Annotated[str, Field(min_length=1, max_length=100)]
    value: Any = Field(description="Of the field's type; null removes the value")


class SyncCustomFields(ApiInput):
    """`PUT /{resource}/{id}/sync-custom-fields.json`: upsert values by their field's key."""

    custom_fields: list[CustomFieldEntry] = Field(max_length=200)


class _ValueRead(CompanyRecord):
    id: int
    custom_field_id: int
    value: str
    created_at: datetime
    updated_at: datetime


class CustomFieldSaleRead(_ValueRead):
    sale_id: int


class CustomFieldPurchaseRead(_ValueRead):
    purchase_id: int


class CustomFieldVariantRead(_ValueRead):
    variant_id: int


class CustomFieldDropshipProviderRead(_ValueRead):
    dropship_provider_id: int
