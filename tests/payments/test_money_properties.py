"""Any sequence of sales, partial shipments, cancellations, returns, rule changes and payments
keeps the vendor money ledger sound: units invoiced never exceed units shipped, each balance
equals the sum of its ledger, no invoice is paid twice, every credit points at what it credits."""

from collections import Counter
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dropwire.channels.models import Channel
from dropwire.core.errors import DomainError
from dropwire.payments import ledger, payouts
from dropwire.payments.models import (
    CommissionRule,
    InvoiceType,
    LedgerEntry,
    Payment,
    PaymentState,
    VendorBalance,
    VendorInvoice,
    VendorInvoiceLine,
)
from dropwire.sales import cancelling, manual, returns, shipping
from dropwire.sales.models import PurchaseItem, Sale, SaleItem
from dropwire.sales.schemas import CancelRequest, ManualSale, SaleReturnCreate, ShipRequest
from tests.conftest import empty_all_tables, make_token

TRIGGERS = ("afterShipping", "beforeShipping", "manual")


def _setup(client) -> int:
    channel = client.post("/api/channels.json", json={"name": "S"}).json()
    client.post("/api/variants.json", json={"sku": "HOT", "name": "Hot", "tags": ["hot"]})
    for number, trigger in enumerate(TRIGGERS):
        vendor = client.post(
            "/api/dropship-providers.json",
            json={
                "name": f"V{number}",
                "priority": number,
                "commissionRate": 15,
                "paymentTrigger": trigger,
                "applyReturnPenalty": "enabled" if number == 1 else "disabled",
            },
        ).json()
        feed = client.post(
            "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]}
        ).json()
        client.put(
            f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
            json={"externalId": "hot", "vendorSku": "HOT", "inventoryQuantity": 3},
        )
    return channel["id"]


def _sale(external_id: str, quantity: int) -> ManualSale:
    return ManualSale.model_validate(
        {
            "externalId": external_id,
            "lineItems": [
                {"externalId": "l1", "quantity": quantity, "price": 9.99, "variant": {"sku": "HOT"}}
            ],
            "shipping": [{"price": 4.5}],
        }
    )


operations = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.integers(0, 3), st.integers(1, 5)),
        st.tuples(st.just("ship"), st.integers(0, 3), st.integers(1, 3)),
        st.tuples(st.just("cancel"), st.integers(0, 3), st.integers(1, 3)),
        st.tuples(st.just("return"), st.integers(0, 3), st.integers(1, 3)),
        st.tuples(st.just("rule"), st.integers(0, 3), st.integers(0, 60)),
        st.tuples(st.just("pay"), st.integers(0, 3), st.integers(0, 1)),
    ),
    min_size=1,
    max_size=14,
)


def _apply(session, channel_id: int, kind: str, index: int, amount: int) -> None:
    channel = session.get(Channel, channel_id)
    sale = session.scalar(select(Sale).where(Sale.external_id == f"s{index}"))
    if kind == "post":
        manual.upsert_manual_sale(session, channel=channel, data=_sale(f"s{index}", amount))
    elif kind == "rule":
        session.add(
            CommissionRule(
                tag="hot" if index % 2 else None,
                channel_id=channel_id if index > 1 else None,
                commission_rate=Decimal(amount),
            )
        )
        if index == 0:
            session.add(CommissionRule(channel_id=channel_id, commission_rate=Decimal(amount)))
    elif kind == "pay":
        payouts.run_payouts(session)
    elif sale is not None and kind == "ship":
        for purchase in sale.purchases:
            for item in purchase.items:
                if item.quantity_open:
                    shipping.ship(
                        session,
                        purchase=purchase,
                        request=ShipRequest.model_validate(
                            {"purchaseItems": [{"id": item.id, "quantity": amount}]}
                        ),
                    )
                    return
    elif sale is not None and kind == "cancel":
        cancelling.cancel(
            session,
            sale=sale,
            request=CancelRequest.model_validate(
                {"saleItems": [{"id": sale.items[0].id, "quantity": amount}]}
            ),
        )
    elif sale is not None and kind == "return":
        returns.create_return(
            session,
            sale=sale,
            data=SaleReturnCreate.model_validate(
                {"items": [{"saleItemId": sale.items[0].id, "quantity": amount}]}
            ),
        )


def _check(session) -> None:
    for item in session.scalars(select(PurchaseItem)):
        invoiced = session.scalar(
            select(func.coalesce(func.sum(VendorInvoiceLine.quantity), 0)).where(
                VendorInvoiceLine.purchase_item_id == item.id
            )
        )
        assert invoiced == item.quantity_invoiced
        assert 0 <= invoiced <= item.quantity - item.quantity_cancelled
        sale_item = session.get(SaleItem, item.sale_item_id)
        assert sale_item is not None
    for line in session.scalars(
        select(VendorInvoiceLine).where(VendorInvoiceLine.credited_line_id.is_not(None))
    ):
        credited = session.get(VendorInvoiceLine, line.credited_line_id)
        assert credited is not None and credited.credited_line_id is None
        assert credited.purchase_item_id == line.purchase_item_id
        assert line.quantity < 0
    for invoice in session.scalars(select(VendorInvoice)):
        if invoice.type == InvoiceType.credit and not invoice.lines:
            assert invoice.credited_invoice_id is not None
    owed = {
        (vendor, currency): total
        for vendor, currency, total in session.execute(
            select(
                LedgerEntry.dropship_provider_id,
                LedgerEntry.currency,
                func.sum(LedgerEntry.amount),
            ).group_by(LedgerEntry.dropship_provider_id, LedgerEntry.currency)
        )
    }
    for balance in session.scalars(select(VendorBalance)):
        key = (balance.dropship_provider_id, balance.currency)
        assert balance.owed == Decimal(owed.get(key, 0))
    paid_invoices: Counter[int] = Counter()
    for payment in session.scalars(select(Payment)):
        if payment.status in (PaymentState.complete, PaymentState.pending):
            paid_invoices.update(payment.invoice_ids)
    assert all(count == 1 for count in paid_invoices.values())
    assert ledger.rebuild(session) == 0


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=operations)
def test_the_money_ledger_stays_sound(client, database, ops):
    empty_all_tables(database)
    client.headers["Authorization"] = f"Bearer {make_token(database)}"
    channel_id = _setup(client)
    for kind, index, amount in ops:
        try:
            with database.transaction() as session:
                _apply(session, channel_id, kind, index, amount)
        except DomainError:
            pass  # refused: changed nothing
        with database.transaction() as session:
            _check(session)
