"""Paying vendors over the API: recorded payments, Stripe transfers against the strict fake,
failures, idempotent retries, payout runs and their CSV, carried-forward credits."""

from datetime import timedelta
from decimal import Decimal

import httpx

from dropwire.core.time import utcnow
from dropwire.payments import ledger, transfers
from dropwire.payments.models import Payment
from dropwire.payments.transfers import send_due_transfers


def _shipped_invoice(market, vendor: str = "Acme", quantity: int = 2, **settings) -> dict:
    if vendor not in market.vendors:
        market.vendor(vendor, commissionRate=20, **settings)
        market.stock(vendor, f"SKU-{vendor}")
    sale = market.sell([(f"SKU-{vendor}", quantity, 50.00)])
    purchase = sale["purchases"][0]
    market.ship(purchase["id"])
    (invoice,) = market.invoices(purchaseId=purchase["id"])
    return invoice


def _method(client, source: str) -> int:
    response = client.post("/api/payment-methods.json", json={"name": source, "source": source})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _settle(client, vendor_id: int, invoice_ids: list[int], **extra) -> httpx.Response:
    return client.post(
        f"/api/dropship-providers/{vendor_id}/settle-transfer.json",
        json={"toPay": invoice_ids, **extra},
    )


def test_a_payment_by_bank_transfer_is_recorded_complete(market, client):
    invoice = _shipped_invoice(market)
    vendor_id = market.vendors["Acme"]["id"]
    response = _settle(client, vendor_id, [invoice["id"]], paymentMethodId=_method(client, "bacs"))
    assert response.status_code == 201, response.text
    payment = response.json()
    assert (payment["status"], payment["amount"], payment["currency"]) == ("complete", 80.0, "USD")
    assert payment["invoiceIds"] == [invoice["id"]]
    paid = client.get(f"/api/purchase-invoices/{invoice['id']}.json").json()
    assert (paid["status"], paid["paymentId"]) == ("paid", payment["id"])
    assert market.balance("Acme")[0] | {"companyId": 1} == {
        "companyId": 1,
        "currency": "USD",
        "pending": 0.0,
        "payable": 0.0,
        "paid": 80.0,
    }
    purchase = client.get(f"/api/purchases/{invoice['purchaseId']}.json").json()
    assert purchase["paymentStatus"] == "paid"


def test_an_invoice_is_never_paid_twice(market, client):
    invoice = _shipped_invoice(market)
    vendor_id = market.vendors["Acme"]["id"]
    assert _settle(client, vendor_id, [invoice["id"]]).status_code == 201
    again = _settle(client, vendor_id, [invoice["id"]])
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "toPay"
    assert str(invoice["id"]) in again.json()["message"]


def test_another_vendors_invoice_is_refused_by_name(market, client):
    invoice = _shipped_invoice(market, "Acme")
    other = market.vendor("Other")
    response = _settle(client, other["id"], [invoice["id"]])
    assert response.status_code == 422
    assert f"invoice {invoice['id']} is not this vendor's" in response.json()["message"]


