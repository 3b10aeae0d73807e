"""How the pages show values to people: status words instead of enum values, one date format in
the configured time zone, money with its currency.

Templates use these as filters (`{{ sale.inventory_status|label }}`, `{{ moment|when }}`), so no
page formats a value its own way.
"""

import re
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context

WORDS = {
    # where splitting the enum value would read oddly
    "none": "None",
    "notReceived": "Not shipped",
    "partiallyReceived": "Partly shipped",
    "received": "Shipped",
    "notFulfilled": "Not fulfilled",
    "partiallyFulfilled": "Partly fulfilled",
    "fulfilled": "Fulfilled",
    "partial": "Partial",
    "full": "Cancelled",
    "notPaid": "Not paid",
    "partiallyPaid": "Partly paid",
    "notReturned": "Not returned",
    "partiallyReturned": "Partly returned",
    "splitQuantity": "Split by quantity",
    "csv": "CSV",
    "xml": "XML",
    "json": "JSON",
    "webhook": "Pushed (API)",
    # form fields, by their API names
    "dropshipProviderId": "Vendor",
    "externalId": "External id",
    "resourceType": "File type",
    "resourceLocation": "Address (URL)",
    "fetchFrequency": "Fetch",
    "fetchIntervalMinutes": "Every … minutes (with a custom schedule)",
    "csvHasHeader": "The CSV has a header row",
    "caseInsensitiveSkus": "Case-insensitive SKUs",
    "automaticallyConnect": "Connect items to variants by SKU",
    "automaticallyConnectByBarcode": "Connect items to variants by barcode",
    "diffPrevious": "Apply only what changed since the last file",
    "fetchCleanup": "Zero items missing from the file",
    "orderEndpoint": "Order endpoint (URL)",
    "websiteUrl": "Website (URL)",
    "elasticPath": "Elastic Path",
    "warehouseId": "Warehouse",
    "baseUrl": "API address (URL)",
    "clientId": "Client id",
    "shippingSkus": "Shipping SKUs",
    "inventoryEndpoint": "Inventory endpoint (URL)",
    "publishingEndpoint": "Publishing endpoint (URL)",
    "fulfillmentEndpoint": "Fulfillment endpoint (URL)",
    "priceEndpoint": "Price endpoint (URL)",
    "productId": "Product",
}
DATE_FORMAT = "%d %b %Y, %H:%M"


def label(value: object) -> str:
    """A status or enum value in words: `partiallyReceived` → "Partly shipped"."""
    if value is None:
        return "—"
    text = value.value if isinstance(value, Enum) else str(value)
    if text in WORDS:
        return WORDS[text]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|_", " ", text).lower().strip()
    return words[:1].upper() + words[1:]


def time_zone_of(context: Context) -> ZoneInfo:
    return viewer_zone(context.get("request"))


def viewer_zone(request: object) -> ZoneInfo:
    """The time zone pages show moments in, and read the dates people type in."""
    settings = getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)
    return ZoneInfo(getattr(settings, "time_zone", "UTC"))


def as_moment(value: datetime | str | None) -> datetime | None:
    """A stored moment, also when a read model carries it as ISO-8601 text."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


@pass_context
def when(context: Context, moment: datetime | None) -> str:
    """The one date format of the pages, in the configured time zone (its abbreviation shown)."""
    if moment is None:
        return "—"
    local = moment.astimezone(time_zone_of(context))
    return f"{local.strftime(DATE_FORMAT)} {local.tzname()}"


def money(amount: Decimal | float | int | None, currency: str | None = None) -> str:
    if amount is None:
        return "—"
    figure = f"{Decimal(amount):,.2f}"
    return f"{figure} {currency}" if currency else figure


def up_to(value: int, limit: int) -> str:
    """A count taken up to `limit` (and one past it, to know there are more): "1,000+"."""
    return f"{limit:,}+" if value > limit else f"{value:,}"


FILTERS: dict[str, Any] = {
    "label": label,
    "when": when,
    "as_moment": as_moment,
    "money": money,
    "up_to": up_to,
}
