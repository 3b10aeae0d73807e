from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, object_session, relationship
from sqlalchemy.orm.util import identity_key

from dropwire.core.db import Base, IdMixin, TimestampMixin


class SaleInventoryStatus(StrEnum):
    not_fulfilled = "notFulfilled"
    partially_fulfilled = "partiallyFulfilled"
    fulfilled = "fulfilled"


class PaymentStatus(StrEnum):
    not_paid = "notPaid"
    partially_paid = "partiallyPaid"
    paid = "paid"


class InvoiceStatus(StrEnum):
    not_invoiced = "notInvoiced"
    partially_invoiced = "partiallyInvoiced"
    invoiced = "invoiced"


class CancellationStatus(StrEnum):
    none = "none"
    partial = "partial"
    full = "full"


class CancelReason(StrEnum):
    customer = "customer"
    fraud = "fraud"
    inventory = "inventory"
    declined = "declined"
    other = "other"


class CloneReason(StrEnum):
    exchange = "exchange"
    new_sale = "new_sale"


class ReturnStatus(StrEnum):
    not_returned = "notReturned"
    partially_returned = "partiallyReturned"
    returned = "returned"


class PurchaseStatusLevel(StrEnum):
    default = "default"
    warning = "warning"
    danger = "danger"


class PurchaseInventoryStatus(StrEnum):
    not_received = "notReceived"
    partially_received = "partiallyReceived"
    received = "received"


class Counter(Base):
    """Named sequences (sale references) advanced by a guarded UPDATE: safe under concurrency."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int]


class Sale(IdMixin, TimestampMixin, Base):
    """A customer's order from a channel; upserted by (channel, externalId)."""

    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_sales_date_ordered", "date_ordered", "id"),  # dateOrdered windows and order
        Index("ix_sales_created_at", "created_at", "id"),  # today's figures, newest first
    )

    # no index of its own: the unique (channel_id, external_id) index serves lookups by channel
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="RESTRICT"))
    external_id: Mapped[str] = mapped_column(String(255))
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    date_ordered: Mapped[datetime | None]
    customer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sale_defaults: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    receiver_country: Mapped[str | None] = mapped_column(String(2))
    shipping: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    dropship_problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    inventory_status: Mapped[SaleInventoryStatus] = mapped_column(
        String(24), default=SaleInventoryStatus.not_fulfilled, index=True
    )
    payment_status: Mapped[PaymentStatus] = mapped_column(
        String(16), default=PaymentStatus.not_paid
    )
    cancellation_status: Mapped[CancellationStatus] = mapped_column(
        String(8), default=CancellationStatus.none, index=True
    )
    cancel_reason: Mapped[CancelReason | None] = mapped_column(String(16))
    cancelled_at: Mapped[datetime | None]
    return_status: Mapped[ReturnStatus] = mapped_column(
        String(24), default=ReturnStatus.not_returned
    )
    last_purchase_number: Mapped[int] = mapped_column(default=0)
    last_return_number: Mapped[int] = mapped_column(default=0)
    source: Mapped[str | None] = mapped_column(String(32))  # Onport's sale source (custom, ...)
    clone_reason: Mapped[CloneReason | None] = mapped_column(String(16))
    # a plain id, no foreign key: adding one would rebuild the sales table on SQLite
    cloned_from_sale_id: Mapped[int | None] = mapped_column(index=True)

    items: Mapped[list["SaleItem"]] = relationship(
        back_populates="sale", order_by="SaleItem.id", lazy="selectin"
    )
    purchases: Mapped[list["Purchase"]] = relationship(
        back_populates="sale", order_by="Purchase.id", lazy="selectin"
    )
    fulfillments: Mapped[list["Fulfillment"]] = relationship(
        order_by="Fulfillment.id", lazy="selectin"
    )


class FormerReference(Base):
    """A reference a sale gave up. Its purchase orders, fulfillments and returns keep the name
    (10001-01), so it stays that sale's: another sale taking it would number its own the same."""

    __tablename__ = "sale_former_references"

    reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)