def test_settle_invoices_marks_them_paid_outside(market, client):
    invoice = _shipped_invoice(market)
    vendor_id = market.vendors["Acme"]["id"]
    response = client.post(
        f"/api/dropship-providers/{vendor_id}/settle-invoices.json",
        json={"invoiceIds": [invoice["id"]], "reference": "BANK-7"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["source"], response.json()["reference"]) == ("manual", "BANK-7")
    assert client.get(f"/api/purchase-invoices/{invoice['id']}.json").json()["status"] == "paid"


def test_stripe_transfers_to_the_connected_account_once(fake_stripe, market, client, database):
    fake_stripe.accounts.add("acct_acme")
    invoice = _shipped_invoice(market, stripeId="acct_acme")
    vendor_id = market.vendors["Acme"]["id"]
    response = _settle(
        client, vendor_id, [invoice["id"]], paymentMethodId=_method(client, "stripe")
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    assert send_due_transfers(database) == 1
    assert send_due_transfers(database) == 0  # sent once, recorded: nothing left due
    payment = client.get(f"/api/payments/{response.json()['id']}.json").json()
    assert payment["status"] == "complete"
    assert payment["externalId"].startswith("tr_")
    assert fake_stripe.made == {f"dropwire-payment-{payment['id']}": 1}
    assert fake_stripe.balance["usd"] == 10_000_000 - 8000


def test_a_retry_after_the_stripe_call_pays_once(fake_stripe, market, client, database):
    """The answer is lost after Stripe made the transfer (as when a worker dies before it
    records it): once the lease runs out the transfer is sent again with the same
    Idempotency-Key, and the payment records the same transfer."""
    fake_stripe.accounts.add("acct_acme")
    invoice = _shipped_invoice(market, stripeId="acct_acme")
    vendor_id = market.vendors["Acme"]["id"]
    payment_id = _settle(
        client, vendor_id, [invoice["id"]], paymentMethodId=_method(client, "stripe")
    ).json()["id"]
    (due,) = transfers.claim_due(database)
    first = transfers.send(database.settings, [due])  # ... and the worker dies here
    assert fake_stripe.made[f"dropwire-payment-{payment_id}"] == 1
    assert transfers.claim_due(database) == []  # leased: nobody sends it meanwhile
    with database.transaction() as session:
        session.get(Payment, payment_id).transfer_due_at = utcnow() - timedelta(seconds=1)
    assert send_due_transfers(database) == 1
    payment = client.get(f"/api/payments/{payment_id}.json").json()
    assert payment["status"] == "complete"
    assert payment["externalId"] == first[payment_id]
    assert fake_stripe.made == {f"dropwire-payment-{payment_id}": 1}
    assert fake_stripe.balance["usd"] == 10_000_000 - 8000


def test_a_refused_transfer_is_recorded_and_the_invoice_reopens(
    fake_stripe, market, client, database
):
    invoice = _shipped_invoice(market, stripeId="acct_unknown")
    vendor_id = market.vendors["Acme"]["id"]
    payment_id = _settle(
        client, vendor_id, [invoice["id"]], paymentMethodId=_method(client, "stripe")
    ).json()["id"]
    send_due_transfers(database)
    payment = client.get(f"/api/payments/{payment_id}.json").json()
    assert payment["status"] == "error"
    assert "No such destination" in payment["error"]
    reopened = client.get(f"/api/purchase-invoices/{invoice['id']}.json").json()
    assert (reopened["status"], reopened["paymentId"]) == ("open", None)
    assert market.balance("Acme")[0]["payable"] == 80.0
    with database.transaction() as session:
        assert ledger.sums(session, vendor_id=vendor_id) == {"USD": Decimal("80.00")}
        assert session.get(Payment, payment_id) is not None


def test_the_fake_refuses_what_stripes_description_does_not_define(fake_stripe, settings):
    response = httpx.post(
        f"{settings.stripe_api_base}/v1/transfers",
        data={"amount": "100", "currency": "usd", "destination": "acct_x", "surprise": "1"},
        headers={"Authorization": f"Bearer {fake_stripe.api_key}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "surprise"


def test_a_credit_after_payment_carries_forward_and_nets_the_next(market, client):
    first = _shipped_invoice(market)
    vendor_id = market.vendors["Acme"]["id"]
    assert _settle(client, vendor_id, [first["id"]]).status_code == 201
    sale = client.get(f"/api/sales/{first['saleId']}.json").json()
    market.give_back(sale["id"], sale["saleItems"][0]["id"], 2)
    assert market.balance("Acme")[0]["payable"] == -80.0
    run = client.post("/api/payout-runs.json", json={}).json()
    assert run["payments"] == []
    _shipped_invoice(market, quantity=3)  # 150.00, payable 120.00
    run = client.post("/api/payout-runs.json", json={}).json()
    (payment,) = run["payments"]
    assert payment["amount"] == 40.0
    assert market.balance("Acme")[0]["payable"] == 0.0


def test_a_payout_run_pays_each_vendor_and_downloads_as_csv(market, client):
    _shipped_invoice(market, "Acme")
    _shipped_invoice(market, "Bolt", quantity=1)
    run = client.post("/api/payout-runs.json", json={}).json()
    assert sorted(p["amount"] for p in run["payments"]) == [40.0, 80.0]
    csv = client.get(f"/api/payout-runs/{run['id']}.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "vendor,vendorExternalId,reference,amount,currency,status"
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["Acme", "Bolt"]
    assert csv.headers["content-disposition"] == f'attachment; filename="payout-{run["id"]}.csv"'
    # a name no run can have is refused by its shape (it once reached the header: a 500)
    refused = client.get("/api/payout-runs/%C2%8E%2C%06I%F3%A0%A3%97.csv")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "run"
