"""The money API: commission rules, vendor invoices, balances, payment methods and payments."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from dropwire.http.deps import AdminPrincipal, CurrentPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, paginate, respond
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.jobs.service import enqueue
from dropwire.payments import payouts, service, settling, tasks
from dropwire.payments.models import CommissionRule, Payment, PaymentMethod, VendorInvoice
from dropwire.payments.schemas import (
    BalanceRead,
    CommissionRuleCreate,
    CommissionRuleRead,
    CommissionRuleUpdate,
    InvoiceRead,
    PaymentMethodCreate,
    PaymentMethodRead,
    PaymentMethodUpdate,
    PaymentRead,
    PayoutRunCreate,
    PayoutRunRead,
    SettleInvoices,
    SettleTransfer,
)
from dropwire.sales.service import get_purchase
from dropwire.vendors import service as vendors

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Money"])
Listing = Annotated[ListQuery, Depends(list_query)]

RULE_FIELDS = fields_of(
    CommissionRule, "id", "dropship_provider_id", "channel_id", "tag", "commission_rate_type"
)
INVOICE_FIELDS = fields_of(
    VendorInvoice,
    "id",
    "reference",
    "dropship_provider_id",
    "purchase_id",
    "sale_id",
    "type",
    "status",
    "currency",
    "payable",
    "issued_at",
    "payable_at",
    "paid_at",
    "payment_id",
)
METHOD_FIELDS = fields_of(PaymentMethod, "id", "name", "source")
PAYMENT_FIELDS = fields_of(
    Payment,
    "id",
    "dropship_provider_id",
    "status",
    "currency",
    "amount",
    "payment_method_id",
    "source",
    "payout_run",
    "created_at",
    "completed_at",
)


@router.get("/commission-rules.json", response_model=list[CommissionRuleRead])
def list_commission_rules(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    rows = paginate(
        session,
        stmt=select(CommissionRule),
        query=query,
        fields=RULE_FIELDS,
        response=response,
        default_order=[CommissionRule.id],
    )
    return respond(session, query=query, response=response, items=rows, read=CommissionRuleRead)


@router.post("/commission-rules.json", response_model=CommissionRuleRead, status_code=201)
def create_commission_rule(
    data: CommissionRuleCreate, session: DbSession, _: AdminPrincipal
) -> CommissionRule:
    return service.create_rule(session, data=data)


@router.get("/commission-rules/{rule_id}.json", response_model=CommissionRuleRead)
def get_commission_rule(rule_id: PathId, session: DbSession, _: AdminPrincipal) -> CommissionRule:
    return service.get_rule(session, rule_id=rule_id)


@router.put("/commission-rules/{rule_id}.json", response_model=CommissionRuleRead)
def update_commission_rule(
    rule_id: PathId, data: CommissionRuleUpdate, session: DbSession, _: AdminPrincipal
) -> CommissionRule:
    return service.update_rule(session, rule=service.get_rule(session, rule_id=rule_id), data=data)


@router.delete("/commission-rules/{rule_id}.json", status_code=204)
def delete_commission_rule(rule_id: PathId, session: DbSession, _: AdminPrincipal) -> Response:
    service.delete_rule(session, rule=service.get_rule(session, rule_id=rule_id))
    return Response(status_code=204)


@router.get("/purchase-invoices.json", response_model=list[InvoiceRead])
def list_purchase_invoices(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    statement = service.invoices_visible(principal)
    rows = paginate(
        session,
        stmt=statement,
        query=query,
        fields=INVOICE_FIELDS,
        response=response,
        default_order=[VendorInvoice.id],
    )
    return respond(session, query=query, response=response, items=rows, read=InvoiceRead)


@router.get("/purchase-invoices.csv", response_class=PlainTextResponse)
def purchase_invoices_csv(session: DbSession, principal: CurrentPrincipal) -> Response:
    return _csv(service.invoices_csv(session, principal=principal), "purchase-invoices.csv")


@router.get("/payments.csv", response_class=PlainTextResponse)
def payments_as_csv(session: DbSession, principal: CurrentPrincipal) -> Response:
    return _csv(service.payments_csv(session, principal=principal), "payments.csv")


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/purchase-invoices/{invoice_id}.json", response_model=InvoiceRead)
def get_purchase_invoice(
    invoice_id: PathId, session: DbSession, principal: CurrentPrincipal
) -> VendorInvoice:
    return service.get_invoice(session, invoice_id=invoice_id, principal=principal)


@router.post(
    "/purchases/{purchase_id}/invoice.json", response_model=list[InvoiceRead], status_code=201
)
def invoice_purchase(purchase_id: PathId, session: DbSession, _: AdminPrincipal) -> Any:
    """Invoice the shipped units not invoiced yet (vendors whose paymentTrigger is manual)."""
    purchase = get_purchase(session, purchase_id=purchase_id)
    return service.invoice_on_request(session, purchase=purchase)


@router.get("/dropship-providers/{vendor_id}/balance.json", response_model=list[BalanceRead])
def get_balance(vendor_id: PathId, session: DbSession, principal: CurrentPrincipal) -> Any:
    vendor = vendors.get(session, vendor_id=vendor_id, principal=principal)
    return service.balances(session, vendor_id=vendor.id)


@router.get("/payment-methods.json", response_model=list[PaymentMethodRead])
def list_payment_methods(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    rows = paginate(
        session,
        stmt=select(PaymentMethod),
        query=query,
        fields=METHOD_FIELDS,
        response=response,
        default_order=[PaymentMethod.id],
    )
    return respond(session, query=query, response=response, items=rows, read=PaymentMethodRead)


@router.post("/payment-methods.json", response_model=PaymentMethodRead, status_code=201)
def create_payment_method(
    data: PaymentMethodCreate, session: DbSession, _: AdminPrincipal
) -> PaymentMethod:
    return service.create_method(session, data=data)


@router.get("/payment-methods/{method_id}.json", response_model=PaymentMethodRead)
def get_payment_method(method_id: PathId, session: DbSession, _: AdminPrincipal) -> PaymentMethod:
    return service.get_method(session, method_id=method_id)


@router.put("/payment-methods/{method_id}.json", response_model=PaymentMethodRead)
def update_payment_method(
    method_id: PathId, data: PaymentMethodUpdate, session: DbSession, _: AdminPrincipal
) -> PaymentMethod:
    return service.update_method(
        session, method=service.get_method(session, method_id=method_id), data=data
    )


@router.delete("/payment-methods/{method_id}.json", status_code=204)
def delete_payment_method(method_id: PathId, session: DbSession, _: AdminPrincipal) -> Response:
    service.delete_method(session, method=service.get_method(session, method_id=method_id))
    return Response(status_code=204)


@router.post(
    "/dropship-providers/{vendor_id}/settle-transfer.json",
    response_model=PaymentRead,
    status_code=201,
)
def settle_transfer(
    vendor_id: PathId, data: SettleTransfer, session: DbSession, _: AdminPrincipal
) -> Payment:
    """Pay invoices now: recorded complete for a source outside Dropwire, pending for Stripe
    until the worker's transfer poller has Stripe's answer (sent after this commit)."""
    vendor = vendors.get(session, vendor_id=vendor_id)
    return settling.claim(
        session,
        vendor=vendor,
        invoice_ids=data.to_pay,
        additional_amount=data.additional_amount,
        method=settling.method_for(session, method_id=data.payment_method_id, vendor=vendor),
        name=data.name,
    )


@router.post("/dropship-providers/{vendor_id}/settle-transfer-async.json", status_code=202)
def settle_transfer_async(
    vendor_id: PathId, data: SettleTransfer, session: DbSession, _: AdminPrincipal
) -> dict[str, int]:
    vendor = vendors.get(session, vendor_id=vendor_id)
    settling.method_for(session, method_id=data.payment_method_id, vendor=vendor)
    enqueue(
        session,
        kind=tasks.SETTLE_JOB,
        payload={
            "vendorId": vendor.id,
            "toPay": data.to_pay,
            "additionalAmount": str(data.additional_amount),
            "name": data.name,
            "paymentMethodId": data.payment_method_id,
        },
        ordering_key=f"payments:{vendor.id}",
    )
    return {"queued": 1}


@router.post(
    "/dropship-providers/{vendor_id}/settle-invoices.json",
    response_model=PaymentRead,
    status_code=201,
)
def settle_invoices(
    vendor_id: PathId, data: SettleInvoices, session: DbSession, _: AdminPrincipal
) -> Payment:
    """Mark invoices paid outside Dropwire (one complete manual payment)."""
    vendor = vendors.get(session, vendor_id=vendor_id)
    return settling.settle_invoices(
        session, vendor=vendor, invoice_ids=data.invoice_ids, reference=data.reference
    )


@router.post("/payout-runs.json", response_model=PayoutRunRead, status_code=201)
def create_payout_run(data: PayoutRunCreate, session: DbSession, _: AdminPrincipal) -> Any:
    """Pay every vendor (or those named) all that is payable now, one payment per currency."""
    run, payments = payouts.run_payouts(session, vendor_ids=data.dropship_provider_ids)
    return {"id": run, "payments": payments}


PAYOUT_RUN = "^[A-Za-z0-9_-]+$"
"""What a payout run is named by (a random hex id, or `schedule-{vendor}-{day}`): safe to put
in the download's file name."""


@router.get("/payout-runs/{run}.csv", response_class=PlainTextResponse)
def payout_run_csv(
    run: Annotated[str, Path(max_length=64, pattern=PAYOUT_RUN)],
    session: DbSession,
    _: AdminPrincipal,
) -> Response:
    return _csv(payouts.run_csv(session, run=run), f"payout-{run}.csv")


@router.get("/payments.json", response_model=list[PaymentRead])
def list_payments(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    statement = service.payments_visible(principal)
    rows = paginate(
        session,
        stmt=statement,
        query=query,
        fields=PAYMENT_FIELDS,
        response=response,
        default_order=[Payment.id],
    )
    return respond(session, query=query, response=response, items=rows, read=PaymentRead)


@router.get("/payments/{payment_id}.json", response_model=PaymentRead)
def get_payment(payment_id: PathId, session: DbSession, principal: CurrentPrincipal) -> Payment:
    return service.get_payment(session, payment_id=payment_id, principal=principal)