class SaleItem(IdMixin, TimestampMixin, Base):
    """A line of a sale: ordered = shipped + cancelled + open, always."""

    __tablename__ = "sale_items"
    __table_args__ = (
        UniqueConstraint("sale_id", "external_id"),
        CheckConstraint(
            "quantity_shipped + quantity_cancelled <= quantity", name="ck_sale_items_consumed"
        ),
    )

    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("variants.id", ondelete="SET NULL"), index=True
    )
    sku: Mapped[str | None] = mapped_column(String(255))
    external_variant_id: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int]
    price: Mapped[Decimal | None]
    discount: Mapped[Decimal] = mapped_column(default=Decimal(0))  # of the whole line
    taxable: Mapped[bool] = mapped_column(default=True)
    properties: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    quantity_shipped: Mapped[int] = mapped_column(default=0)
    quantity_cancelled: Mapped[int] = mapped_column(default=0)
    quantity_returned: Mapped[int] = mapped_column(default=0)  # of the shipped units
    problem: Mapped[str | None] = mapped_column(Text)

    sale: Mapped[Sale] = relationship(back_populates="items")

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_shipped - self.quantity_cancelled


class PurchaseStatus(IdMixin, TimestampMixin, Base):
    """A merchant-defined status a vendor sets on its purchase orders (e.g. Acknowledged)."""

    __tablename__ = "purchase_statuses"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    level: Mapped[PurchaseStatusLevel] = mapped_column(
        String(16), default=PurchaseStatusLevel.default
    )
    position: Mapped[int] = mapped_column(default=0)


class Purchase(IdMixin, TimestampMixin, Base):
    """A purchase order: the lines one source (a vendor, or an in-house warehouse) fulfils."""

    __tablename__ = "purchases"
    __table_args__ = (
        # purchase orders still waiting for their vendor: the few among years of received ones
        Index(
            "ix_purchases_waiting",
            "dropship_provider_id",
            "id",
            postgresql_where=text(
                "inventory_status <> 'received' AND cancellation_status <> 'full'"
            ),
            sqlite_where=text("inventory_status <> 'received' AND cancellation_status <> 'full'"),
        ),
        Index("ix_purchases_created_at", "created_at", "id"),  # the dashboard's date ranges
    )

    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)
    dropship_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="RESTRICT"), index=True
    )
    warehouse_id: Mapped[int | None] = mapped_column(
        ForeignKey("warehouses.id", ondelete="RESTRICT")
    )
    external_reference: Mapped[str] = mapped_column(String(80), unique=True)
    inventory_status: Mapped[PurchaseInventoryStatus] = mapped_column(
        String(24), default=PurchaseInventoryStatus.not_received, index=True
    )
    cancellation_status: Mapped[CancellationStatus] = mapped_column(
        String(8), default=CancellationStatus.none
    )
    cancelled_at: Mapped[datetime | None]
    purchase_status_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_statuses.id", ondelete="SET NULL"), index=True
    )
    order_splitting: Mapped[str] = mapped_column(String(16), default="group")
    order_splitting_key: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)  # set with its status (vendor or merchant)
    last_fulfillment_number: Mapped[int] = mapped_column(default=0)
    # unsent|sent|failed: how the last message to its vendor (email or webhook) ended
    send_status: Mapped[str] = mapped_column(String(8), default="unsent", server_default="unsent")
    sent_at: Mapped[datetime | None]
    # Kept by payments/ as it invoices and pays the vendor.
    invoice_status: Mapped[InvoiceStatus] = mapped_column(
        String(24), default=InvoiceStatus.not_invoiced
    )
    vendor_payment_status: Mapped[PaymentStatus] = mapped_column(
        String(16), default=PaymentStatus.not_paid
    )

    sale: Mapped[Sale] = relationship(back_populates="purchases")
    # the sale's addresses, read with the purchase order in the same SELECT (Onport's purchase
    # records carry billing*/receiver* fields; Dropwire stores them once, on the sale)
    # (deferred: lists and gets undefer it, `addresses` prefers the loaded sale)
    sale_defaults: Mapped[dict[str, Any]] = column_property(
        select(Sale.sale_defaults)
        .where(Sale.id == sale_id)
        .correlate_except(Sale)
        .scalar_subquery(),
        deferred=True,
    )
    # the sale's currency, read the same way (its invoices are in it)
    sale_currency: Mapped[str] = column_property(
        select(Sale.currency).where(Sale.id == sale_id).correlate_except(Sale).scalar_subquery(),
        deferred=True,
    )
    items: Mapped[list["PurchaseItem"]] = relationship(
        back_populates="purchase", order_by="PurchaseItem.id", lazy="selectin"
    )

    @property
    def is_dropship(self) -> bool:
        return self.dropship_provider_id is not None

    def _sale_at_hand(self) -> "Sale | None":
        """The sale, when it is loaded: on this order, or in the session (a list of sales
        loads their purchase orders without setting each one's `sale`)."""
        if "sale" in self.__dict__:  # loaded (`inspect().unloaded` builds a set of every column)
            return self.sale
        session = object_session(self)
        if session is None or self.sale_id is None:
            return None
        found = session.identity_map.get(identity_key(Sale, self.sale_id))
        return found if isinstance(found, Sale) else None

    @property
    def currency(self) -> str:
        """The sale's currency, without a query when the sale is already loaded."""
        sale = self._sale_at_hand()
        return sale.currency if sale is not None else self.sale_currency

    @property
    def addresses(self) -> dict[str, Any]:
        """The sale's address fields, without a query when the sale is already loaded."""
        sale = self._sale_at_hand()
        if sale is not None:
            return sale.sale_defaults
        return self.sale_defaults or {}


