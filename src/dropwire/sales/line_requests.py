"""Which lines, and how many units, a cancel or ship request names."""

from collections.abc import Sequence
from typing import TypeVar

from dropwire.sales.errors import LineNotOpen, LineQuantityTooHigh, NoLinesNamed, NothingLeft
from dropwire.sales.models import (
    PurchaseItem,
    SaleItem,
)
from dropwire.sales.schemas import (
    LineQuantity,
)

Line = TypeVar("Line", SaleItem, PurchaseItem)


def lines_requested(
    lines: Sequence[Line],
    requested: Sequence[LineQuantity] | None,
    field: str,
    doing: str,
    ids: Sequence[int] | None = None,
) -> list[tuple[Line, int]]:
    """(line, quantity) pairs for a cancel or ship request; none given = everything still open.

    `ids` (Onport's form) names lines by id, each with all its open units.
    """
    if ids:
        open_units = {line.id: line.quantity_open for line in lines}
        requested = []
        for index, line_id in enumerate(ids):
            if not open_units.get(line_id):
                raise LineNotOpen(
                    f"ids[{index}]", f"{line_id} is not one of these lines with units open"
                )
            requested.append(LineQuantity(id=line_id, quantity=open_units[line_id]))
    if requested is not None and not requested:
        raise NoLinesNamed(field, f"name at least one line, or leave {field} out to {doing} all")
    if requested is None:
        wanted = [(line, line.quantity_open) for line in lines if line.quantity_open > 0]
        if not wanted:
            raise NothingLeft(field, f"nothing left to {doing}")
        return wanted
    by_id = {line.id: line for line in lines}
    wanted = []
    for index, entry in enumerate(requested):
        line = by_id.get(entry.id)
        if line is None:
            raise LineNotOpen(f"{field}[{index}].id", f"{entry.id} is not one of these lines")
        if entry.quantity > line.quantity_open:
            raise LineQuantityTooHigh(
                f"{field}[{index}].quantity",
                f"only {line.quantity_open} left to {doing} ({line.quantity_shipped} shipped, "
                f"{line.quantity_cancelled} cancelled); {entry.quantity} given",
            )
        wanted.append((line, entry.quantity))
    return wanted
