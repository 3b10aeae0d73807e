"""The dashboard's search box: what a merchant types (a sale or purchase-order reference, a SKU or
barcode, a customer's email, a vendor's name) found by the start of the value, each kind from
an index read in its own order, at most `PER_KIND` of each.

The indexes: sale and purchase-order references (unique; on PostgreSQL a `text_pattern_ops` twin
answers `LIKE 'x%'` under any collation), variants' `sku_key` and `barcode`, feed items'
`vendor_sku_key`, and two expression indexes of migration 0031 — a sale's customer email and a
vendor's name, lower-cased. A prefix on an expression is read as a range on SQLite (its LIKE/GLOB
optimisation needs a plain column) and as `LIKE 'x%'` on PostgreSQL.
"""

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, literal_column, or_, select
from sqlalchemy.orm import Session

from dropwire.catalog.models import Variant
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
from dropwire.http.deps import DbSession
from dropwire.sales.models import Purchase, Sale
from dropwire.vendors.models import DropshipProvider
from dropwire.web.pages import AdminVisitor, WebRoute, render
from dropwire.web.queries import IN_HOUSE, starts_with

PER_KIND = 20
LONGEST = 100
router = APIRouter(route_class=WebRoute)


def customer_email(dialect: str) -> ColumnElement[str]:
    """A sale's customer email, lower-cased: written exactly as its index is."""
    if dialect == "postgresql":
        return literal_column("lower(sales.customer ->> 'email')")
    return literal_column("lower(json_extract(sales.customer, '$.email'))")


def vendor_name_key() -> ColumnElement[str]:
    return literal_column("lower(dropship_providers.name)")


def expression_starts_with(dialect: str, expression: ColumnElement[str], text: str) -> Any:
    """`expression` begins with `text` (lower-cased already), read from an expression index."""
    if dialect == "postgresql":
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return expression.like(escaped + "%", escape="\\")
    # binary order of UTF-8 is code-point order: the strings starting with `text` are exactly
    # those from `text` up to (not including) `text` with its last character moved one up
    following = text[:-1] + chr(min(ord(text[-1]) + 1, 0x10FFFF))
    return (expression >= text) & (expression < following)


@dataclass(frozen=True)
class Results:
    query: str
    sales: list[Any]
    purchases: list[Any]
    variants: list[Any]
    feed_items: list[Any]
    vendors: list[Any]

    @property
    def count(self) -> int:
        return sum(
            len(group)
            for group in (self.sales, self.purchases, self.variants, self.feed_items, self.vendors)
        )


def find(session: Session, *, text: str) -> Results:
    text = text.strip()[:LONGEST]
    key = text.lower()
    dialect = session.get_bind().dialect.name
    email = customer_email(dialect)

    def first(stmt: Any) -> list[Any]:
        return list(session.execute(stmt.limit(PER_KIND)).all())

    sale_columns = (
        Sale.id,
        Sale.reference,
        Sale.customer,
        Sale.inventory_status,
        Sale.cancellation_status,
        Sale.created_at,
    )
    by_reference = first(
        select(*sale_columns)
        .where(starts_with(dialect, Sale.reference, text))
        .order_by(Sale.reference)
    )
    by_email = first(
        select(*sale_columns)
        .where(expression_starts_with(dialect, email, key))
        .order_by(email, Sale.id.desc())
    )
    seen = {row.id for row in by_reference}
    sales = by_reference + [row for row in by_email if row.id not in seen]
    purchases = first(
        select(
            Purchase.id,
            Purchase.external_reference,
            Purchase.inventory_status,
            Purchase.created_at,
            DropshipProvider.name.label("vendor"),
        )
        .outerjoin(DropshipProvider, DropshipProvider.id == Purchase.dropship_provider_id)
        .where(starts_with(dialect, Purchase.external_reference, text))
        .order_by(Purchase.external_reference)
    )
    variants = first(
        select(Variant.id, Variant.sku, Variant.name, Variant.barcode)
        .where(or_(starts_with(dialect, Variant.sku_key, key), Variant.barcode == text))
        .order_by(Variant.sku_key)
    )
    feed_items = first(
        select(
            InventoryFeedVariant.id,
            InventoryFeedVariant.vendor_sku,
            InventoryFeedVariant.name,
            InventoryFeedVariant.inventory_quantity,
            InventoryFeedVariant.inventory_feed_id,
            InventoryFeed.name.label("feed"),
        )
        .join(InventoryFeed, InventoryFeed.id == InventoryFeedVariant.inventory_feed_id)
        .where(starts_with(dialect, InventoryFeedVariant.vendor_sku_key, key))
        .order_by(InventoryFeedVariant.vendor_sku_key)
    )
    name_key = vendor_name_key()
    vendors = first(
        select(DropshipProvider.id, DropshipProvider.name, DropshipProvider.email)
        .where(expression_starts_with(dialect, name_key, key))
        .order_by(name_key)
    )
    return Results(text, sales, purchases, variants, feed_items, vendors)


@router.get("/search")
def search(request: Request, session: DbSession, _: AdminVisitor) -> HTMLResponse:
    text = (request.query_params.get("for") or "").strip()
    results = find(session, text=text) if text else None
    return render(
        request,
        "search.html",
        results=results,
        search_q=text,
        per_kind=PER_KIND,
        in_house=IN_HOUSE,
    )
