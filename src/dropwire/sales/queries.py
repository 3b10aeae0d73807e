"""Reads of sales, purchase orders and fulfillments, scoped to what the caller may see."""

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dropwire.auth.scope import one_visible, visible_to
from dropwire.auth.service import Principal
from dropwire.core.errors import NotFound
from dropwire.sales.models import Fulfillment, Purchase, Sale


def get_sale(session: Session, *, sale_id: int) -> Sale:
    sale = session.get(Sale, sale_id)
    if sale is None:
        raise NotFound("Sale", sale_id)
    return sale


def purchases_visible(principal: Principal | None) -> Select[Purchase]:
    return visible_to(select(Purchase), principal, Purchase.dropship_provider_id)


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
    return one_visible(session, statement, what="Purchase", record_id=purchase_id)


def get_fulfillment(
    session: Session, *, fulfillment_id: int, principal: Principal | None = None
) -> Fulfillment:
    """The answer names only the id asked for, never the purchase order behind it."""
    statement = fulfillments_visible(principal).where(Fulfillment.id == fulfillment_id)
    return one_visible(session, statement, what="Fulfillment", record_id=fulfillment_id)
