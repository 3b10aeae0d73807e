"""When invoices and credits are raised, and what their lines carry."""


def _invoices_of(market, purchase_id: int) -> list[dict]:
    return market.invoices(purchaseId=purchase_id)


def test_nothing_is_invoiced_before_shipping_by_default(market):
    market.vendor("Acme", commissionRate=20)
    market.stock("Acme", "MUG")
    sale = market.sell([("MUG", 2, 50.00)])
    assert market.invoices() == []
    assert sale["purchases"][0]["invoiceStatus"] == "notInvoiced"


def test_a_new_order_is_read_for_invoicing_only_when_its_vendor_invoices_it_now(
    market, monkeypatch
):
    """New orders of vendors invoiced later are left out of the commit's invoicing (nothing
    stands invoiced for them yet); a `beforeShipping` vendor's are invoiced at once."""
    from dropwire.payments import steps

    asked: list[set[int]] = []
    invoice = steps.invoice_purchases

    def recording(session, *, purchase_ids, **options):
        asked.append(set(purchase_ids))
        return invoice(session, purchase_ids=purchase_ids, **options)

    monkeypatch.setattr(steps, "invoice_purchases", recording)
    market.vendor("Later", commissionRate=20)
    market.vendor("Now", commissionRate=10, paymentTrigger="beforeShipping", priority=500)
    market.stock("Later", "MUG")
    market.stock("Now", "CUP")
    asked.clear()
    sale = market.sell([("MUG", 1, 10.00), ("CUP", 2, 30.00)])
    by_vendor = {p["dropshipProviderId"]: p for p in sale["purchases"]}
    later = by_vendor[market.vendors["Later"]["id"]]
    now = by_vendor[market.vendors["Now"]["id"]]
    assert asked == [{now["id"]}]
    assert _invoices_of(market, later["id"]) == []
    (invoiced,) = _invoices_of(market, now["id"])
    assert invoiced["net"] == 60.0
    market.ship(later["id"])  # shipped later, the order is read and invoiced as ever
    assert later["id"] in asked[-1]
    assert _invoices_of(market, later["id"])[0]["payable"] == 8.0


def test_a_partial_shipment_invoices_only_its_units(market, client):
    market.vendor("Acme", commissionRate=20)
    market.stock("Acme", "MUG")
    sale = market.sell([("MUG", 3, 10.00)])
    purchase = sale["purchases"][0]
    market.ship(purchase["id"], [(purchase["purchaseItems"][0]["id"], 1)])
    (invoice,) = _invoices_of(market, purchase["id"])
    assert (invoice["lines"][0]["quantity"], invoice["payable"]) == (1, 8.0)
    stored = client.get(f"/api/purchases/{purchase['id']}.json").json()
    assert stored["invoiceStatus"] == "partiallyInvoiced"


def test_before_shipping_invoices_the_order_and_credits_a_cancellation(market, client):
    market.vendor("Acme", commissionRate=10, paymentTrigger="beforeShipping")
    market.stock("Acme", "MUG")
    sale = market.sell([("MUG", 2, 30.00)])
    purchase = sale["purchases"][0]
    (invoice,) = _invoices_of(market, purchase["id"])
    assert (invoice["net"], invoice["commission"], invoice["payable"]) == (60.0, 6.0, 54.0)
    response = client.post(
        f"/api/sales/{sale['id']}/cancel.json",
        json={"saleItems": [{"id": sale["saleItems"][0]["id"], "quantity": 1}]},
    )
    assert response.status_code == 200, response.text
    _, credit = _invoices_of(market, purchase["id"])
    assert (credit["type"], credit["payable"]) == ("credit", -27.0)
    assert credit["lines"][0]["creditReason"] == "cancellation"
    assert market.balance("Acme")[0]["payable"] == 27.0


