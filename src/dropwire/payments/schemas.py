"""Request and response shapes of the money domain (camelCase on the wire)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, PlainSerializer, model_validator

from dropwire.core.schemas import ApiInput, CompanyRecord, Id, Name, requires_one_of
from dropwire.payments.models import (
    InvoiceState,
    InvoiceType,
    PaymentSource,
    PaymentState,
)
from dropwire.vendors.models import RateType
from dropwire.vendors.schemas import RateValue

Amount = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
"""An amount that may be negative (credits), a JSON number."""


class CommissionRuleFields(ApiInput):
    dropship_provider_id: Id | None = None
    channel_id: Id | None = None
    tag: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    commission_rate: RateValue | None = None
    commission_rate_type: RateType | None = None


class CommissionRuleCreate(CommissionRuleFields):
    model_config = ConfigDict(
        json_schema_extra=requires_one_of("dropshipProviderId", "channelId", "tag")
    )

    commission_rate: RateValue

    @model_validator(mode="after")
    def _names_something(self) -> "CommissionRuleCreate":
        if self.dropship_provider_id is None and self.channel_id is None and self.tag is None:
            raise ValueError("a rule names a tag, a channel or a dropshipProviderId")
        return self


class CommissionRuleUpdate(CommissionRuleFields):
    clearable = frozenset({"dropship_provider_id", "channel_id", "tag"})


class CommissionRuleRead(CompanyRecord):
    id: int
    dropship_provider_id: int | None
    channel_id: int | None
    tag: str | None
    commission_rate: Amount
    commission_rate_type: RateType
    created_at: datetime
    updated_at: datetime


class InvoiceLineRead(CompanyRecord):
    id: int
    purchase_item_id: int
    sale_item_id: int
    sku: str | None
    quantity: int
    price: Amount
    net: Amount
    commission: Amount
    payable: Amount
    commission_rate: Amount = Field(validation_alias="rate")
    commission_rate_type: RateType = Field(validation_alias="rate_type")
    commission_rate_base: str = Field(validation_alias="rate_base")
    commission_rate_source: str = Field(
        validation_alias="rate_source", description="variant, rule:{id} or vendor"
    )
    credited_line_id: int | None
    credit_reason: str | None


class InvoiceRead(CompanyRecord):
    id: int
    reference: str
    dropship_provider_id: int
    purchase_id: int
    sale_id: int
    type: InvoiceType
    status: InvoiceState
    currency: str
    net: Amount
    commission: Amount
    shipping: Amount
    payable: Amount
    lines: list[InvoiceLineRead]
    credited_invoice_id: int | None
    issued_at: datetime
    payable_at: datetime
    paid_at: datetime | None
    payment_id: int | None


class BalanceRead(CompanyRecord):
    currency: str
    pending: Amount = Field(description="Raised, still inside the vendor's paymentDelayDays")
    payable: Amount = Field(description="Owed now (negative: the vendor owes; carried forward)")
    paid: Amount


class PaymentMethodFields(ApiInput):
    name: Name | None = None
    source: PaymentSource | None = None


class PaymentMethodCreate(PaymentMethodFields):
    name: Name
    source: PaymentSource


class PaymentMethodUpdate(PaymentMethodFields):
    pass


class PaymentMethodRead(CompanyRecord):
    id: int
    name: str
    source: PaymentSource
    created_at: datetime
    updated_at: datetime


class SettleTransfer(ApiInput):
    to_pay: list[Id] = Field(min_length=1, max_length=10_000)
    additional_amount: Annotated[Decimal, Field(ge=-1_000_000_000, le=1_000_000_000)] = Decimal(0)
    name: Annotated[str, Field(max_length=255)] | None = None
    payment_method_id: Id | None = None


class SettleInvoices(ApiInput):
    invoice_ids: list[Id] = Field(min_length=1, max_length=10_000)
    reference: Annotated[str, Field(max_length=255)] | None = None


class PaymentRead(CompanyRecord):
    id: int
    dropship_provider_id: int
    status: PaymentState
    currency: str
    amount: Amount
    additional_amount: Amount
    invoice_ids: list[int]
    payment_method_id: int | None
    source: PaymentSource
    name: str | None
    external_id: str | None
    reference: str | None
    error: str | None
    payout_run: str | None
    created_at: datetime
    completed_at: datetime | None


class PayoutRunCreate(ApiInput):
    dropship_provider_ids: list[Id] | None = Field(
        default=None, max_length=100_000, description="Omit to pay every vendor"
    )


class PayoutRunRead(CompanyRecord):
    id: str
    payments: list[PaymentRead]
