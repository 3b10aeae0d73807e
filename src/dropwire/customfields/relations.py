"""How a record's custom-field values are embedded (`include[n][model]=CustomFieldPurchase`).

Each domain that has custom fields names the relation in its list's relations with the vendor
scope of its own records; the values' `CustomField` (the definition) nests below any of them.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, true

from dropwire.customfields.models import VALUE_MODELS, CustomField, CustomFieldResource
from dropwire.customfields.schemas import (
    CustomFieldDropshipProviderRead,
    CustomFieldPurchaseRead,
    CustomFieldRead,
    CustomFieldSaleRead,
    CustomFieldVariantRead,
)
from dropwire.http.includes import Relation

VALUE_READS: dict[CustomFieldResource, Any] = {
    CustomFieldResource.sale: CustomFieldSaleRead,
    CustomFieldResource.purchase: CustomFieldPurchaseRead,
    CustomFieldResource.variant: CustomFieldVariantRead,
    CustomFieldResource.dropship_provider: CustomFieldDropshipProviderRead,
}
MODEL_NAMES: dict[CustomFieldResource, str] = {
    CustomFieldResource.sale: "CustomFieldSale",
    CustomFieldResource.purchase: "CustomFieldPurchase",
    CustomFieldResource.variant: "CustomFieldVariant",
    CustomFieldResource.dropship_provider: "CustomFieldDropshipProvider",
}

DEFINITION = Relation(
    "customField",
    CustomFieldRead,
    CustomField,
    local="custom_field_id",
    scope=lambda _vendor: true(),  # definitions are no vendor's secret
)
VALUE_RELATIONS: dict[str, Relation] = {"CustomField": DEFINITION}


def values_relation(
    resource: CustomFieldResource,
    scope: Callable[[int], ColumnElement[bool]] | None,
) -> dict[str, Relation]:
    """`{ModelName: relation}` of the record's values; `scope(vendor)` is the vendor's values
    (None: admins only, a vendor token's include of it is a 403)."""
    model, column = VALUE_MODELS[resource]
    name = MODEL_NAMES[resource]
    relation = Relation(
        name[0].lower() + name[1:] + "s",
        VALUE_READS[resource],
        model,
        remote=column,
        many=True,
        scope=scope,
        nested=lambda: VALUE_RELATIONS,
    )
    return {name: relation}