def test_manual_trigger_waits_for_the_invoice_request(market, client):
    market.vendor("Acme", commissionRate=20, paymentTrigger="manual")
    market.stock("Acme", "MUG")
    purchase = market.sell([("MUG", 2, 50.00)])["purchases"][0]
    market.ship(purchase["id"])
    assert market.invoices() == []
    raised = client.post(f"/api/purchases/{purchase['id']}/invoice.json")
    assert raised.status_code == 201, raised.text
    assert raised.json()[0]["payable"] == 80.0
    again = client.post(f"/api/purchases/{purchase['id']}/invoice.json")
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "purchaseItems"


def test_the_return_penalty_keeps_the_commission(market):
    market.vendor("Acme", commissionRate=20, applyReturnPenalty="enabled")
    market.stock("Acme", "MUG")
    sale = market.sell([("MUG", 2, 50.00)])
    market.ship(sale["purchases"][0]["id"])
    market.give_back(sale["id"], sale["saleItems"][0]["id"], 1)
    _, credit = market.invoices()
    assert (credit["net"], credit["commission"], credit["payable"]) == (-50.0, 0.0, -50.0)
    assert credit["lines"][0]["creditReason"] == "return"
    assert market.balance("Acme")[0]["payable"] == 30.0


def test_cost_price_base_pays_the_feed_cost_at_routing(market):
    market.vendor("Acme", commissionRateBase="inventoryFeedVariant")
    market.stock("Acme", "MUG", cost=12.5)
    sale = market.sell([("MUG", 2, 50.00)])
    market.stock("Acme", "MUG", cost=99)  # a later cost changes nothing already routed
    market.ship(sale["purchases"][0]["id"])
    (invoice,) = market.invoices()
    assert (invoice["net"], invoice["commission"], invoice["payable"]) == (100.0, 75.0, 25.0)


def test_fixed_rate_discount_split_and_shipping_share(market):
    market.vendor(
        "Acme",
        commissionRate=3,
        commissionRateType="fixed",
        commissionRateDiscountSplit=50,
        commissionRateShipping=40,
    )
    market.stock("Acme", "MUG")
    updated = market.client.post(
        f"/api/channels/{market.channel_id}/manual-sale.json",
        json={
            "externalId": "D2",
            "lineItems": [
                {
                    "externalId": "L0",
                    "quantity": 2,
                    "price": 50,
                    "discount": 20,
                    "variant": {"sku": "MUG"},
                }
            ],
            "shipping": [{"code": "std", "price": 10}],
        },
    )
    assert updated.status_code in (200, 201), updated.text
    assert updated.json()["saleItems"][0]["discount"] == 20.0
    purchase = updated.json()["purchases"][0]
    market.ship(purchase["id"])
    (invoice,) = market.invoices(purchaseId=purchase["id"])
    # net = 100 - 20 x 50 % = 90; commission = 3 x 2 = 6; shipping kept by the vendor 60 % of 10
    assert (invoice["net"], invoice["commission"], invoice["shipping"]) == (90.0, 6.0, 6.0)
    assert invoice["payable"] == 90.0


def test_the_sale_currency_comes_from_the_body_then_the_channel(market, client):
    market.vendor("Acme", commissionRate=20)
    market.stock("Acme", "MUG")
    client.put(f"/api/channels/{market.channel_id}.json", json={"currency": "EUR"})
    from_channel = market.sell([("MUG", 1, 10.00)])
    from_body = market.sell([("MUG", 1, 10.00)], currency="gbp")
    assert (from_channel["currency"], from_body["currency"]) == ("EUR", "GBP")
    market.ship(from_channel["purchases"][0]["id"])
    market.ship(from_body["purchases"][0]["id"])
    balances = market.balance("Acme")
    assert [(b["currency"], b["payable"]) for b in balances] == [("EUR", 8.0), ("GBP", 8.0)]


def test_a_rule_change_never_rewrites_an_invoiced_line(market, client):
    market.vendor("Acme", commissionRate=20)
    market.stock("Acme", "MUG")
    rule = client.post(
        "/api/commission-rules.json",
        json={"channelId": market.channel_id, "commissionRate": 50},
    )
    assert rule.status_code == 201, rule.text
    first = market.sell([("MUG", 1, 100.00)])
    market.ship(first["purchases"][0]["id"])
    client.put(f"/api/commission-rules/{rule.json()['id']}.json", json={"commissionRate": 10})
    second = market.sell([("MUG", 1, 100.00)])
    market.ship(second["purchases"][0]["id"])
    a, b = market.invoices()
    assert (a["commission"], b["commission"]) == (50.0, 10.0)
    assert a["lines"][0]["commissionRateSource"] == f"rule:{rule.json()['id']}"


