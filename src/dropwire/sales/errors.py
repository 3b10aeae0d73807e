"""The sales domain's refusals: sales, their lines, purchase orders, returns and statuses."""

from dropwire.core.errors import Conflict, Invalid


class SaleQuantityBelowShipped(Invalid):
    """A sale update asks for fewer units than were already shipped or cancelled."""

    code = "sale.quantity_below_shipped"

    def __init__(self, field: str, *, shipped: int, cancelled: int) -> None:
        super().__init__(
            field,
            f"{shipped} shipped and {cancelled} cancelled;"
            f" the quantity can't go below {shipped + cancelled}",
        )


class SaleReferenceTaken(Conflict):
    code = "sale.reference_taken"

    def __init__(self, reference: str, field: str = "saleDefaults.reference") -> None:
        super().__init__(f"sale reference '{reference}' is already used", field)


class SaleBeingCreated(Conflict):
    """Another request is creating the same sale right now; sending it again is safe."""

    code = "sale.being_created"

    def __init__(self) -> None:
        super().__init__(
            "this sale is being created by another request; send it again", "externalId"
        )


class ReturnLineNotOnSale(Invalid):
    code = "return.line_not_on_sale"


class ReturnLineRepeated(Invalid):
    code = "return.line_repeated"


class ReturnQuantityTooHigh(Invalid):
    """More units returned than were shipped and not yet returned, plus the open ones."""

    code = "return.quantity_too_high"


class PurchaseCancelled(Invalid):
    code = "purchase.cancelled"


class PurchasePartlyShipped(Invalid):
    code = "purchase.partly_shipped"


class VendorNotAccepted(Invalid):
    """A purchase order can only go to an accepted dropship provider."""

    code = "purchase.vendor_not_accepted"


class VendorLacksVariant(Invalid):
    """Re-routing to a vendor whose feeds do not stock the line's variant."""

    code = "purchase.vendor_lacks_variant"


class LineNotOpen(Invalid):
    """A request names a line that is not one of the purchase order's lines with units open."""

    code = "purchase.line_not_open"


class NoLinesNamed(Invalid):
    code = "purchase.no_lines_named"


class NothingLeft(Invalid):
    """Nothing is left to ship or cancel on the purchase order."""

    code = "purchase.nothing_left"


class LineQuantityTooHigh(Invalid):
    """More units to ship or cancel than the line has open."""

    code = "purchase.quantity_too_high"


class PurchaseStatusNameTaken(Conflict):
    code = "purchase_status.name_taken"
