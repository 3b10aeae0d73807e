"""Vendors that take their purchase orders by email get the money notices by email too: an
invoice or credit note raised, a payment made or failed; each with its own figures only."""

from dropwire.payments.transfers import send_due_transfers
from tests.delivery.conftest import drain
from tests.payments.conftest import fake_stripe, market  # noqa: F401  (shared fixtures)

# ruff: noqa: F811  (the fixtures above are arguments of the tests)


def _bodies(message) -> str:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text + html


def _shipped(market, vendor: str, **fields) -> dict:
    market.vendor(vendor, commissionRate=20, **fields)
    market.stock(vendor, f"SKU-{vendor}")
    sale = market.sell([(f"SKU-{vendor}", 2, 50.00)])
    market.ship(sale["purchases"][0]["id"])
    (invoice,) = market.invoices(purchaseId=sale["purchases"][0]["id"])
    return invoice


def _pay(client, vendor_id: int, invoice_ids: list[int], source: str) -> dict:
    method = client.post("/api/payment-methods.json", json={"name": source, "source": source})
    paid = client.post(
        f"/api/dropship-providers/{vendor_id}/settle-transfer.json",
        json={"toPay": invoice_ids, "paymentMethodId": method.json()["id"]},
    )
    assert paid.status_code == 201, paid.text
    return paid.json()


def test_an_email_vendor_gets_its_invoice_and_payment_by_email(
    market, client, smtp_server, mail_to, relay, database
):
    server = smtp_server()
    mail_to(server.url)
    acme = _shipped(market, "Acme", email="billing@acme.example")
    other = _shipped(market, "Other", email="billing@other.example")
    _shipped(market, "Hooked", orderEndpoint="https://hooked.example/orders")
    _pay(client, market.vendors["Acme"]["id"], [acme["id"]], "bacs")
    drain(relay, database)

    by_event: dict[str, list] = {}
    for message in server.inbox.messages:
        by_event.setdefault(message["X-Dropwire-Event"], []).append(message)
    invoices = {m["To"]: m for m in by_event["invoice.created"]}
    assert set(invoices) == {"Acme <billing@acme.example>", "Other <billing@other.example>"}
    to_acme = invoices["Acme <billing@acme.example>"]
    assert acme["reference"] in to_acme["Subject"]
    body = _bodies(to_acme)
    assert acme["reference"] in body and "80.00 USD" in body
    assert other["reference"] not in body
    (paid,) = by_event["payment.completed"]
    assert "80.00 USD" in paid["Subject"]
    assert acme["reference"] in _bodies(paid) and other["reference"] not in _bodies(paid)
    assert "https://hub.shop.example/vendor" in _bodies(paid)
    assert "payment.failed" not in by_event
    log = client.get("/api/email-messages.json").json()
    assert {m["event"] for m in log} == {"purchase.created", "invoice.created", "payment.completed"}
    assert all("hooked" not in ",".join(m["to"]) for m in log)


def test_a_failed_payment_is_told_without_the_providers_answer(
    fake_stripe, market, client, smtp_server, mail_to, relay, database
):
    server = smtp_server()
    mail_to(server.url)
    invoice = _shipped(market, "Acme", email="billing@acme.example", stripeId="acct_unknown")
    payment = _pay(client, market.vendors["Acme"]["id"], [invoice["id"]], "stripe")
    send_due_transfers(database)
    assert client.get(f"/api/payments/{payment['id']}.json").json()["status"] == "error"
    drain(relay, database)

    (failed,) = [m for m in server.inbox.messages if m["X-Dropwire-Event"] == "payment.failed"]
    body = _bodies(failed)
    assert "did not go through" in failed["Subject"]
    assert invoice["reference"] in body
    assert "No such destination" not in body and "acct_unknown" not in body
