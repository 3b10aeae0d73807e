"""What a vendor token may write, field by field: one table, one check.

Every endpoint a vendor token may write to names its resource here and calls
`check_vendor_fields` with the parsed body before doing anything. A vendor may write what it
reports about its own stock and how to reach it; never what steers routing (which vendor gets an
order, at what priority, to which countries), what connects its items to the merchant's catalog,
or what the merchant holds back. Anything not listed is a 403 naming the field. README's
"Security" section lists this table (a test keeps the two in step).
"""

from enum import StrEnum

from pydantic import BaseModel

from dropwire.auth.errors import VendorFieldForbidden
from dropwire.auth.service import Principal


class Resource(StrEnum):
    dropship_provider = "dropship provider"
    inventory_feed = "inventory feed"
    inventory_feed_variant = "inventory feed variant"


_FEED_VARIANT_REPORT = frozenset(
    {
        "externalId",
        "vendorSku",
        "inventoryQuantity",
        "name",
        "barcode",
        "costPrice",
        "price",
        "compareAtPrice",
        "externalGroupId",
        "options",
        "images",
        "tags",
        "inventoryPolicy",
        "locations",
    }
)

VENDOR_WRITABLE: dict[Resource, frozenset[str]] = {
    # its own profile: contact details and where its purchase orders go
    Resource.dropship_provider: frozenset(
        {"name", "email", "websiteUrl", "orderEndpoint", "webhookSecret"}
    ),
    # a feed's settings are the merchant's (source, matching, buffers): nothing
    Resource.inventory_feed: frozenset(),
    # what it reports about an item of its own feeds (PUT, POST, parse-webhook)
    Resource.inventory_feed_variant: _FEED_VARIANT_REPORT | {"inventoryFeedId"},
}


def check_vendor_fields(principal: Principal, resource: Resource, data: BaseModel) -> None:
    """Refuse (403) a vendor token's body that sets a field it may not write; admins pass."""
    if principal.is_admin:
        return
    allowed = VENDOR_WRITABLE[resource]
    for name, info in type(data).model_fields.items():
        if name not in data.model_fields_set:
            continue
        wire = info.alias or name
        if wire not in allowed:
            raise VendorFieldForbidden(
                f"A vendor token may not write the {resource}'s {wire}", field=wire
            )
