"""Reads of sales, purchase orders and fulfillments, scoped to what the caller may see."""

from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session, undefer

from dropwire.auth.scope import one_visible, visible_to
from dropwire.auth.service import Principal
from dropwire.catalog.models import Variant
from dropwire.core.errors import NotFound
from dropwire.customfields.models import CustomFieldPurchase, CustomFieldVariant
from dropwire.sales.models import Fulfillment, Purchase, PurchaseItem, Sale, SaleItem


def get_sale(session: Session, *, sale_id: int) -> Sale:
    sale = session.get(Sale, sale_id)
    if sale is None:
        raise NotFound("Sale", sale_id)
    return sale


def purchases_visible(principal: Principal | None) -> Select[Purchase]:
    statement = select(Purchase).options(
        undefer(Purchase.sale_defaults), undefer(Purchase.sale_currency)
    )
    return visible_to(statement, principal, Purchase.dropship_provider_id)


# What a vendor token may see of each sales record when another record includes it: the rows of
# its own purchase orders, and of a sale only what those orders touch.


def _vendor_purchase_ids(vendor_id: int) -> Select[Any]:
    return select(Purchase.id).where(Purchase.dropship_provider_id == vendor_id)


def vendor_purchases(vendor_id: int) -> ColumnElement[bool]:
    return Purchase.dropship_provider_id == vendor_id


def vendor_purchase_items(vendor_id: int) -> ColumnElement[bool]:
    return PurchaseItem.purchase_id.in_(_vendor_purchase_ids(vendor_id))


def vendor_fulfillments(vendor_id: int) -> ColumnElement[bool]:
    return Fulfillment.purchase_id.in_(_vendor_purchase_ids(vendor_id))


def vendor_sales(vendor_id: int) -> ColumnElement[bool]:
    return Sale.id.in_(select(Purchase.sale_id).where(Purchase.dropship_provider_id == vendor_id))


def vendor_sale_items(vendor_id: int) -> ColumnElement[bool]:
    """The sale lines routed to the vendor (not the sale's other vendors' lines)."""
    routed = select(PurchaseItem.sale_item_id).where(
        PurchaseItem.purchase_id.in_(_vendor_purchase_ids(vendor_id))
    )
    return SaleItem.id.in_(routed)


def vendor_variants(vendor_id: int) -> ColumnElement[bool]:
    """The catalog variants of the lines routed to the vendor."""
    routed = select(PurchaseItem.variant_id).where(
        PurchaseItem.purchase_id.in_(_vendor_purchase_ids(vendor_id))
    )
    return Variant.id.in_(routed)


def fulfillments_visible(principal: Principal | None) -> Select[Fulfillment]:
    """A vendor sees the fulfillments of its own purchase orders."""
    statement = select(Fulfillment)
    if principal is not None and not principal.is_admin:
        statement = statement.join(Purchase, Purchase.id == Fulfillment.purchase_id)
    return visible_to(statement, principal, Purchase.dropship_provider_id)


def get_purchase(
    session: Session, *, purchase_id: int, principal: Principal | None = None
) -> Purchase:
    statement = purchases_visible(principal).where(Purchase.id == purchase_id)
    return one_visible(session, statement=statement, what="Purchase", record_id=purchase_id)


def get_fulfillment(
    session: Session, *, fulfillment_id: int, principal: Principal | None = None
) -> Fulfillment:
    """The answer names only the id asked for, never the purchase order behind it."""
    statement = fulfillments_visible(principal).where(Fulfillment.id == fulfillment_id)
    return one_visible(session, statement=statement, what="Fulfillment", record_id=fulfillment_id)


def vendor_purchase_custom_fields(vendor_id: int) -> ColumnElement[bool]:
    """The custom-field values of the vendor's own purchase orders."""
    return CustomFieldPurchase.purchase_id.in_(_vendor_purchase_ids(vendor_id))


def vendor_variant_custom_fields(vendor_id: int) -> ColumnElement[bool]:
    """The custom-field values of the variants routed to the vendor."""
    routed = select(PurchaseItem.variant_id).where(
        PurchaseItem.purchase_id.in_(_vendor_purchase_ids(vendor_id))
    )
    return CustomFieldVariant.variant_id.in_(routed)
