"""The catalog's refusals: variants and their SKUs, products and their handles."""

from dropwire.core.errors import Conflict, Invalid


class UnknownVariant(Invalid):
    """A line or item names a variant (by SKU or channel listing) the catalog does not have."""

    code = "catalog.unknown_variant"


class SkuTaken(Conflict):
    code = "catalog.sku_taken"

    def __init__(self, message: str) -> None:
        super().__init__(message, "sku")


class HandleTaken(Conflict):
    """Two products with one handle would share a store URL."""

    code = "catalog.handle_taken"

    def __init__(self, message: str) -> None:
        super().__init__(message, "handle")
