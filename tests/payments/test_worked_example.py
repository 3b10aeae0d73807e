"""The contract's worked example, end to end over HTTP: a vendor at 20 % percentage; a line of
2 x 50.00 shipped -> net 100.00, commission 20.00, payable 80.00; one unit returned -> a credit of
net -50.00, commission -10.00, payable -40.00; the vendor's balance is 40.00."""

import pytest


@pytest.fixture
def shipped(market):
    market.vendor("Acme", commissionRate=20, commissionRateType="percentage")
    market.stock("Acme", "MUG")
    sale = market.sell([("MUG", 2, 50.00)])
    purchase = sale["purchases"][0]
    market.ship(purchase["id"])
    return sale, purchase


def test_shipping_raises_the_invoice_of_the_contract(market, shipped):
    _sale, purchase = shipped
    (invoice,) = market.invoices()
    assert invoice["type"] == "invoice"
    assert invoice["status"] == "open"
    assert invoice["currency"] == "USD"
    assert invoice["purchaseId"] == purchase["id"]
    assert (invoice["net"], invoice["commission"], invoice["payable"]) == (100.0, 20.0, 80.0)
    (line,) = invoice["lines"]
    assert (line["quantity"], line["price"], line["net"], line["commission"], line["payable"]) == (
        2,
        50.0,
        100.0,
        20.0,
        80.0,
    )
    assert line["commissionRateSource"] == "vendor"


def test_the_purchase_shows_its_units_invoiced(market, shipped):
    _sale, purchase = shipped
    stored = market.client.get(f"/api/purchases/{purchase['id']}.json").json()
    assert stored["invoiceStatus"] == "invoiced"
    assert stored["paymentStatus"] == "notPaid"
    assert stored["currency"] == "USD"
    assert stored["purchaseItems"][0]["quantityInvoiced"] == 2


def test_a_return_raises_the_credit_of_the_contract(market, shipped):
    sale, _purchase = shipped
    market.give_back(sale["id"], sale["saleItems"][0]["id"], 1)
    invoice, credit = market.invoices()
    assert credit["type"] == "credit"
    assert (credit["net"], credit["commission"], credit["payable"]) == (-50.0, -10.0, -40.0)
    (line,) = credit["lines"]
    assert line["creditedLineId"] == invoice["lines"][0]["id"]
    assert line["quantity"] == -1


def test_the_balance_after_the_return_is_forty(market, shipped):
    sale, _purchase = shipped
    market.give_back(sale["id"], sale["saleItems"][0]["id"], 1)
    assert market.balance("Acme") == [
        {"companyId": 1, "currency": "USD", "pending": 0.0, "payable": 40.0, "paid": 0.0}
    ]
