"""How a source's lines in one sale become purchase orders: a strategy per vendor setting.

`group`: one purchase order per source per sale (later lines join it while it is open).
`splitQuantity`: one purchase order per unit.
"""

from typing import Protocol

from dropwire.vendors.models import OrderSplitting


class SplittingStrategy(Protocol):
    def parcels(self, quantity: int) -> list[int]:
        """The quantities of the purchase-order items a routed line becomes."""

    def joins_open_purchase(self) -> bool:
        """Whether the line may join the source's open purchase order of the same sale."""


class GroupBySource:
    def parcels(self, quantity: int) -> list[int]:
        return [quantity]

    def joins_open_purchase(self) -> bool:
        return True


class SplitQuantity:
    def parcels(self, quantity: int) -> list[int]:
        return [1] * quantity

    def joins_open_purchase(self) -> bool:
        return False


def strategy_for(order_splitting: OrderSplitting | str | None) -> SplittingStrategy:
    if order_splitting == OrderSplitting.split_quantity:
        return SplitQuantity()
    return GroupBySource()