def test_vendor_tokens_see_their_own_money_and_cannot_settle(market, client, vendor_client):
    market.vendors["Scoped"] = {"id": vendor_client.vendor_id}
    market.feeds["Scoped"] = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor_client.vendor_id}
    ).json()
    market.stock("Scoped", "OWN")
    own = market.sell([("OWN", 1, 10.00)])["purchases"][0]
    market.ship(own["id"])
    market.vendor("Other", commissionRate=20)
    market.stock("Other", "THEIRS")
    theirs = market.sell([("THEIRS", 1, 10.00)])["purchases"][0]
    market.ship(theirs["id"])
    seen = vendor_client.get("/api/purchase-invoices.json").json()
    assert [i["purchaseId"] for i in seen] == [own["id"]]
    other_invoice = market.invoices(purchaseId=theirs["id"])[0]
    assert (
        vendor_client.get(f"/api/purchase-invoices/{other_invoice['id']}.json").status_code == 404
    )
    other_id = market.vendors["Other"]["id"]
    assert vendor_client.get(f"/api/dropship-providers/{other_id}/balance.json").status_code == 404
    own_balance = vendor_client.get(
        f"/api/dropship-providers/{vendor_client.vendor_id}/balance.json"
    )
    assert own_balance.status_code == 200
    settle = vendor_client.post(
        f"/api/dropship-providers/{vendor_client.vendor_id}/settle-transfer.json",
        json={"toPay": [seen[0]["id"]]},
    )
    assert settle.status_code == 403
    assert vendor_client.get("/api/payments.json").json() == []
    exported = vendor_client.get("/api/purchase-invoices.csv").text.strip().splitlines()
    assert len(exported) == 2
    assert exported[1].startswith(seen[0]["reference"])


def test_on_delivery_waits_for_the_fulfillment_to_be_delivered(market, client):
    market.vendor("Acme", commissionRate=20, paymentTrigger="onDelivery")
    market.stock("Acme", "MUG")
    purchase = market.sell([("MUG", 2, 50.00)])["purchases"][0]
    fulfillment = market.ship(purchase["id"])
    assert market.invoices() == []
    delivered = client.post(f"/api/fulfillments/{fulfillment['id']}/delivered.json")
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["deliveredAt"] is not None
    (invoice,) = market.invoices()
    assert invoice["payable"] == 80.0


def test_a_moved_order_credits_its_earlier_vendor(market, client):
    market.vendor("Acme", commissionRate=10, paymentTrigger="beforeShipping")
    market.vendor("Bolt", commissionRate=20, paymentTrigger="beforeShipping", priority=500)
    market.stock("Acme", "MUG")
    market.stock("Bolt", "MUG")
    purchase = market.sell([("MUG", 2, 50.00)], shipping=10)["purchases"][0]
    assert purchase["dropshipProviderId"] == market.vendors["Acme"]["id"]
    moved = client.put(
        f"/api/purchases/{purchase['id']}/move-dropship-provider.json",
        json={"dropshipProviderId": market.vendors["Bolt"]["id"]},
    )
    assert moved.status_code == 200, moved.text
    first, credit, second = market.invoices(purchaseId=purchase["id"])
    acme, bolt = market.vendors["Acme"]["id"], market.vendors["Bolt"]["id"]
    assert (first["dropshipProviderId"], first["payable"]) == (acme, 90.0)
    assert (credit["dropshipProviderId"], credit["type"], credit["payable"]) == (
        acme,
        "credit",
        -90.0,
    )
    assert (second["dropshipProviderId"], second["payable"]) == (bolt, 80.0)
    assert market.balance("Acme")[0]["payable"] == 0.0
    assert market.balance("Bolt")[0]["payable"] == 80.0