class PurchaseItem(IdMixin, TimestampMixin, Base):
    __tablename__ = "purchase_items"
    __table_args__ = (
        CheckConstraint(
            "quantity_shipped + quantity_cancelled <= quantity", name="ck_purchase_items_consumed"
        ),
    )

    purchase_id: Mapped[int] = mapped_column(
        ForeignKey("purchases.id", ondelete="CASCADE"), index=True
    )
    sale_item_id: Mapped[int] = mapped_column(
        ForeignKey("sale_items.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id", ondelete="SET NULL"))
    allocation_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_allocations.id", ondelete="RESTRICT")
    )
    name: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int]
    quantity_shipped: Mapped[int] = mapped_column(default=0)
    quantity_cancelled: Mapped[int] = mapped_column(default=0)
    cost_price: Mapped[Decimal | None]
    # Kept by payments/: units on open or paid invoices, net of credits.
    quantity_invoiced: Mapped[int] = mapped_column(default=0)
    invoice_status: Mapped[InvoiceStatus] = mapped_column(
        String(24), default=InvoiceStatus.not_invoiced
    )
    vendor_payment_status: Mapped[PaymentStatus] = mapped_column(
        String(16), default=PaymentStatus.not_paid
    )

    purchase: Mapped[Purchase] = relationship(back_populates="items")

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_shipped - self.quantity_cancelled


class Fulfillment(IdMixin, TimestampMixin, Base):
    """A shipment of some of a purchase order's items."""

    __tablename__ = "fulfillments"

    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)
    purchase_id: Mapped[int] = mapped_column(
        ForeignKey("purchases.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(96), unique=True)
    tracking_number: Mapped[str | None] = mapped_column(String(255))
    tracking_company: Mapped[str | None] = mapped_column(String(255))
    tracking_url: Mapped[str | None] = mapped_column(String(2048))
    service_level: Mapped[str | None] = mapped_column(String(255))
    shipped_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    items: Mapped[list["FulfillmentItem"]] = relationship(
        order_by="FulfillmentItem.id", lazy="selectin"
    )


class FulfillmentItem(IdMixin, Base):
    __tablename__ = "fulfillment_items"

    fulfillment_id: Mapped[int] = mapped_column(
        ForeignKey("fulfillments.id", ondelete="CASCADE"), index=True
    )
    purchase_item_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_items.id", ondelete="CASCADE")
    )
    sale_item_id: Mapped[int] = mapped_column(ForeignKey("sale_items.id", ondelete="CASCADE"))
    quantity: Mapped[int]


class SaleReturn(IdMixin, TimestampMixin, Base):
    """Units of a sale coming back (restocked or not), or unshipped units cancelled with it."""

    __tablename__ = "sale_returns"

    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(96), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    restock: Mapped[bool] = mapped_column(default=False)
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_locations.id", ondelete="SET NULL")
    )
    refund_amount: Mapped[Decimal | None]

    items: Mapped[list["SaleReturnItem"]] = relationship(
        order_by="SaleReturnItem.id", lazy="selectin"
    )


class SaleReturnItem(IdMixin, Base):
    __tablename__ = "sale_return_items"

    sale_return_id: Mapped[int] = mapped_column(
        ForeignKey("sale_returns.id", ondelete="CASCADE"), index=True
    )
    sale_item_id: Mapped[int] = mapped_column(
        ForeignKey("sale_items.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id", ondelete="SET NULL"))
    quantity: Mapped[int]  # shipped units coming back plus unshipped units cancelled
    quantity_returned: Mapped[int] = mapped_column(default=0)
    quantity_cancelled: Mapped[int] = mapped_column(default=0)
    quantity_restocked: Mapped[int] = mapped_column(default=0)
