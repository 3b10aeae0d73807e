"""Tables of the money domain. Amounts are exact decimals in one currency each; the vendor
ledger is append-only and the balances are its sums, kept per vendor and currency."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dropwire.core.db import Base, IdMixin, TimestampMixin
from dropwire.core.time import utcnow
from dropwire.vendors.models import CommissionMethod, RateType

Rate = Numeric(14, 4, asdecimal=True)


class InvoiceType(StrEnum):
    invoice = "invoice"
    credit = "credit"


class InvoiceState(StrEnum):
    open = "open"
    paid = "paid"
    void = "void"


class CreditReason(StrEnum):
    return_ = "return"
    cancellation = "cancellation"


class EntryKind(StrEnum):
    invoice = "invoice"
    credit = "credit"
    payment = "payment"
    payment_failed = "paymentFailed"
    adjustment = "adjustment"


class PaymentSource(StrEnum):
    stripe = "stripe"
    paypal = "paypal"
    transferwise = "transferwise"
    bacs = "bacs"
    check = "check"
    manual = "manual"


class PaymentState(StrEnum):
    pending = "pending"
    complete = "complete"
    error = "error"
    cancelled = "cancelled"


class CommissionRule(IdMixin, TimestampMixin, Base):
    """A rate for lines of a tag, a channel or both (optionally for one vendor only)."""

    __tablename__ = "commission_rules"

    dropship_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    tag: Mapped[str | None] = mapped_column(String(255))
    commission_rate: Mapped[Decimal] = mapped_column(Rate)
    commission_rate_type: Mapped[RateType] = mapped_column(String(16), default=RateType.percentage)


class PaymentMethod(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_methods"

    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[PaymentSource] = mapped_column(String(16))


class Payment(IdMixin, TimestampMixin, Base):
    """Money sent to (or recorded as paid to) a vendor for a set of its invoices and credits.

    Its id is the idempotency key of every call that moves the money."""

    __tablename__ = "payments"

    dropship_provider_id: Mapped[int] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="RESTRICT"), index=True
    )
    payment_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_methods.id", ondelete="SET NULL")
    )
    source: Mapped[PaymentSource] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[PaymentState] = mapped_column(String(16), default=PaymentState.pending)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]
    additional_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    invoice_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    external_id: Mapped[str | None] = mapped_column(String(255))  # the transfer's id
    reference: Mapped[str | None] = mapped_column(String(255))  # a bank reference
    error: Mapped[str | None] = mapped_column(Text)
    payout_run: Mapped[str | None] = mapped_column(String(64), index=True)
    completed_at: Mapped[datetime | None]
    # A pending Stripe payment's next transfer attempt (a lease while one is under way; None
    # once settled or for other sources) and how many were made (`payments.transfers`).
    transfer_due_at: Mapped[datetime | None] = mapped_column(index=True)
    transfer_attempts: Mapped[int] = mapped_column(default=0, server_default="0")


class VendorInvoice(IdMixin, TimestampMixin, Base):
    """What the merchant owes a vendor for some units of one purchase order (an invoice), or
    what it no longer owes (a credit, its amounts negative)."""

    __tablename__ = "vendor_invoices"
    __table_args__ = (
        Index("ix_vendor_invoices_open", "dropship_provider_id", "status", "currency"),
    )

    reference: Mapped[str] = mapped_column(String(120), unique=True)
    dropship_provider_id: Mapped[int] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="RESTRICT")
    )
    purchase_id: Mapped[int] = mapped_column(
        ForeignKey("purchases.id", ondelete="RESTRICT"), index=True
    )
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="RESTRICT"))
    type: Mapped[InvoiceType] = mapped_column(String(8))
    status: Mapped[InvoiceState] = mapped_column(String(8), default=InvoiceState.open)
    currency: Mapped[str] = mapped_column(String(3))
    net: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    commission: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    shipping: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    payable: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    payable_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), index=True
    )
    credited_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("vendor_invoices.id")
    )  # a credit of shipping: the invoice that charged it

    lines: Mapped[list["VendorInvoiceLine"]] = relationship(
        order_by="VendorInvoiceLine.id", lazy="selectin"
    )


class VendorInvoiceLine(IdMixin, Base):
    """Units of one purchase item at the rate that applied when they were invoiced (frozen)."""

    __tablename__ = "vendor_invoice_lines"

    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_invoices.id", ondelete="CASCADE"), index=True
    )
    purchase_item_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_items.id", ondelete="RESTRICT"), index=True
    )
    sale_item_id: Mapped[int] = mapped_column(ForeignKey("sale_items.id", ondelete="RESTRICT"))
    sku: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int]  # negative on a credit
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    net: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    commission: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    payable: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    rate: Mapped[Decimal] = mapped_column(Rate)
    rate_type: Mapped[RateType] = mapped_column(String(16))
    rate_base: Mapped[str] = mapped_column(String(24))
    rate_source: Mapped[str] = mapped_column(String(32))  # variant | rule:N | vendor
    commission_method: Mapped[CommissionMethod] = mapped_column(String(16))
    credited_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("vendor_invoice_lines.id"), index=True
    )
    credit_reason: Mapped[CreditReason | None] = mapped_column(String(16))


class LedgerEntry(IdMixin, Base):
    """One change of what the merchant owes a vendor in a currency: positive = owed more.
    Append-only; a vendor's balance is the sum of its entries."""

    __tablename__ = "vendor_ledger_entries"
    __table_args__ = (Index("ix_vendor_ledger_vendor", "dropship_provider_id", "currency"),)

    dropship_provider_id: Mapped[int] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="RESTRICT")
    )
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[EntryKind] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("vendor_invoices.id", ondelete="RESTRICT"), index=True
    )
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VendorBalance(Base):
    """The running sum of a vendor's ledger in one currency; also the row a payment locks."""

    __tablename__ = "vendor_balances"
    __table_args__ = (UniqueConstraint("dropship_provider_id", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dropship_provider_id: Mapped[int] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="RESTRICT")
    )
    currency: Mapped[str] = mapped_column(String(3))
    owed: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True), default=Decimal(0))
    paid: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True), default=Decimal(0))
