"""The inventory domain's refusals: stock levels, allocations and warehouses."""

from dropwire.core.errors import Conflict, Invalid


class InsufficientStock(Invalid):
    """An allocation asked for more than a location has available; nothing was allocated."""

    code = "inventory.insufficient_stock"

    def __init__(self, variant_id: int, location_id: int, requested: int, field: str) -> None:
        super().__init__(
            field,
            f"Not enough stock of variant {variant_id} at location {location_id} "
            f"to allocate {requested}",
        )
        self.variant_id = variant_id
        self.location_id = location_id


class NegativeStock(Invalid):
    """Stocked would go below zero."""

    code = "inventory.negative_stock"


class StockBelowAllocated(Invalid):
    """Stocked would go below the units allocated to sales; release or cancel those first."""

    code = "inventory.stock_below_allocated"


class NotEnoughToShip(Invalid):
    """Fewer units stocked than a shipment takes (a backorder must be received first)."""

    code = "inventory.not_enough_to_ship"


class NegativeBuffer(Invalid):
    code = "inventory.negative_buffer"


class AllocationExceeded(Invalid):
    """More units released or shipped than the allocation still holds open."""

    code = "inventory.allocation_exceeded"


class DefaultWarehouseRequired(Invalid):
    """The default warehouse stays the default until another one is made the default."""

    code = "warehouse.default_required"


class WarehouseExternalIdTaken(Conflict):
    code = "warehouse.external_id_taken"

    def __init__(self, message: str) -> None:
        super().__init__(message, "externalId")
