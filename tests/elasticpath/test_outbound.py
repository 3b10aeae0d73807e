from typing import Any

import pytest
from bench.fake_elasticpath import CLIENT_ID, CLIENT_SECRET, order_document
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from dropwire.cli import app as cli_app
from dropwire.connectors.elasticpath.client import (
    ElasticPathClient,
    ElasticPathError,
    TokenCache,
)
from dropwire.connectors.elasticpath.models import ElasticPathStore
from dropwire.core.outbound import AddressPolicy
from dropwire.delivery.models import Delivery
from tests.elasticpath.conftest import WEBHOOK_SECRET


def ep_deliveries(database, event=None):
    with database.transaction() as session:
        query = select(Delivery).where(Delivery.transport == "elasticpath").order_by(Delivery.id)
        rows = [d for d in session.scalars(query) if event is None or d.event == event]
        return [(d.event, d.state, d.attempts, d.last_status) for d in rows]


LOOPBACK = AddressPolicy(allow_private=True)  # the fake store listens on 127.0.0.1


def test_client_caches_the_token_refreshes_on_401_and_retries_429(fake):
    fake.stock["p1"] = {"total": 5, "available": 5, "allocated": 0}
    naps: list[float] = []
    client = ElasticPathClient(
        fake.url, CLIENT_ID, CLIENT_SECRET, policy=LOOPBACK, tokens=TokenCache(), sleep=naps.append
    )
    for _ in range(5):
        assert client.get_stock("p1")["available"] == 5
    assert fake.token_fetches == 1
    fake.expire_tokens()  # the store now answers 401 to the cached token
    assert client.get_stock("p1")["available"] == 5
    assert fake.token_fetches == 2
    fake.fail_next("GET", "/v2/inventories/p1", 429)
    assert client.get_stock("p1")["available"] == 5
    assert naps == [0.0]  # Retry-After: 0 was honoured once
    fake.fail_next("POST", "/v2/inventories/p1/transactions", 503)
    client.stock_transaction("p1", "decrement", 2)
    assert fake.stock["p1"]["available"] == 3
    with pytest.raises(ElasticPathError) as refused:
        client.stock_transaction("p1", "decrement", 9)
    assert refused.value.status == 422 and "insufficient" in refused.value.text
    bad = ElasticPathClient(fake.url, CLIENT_ID, "wrong", policy=LOOPBACK, tokens=TokenCache())
    with pytest.raises(ElasticPathError) as unauthorized:
        bad.get_stock("p1")
    assert unauthorized.value.status == 401
    client.close()


def test_stock_changes_become_transactions_by_the_difference(shop, fake, database):
    shop.product("TENT", vendor_stock=10, store_stock=10)
    shop.drain()
    assert fake.transactions == []  # 10 in both places: nothing to say
    shop.set_vendor_stock("TENT", 7)
    shop.set_vendor_stock("TENT", 6)  # coalesced with the previous change
    assert shop.drain() == 1
    assert fake.transactions == [{"product_id": "prod-tent", "action": "decrement", "quantity": 4}]
    assert fake.stock["prod-tent"]["available"] == 6
    shop.set_vendor_stock("TENT", 9)
    shop.drain()
    assert fake.transactions[-1] == {
        "product_id": "prod-tent",
        "action": "increment",
        "quantity": 3,
    }
    assert fake.stock["prod-tent"] == {"total": 9, "available": 9, "allocated": 0}
    shop.product("MUG", vendor_stock=4)  # the store doesn't manage its stock yet: created
    shop.drain()
    assert fake.stock["prod-mug"]["available"] == 4
    assert all(state == "delivered" for _, state, _, _ in ep_deliveries(database))
    assert fake.token_fetches == 1


def test_multi_location_inventory_sets_the_level(shop, fake):
    response = shop.client.put(
        f"/api/channels/{shop.channel_id}.json",
        json={"elasticPath": {"inventory": "locations", "location": "main-wh"}},
    )
    assert response.status_code == 200, response.text
    shop.product("TENT", vendor_stock=8)
    shop.drain()
    assert fake.mli_stock == {"prod-tent": {"main-wh": 8}}


def test_products_are_created_then_updated_by_sku(shop, fake, database):
    shop.client.put(
        f"/api/channels/{shop.channel_id}.json", json={"elasticPath": {"publishProducts": True}}
    )
    variant = shop.client.post(
        "/api/variants.json", json={"sku": "LAMP-1", "name": "Desk lamp", "barcode": "123"}
    ).json()
    shop.drain()
    (product,) = fake.products.values()
    assert product["attributes"]["sku"] == "LAMP-1"
    assert product["attributes"]["status"] == "draft"
    assert product["attributes"]["upc_ean"] == "123"
    links = shop.client.get(
        "/api/channel-variants.json", params={"where[channelId]": shop.channel_id}
    ).json()
    assert [(link["externalId"], link["status"]) for link in links] == [
        (product["id"], "connected")
    ]
    product["attributes"]["status"] = "live"
    shop.client.put(f"/api/variants/{variant['id']}.json", json={"name": "Floor lamp"})
    shop.drain()
    assert len(fake.products) == 1
    assert "Floor lamp" in product["attributes"]["name"]
    assert product["attributes"]["status"] == "live"  # an update never unpublishes
    assert ("PUT", f"/pcm/products/{product['id']}") in [(m, p) for m, p, _ in fake.calls]


def _paid_order(shop, order_id, lines):
    """The store has taken payment: it allocated the units, then told Dropwire."""
    items = [
        {
            "id": f"item-{sku}",
            "sku": sku,
            "product_id": shop.products[sku],
            "quantity": q,
            "amount": 2500,
        }
        for sku, q in lines
    ]
    order = order_document(order_id, items)
    shop.fake.add_order(order)
    for item in items:
        level = shop.fake.stock[item["product_id"]]
        level["allocated"] += item["quantity"]
        level["available"] -= item["quantity"]
    shop.deliver(order, "order.paid")
    return shop.sale(order_id)


def _ship(shop, purchase, items=None, tracking="TRK-1"):
    body = {"trackingNumber": tracking, "trackingUrl": f"https://track.example/{tracking}"}
    if items is not None:
        body["purchaseItems"] = items
    response = shop.client.post(f"/api/purchases/{purchase['id']}/ship.json", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_end_to_end_paid_order_shipped_by_the_vendor_is_fulfilled_in_the_store(shop, fake):
    shop.product("TENT", vendor_stock=10, store_stock=10)
    shop.drain()
    sale = _paid_order(shop, "order-1", [("TENT", 2)])
    (purchase,) = sale["purchases"]
    assert purchase["dropshipProviderId"] == shop.vendor_id
    assert sale["saleItems"][0]["externalId"] == "order-1_item-TENT"
    shop.drain()
    assert fake.stock["prod-tent"] == {"total": 10, "available": 8, "allocated": 2}
    assert fake.transactions == []  # the store's own allocation already counts the sale
    fake.fail_next("PUT", "/v2/orders/order-1", 429)  # the store throttles once
    _ship(shop, purchase)
    shop.drain()
    order = fake.orders["order-1"]["data"]
    assert order["shipping"] == "fulfilled"
    # never partly fulfilled or cancelled: the order flow's fields were never written
    assert "partially_fulfilled" not in order and "partially_cancelled" not in order
    assert fake.stock["prod-tent"] == {"total": 8, "available": 8, "allocated": 0}
    (entry,) = fake.entries["fulfilment_items"]
    assert entry["orderitem_id"] == "item-TENT" and entry["fulfilled_quantity"] == 2
    assert entry["tracking_number"] == "TRK-1" and entry["instance_id"] == "10001-01-01"
    assert fake.relationships[("order-1", "fulfilments")] == [entry["id"]]
    assert fake.item_fields["item-TENT"]["fulfilment_status"] == "fulfilled"
    assert fake.token_fetches == 1
    puts = [p for m, p, _ in fake.calls if m == "PUT" and p == "/v2/orders/order-1"]
    assert len(puts) == 2  # the 429, then the retry


def test_partial_shipments_and_cancellations_follow_the_onport_rules(shop, fake, database):
    shop.product("TENT", vendor_stock=10, store_stock=10)
    shop.product("MUG", vendor_stock=10, store_stock=10)
    sale = _paid_order(shop, "order-2", [("TENT", 2), ("MUG", 1)])
    (purchase,) = sale["purchases"]
    tent = next(i for i in purchase["purchaseItems"] if i["quantity"] == 2)
    _ship(shop, purchase, [{"id": tent["id"], "quantity": 1}])
    shop.drain()
    order = fake.orders["order-2"]["data"]
    assert order["shipping"] == "unfulfilled"
    assert order["partially_fulfilled"] is True and order["partially_cancelled"] is False
    assert fake.item_fields["item-TENT"]["fulfilled_quantity"] == 1
    assert fake.item_fields["item-TENT"]["fulfilment_status"] == "partially_fulfilled"
    mug_line = next(i for i in sale["saleItems"] if i["sku"] == "MUG")
    shop.client.post(
        f"/api/sales/{sale['id']}/cancel.json",
        json={"saleItems": [{"id": mug_line["id"], "quantity": 1}]},
    )
    shop.drain()
    assert order["partially_fulfilled"] is True and order["partially_cancelled"] is True
    assert order["shipping"] == "unfulfilled"
    (cancelled,) = fake.entries["cancelled_items"]
    assert cancelled["orderitem_id"] == "item-MUG" and cancelled["cancelled_quantity"] == 1
    assert fake.item_fields["item-MUG"]["cancellation_status"] == "cancelled"
    _ship(shop, purchase, tracking="TRK-2")  # the rest: shipped + cancelled, nothing pending
    shop.drain()
    assert order["shipping"] == "fulfilled"
    assert order["partially_cancelled"] is True and order["partially_fulfilled"] is False
    assert len(fake.entries["fulfilment_items"]) == 2
    assert all(state == "delivered" for _, state, _, _ in ep_deliveries(database))


def test_an_impossible_transition_fails_without_retrying(shop, fake, database):
    shop.product("TENT", vendor_stock=10, store_stock=10)
    sale = _paid_order(shop, "order-3", [("TENT", 1)])
    fake.orders["order-3"]["data"]["shipping"] = "fulfilled"  # fulfilled in the store meanwhile
    shop.client.post(f"/api/sales/{sale['id']}/cancel.json", json={})
    shop.drain()
    (order_call,) = ep_deliveries(database, "elasticpath.order")
    assert order_call == ("elasticpath.order", "failed", 1, 422)
    assert fake.orders["order-3"]["data"]["status"] == "complete"


def test_setup_command_creates_then_updates_the_integration(
    shop, fake, database, cli_in_this_process
):
    runner = CliRunner()
    args = ["elasticpath", "setup", str(shop.channel_id), "--public-url", "https://dw.example.com/"]
    first = runner.invoke(cli_app, args)
    assert first.exit_code == 0, first.output
    (integration,) = fake.integrations.values()
    assert integration["configuration"] == {
        "url": f"https://dw.example.com/webhooks/elasticpath/{shop.channel_id}",
        "secret_key": WEBHOOK_SECRET,
    }
    assert "order.paid" in integration["observes"]
    assert integration["integration_type"] == "webhook" and integration["enabled"] is True
    second = runner.invoke(cli_app, args)
    assert second.exit_code == 0, second.output
    assert len(fake.integrations) == 1
    assert ("PUT", f"/v2/integrations/{integration['id']}") in [(m, p) for m, p, _ in fake.calls]
    with database.transaction() as session:
        assert session.scalars(select(ElasticPathStore)).one().integration_id == integration["id"]
    missing = runner.invoke(cli_app, ["elasticpath", "setup", "999", "--public-url", "https://x"])
    assert missing.exit_code == 1
    fake.integrations.clear()  # deleted in Commerce Manager: PUT answers 404
    again = runner.invoke(cli_app, args)
    assert again.exit_code == 0, again.output
    (recreated,) = fake.integrations.values()
    assert recreated["id"] != integration["id"]
    with database.transaction() as session:
        assert session.scalars(select(ElasticPathStore)).one().integration_id == recreated["id"]


def test_entries_created_before_a_failed_link_are_not_created_again(shop, fake, database):
    shop.product("TENT", vendor_stock=10, store_stock=10)
    shop.product("MUG", vendor_stock=10, store_stock=10)
    sale = _paid_order(shop, "order-5", [("TENT", 2), ("MUG", 1)])
    shop.drain()
    (purchase,) = sale["purchases"]
    links = "/v2/flows/orders/entries/order-5/relationships"
    fake.fail_next("POST", f"{links}/fulfilments", 0)  # entries made, then the link is lost
    _ship(shop, purchase)
    shop.drain()
    made = fake.entries["fulfilment_items"]
    assert sorted(e["orderitem_id"] for e in made) == ["item-MUG", "item-TENT"]
    assert fake.paths("POST").count("/v2/flows/fulfilment_items/entries") == 2
    assert fake.paths("POST").count(f"{links}/fulfilments") == 2  # the lost one, the retry
    assert sorted(fake.relationships[("order-5", "fulfilments")]) == sorted(e["id"] for e in made)
    assert ep_deliveries(database, "elasticpath.entries") == [
        ("elasticpath.entries", "delivered", 2, 201)
    ]
    assert fake.orders["order-5"]["data"]["shipping"] == "fulfilled"


def test_cancellation_entries_survive_a_failed_link_once(shop, fake, database):
    shop.product("TENT", vendor_stock=10, store_stock=10)
    sale = _paid_order(shop, "order-6", [("TENT", 3)])
    shop.drain()
    line = sale["saleItems"][0]
    cancellations = "/v2/flows/orders/entries/order-6/relationships/cancellations"
    for quantity in (1, 2):  # two separate cancellations: two entries, each made once
        fake.fail_next("POST", cancellations, 0)
        response = shop.client.post(
            f"/api/sales/{sale['id']}/cancel.json",
            json={"saleItems": [{"id": line["id"], "quantity": quantity}]},
        )
        assert response.status_code in (200, 201), response.text
        shop.drain()
    made = fake.entries["cancelled_items"]
    assert [e["cancelled_quantity"] for e in made] == [1, 2]
    assert fake.relationships[("order-6", "cancellations")] == [e["id"] for e in made]
    assert fake.orders["order-6"]["data"]["status"] == "cancelled"
    states = ep_deliveries(database, "elasticpath.entries")
    assert states == [("elasticpath.entries", "delivered", 2, 201)] * 2


def test_cancelling_unrouted_and_in_house_lines_reaches_the_store(shop, fake, database):
    shop.product("TENT", vendor_stock=10, store_stock=10)
    shop.product("LAMP", vendor_stock=10, store_stock=10)
    lamp_variant = shop.client.get("/api/variants.json", params={"where[sku]": "LAMP"}).json()
    adjusted = shop.client.post(
        "/api/inventory-adjustments.json",
        json={"variantId": lamp_variant[0]["id"], "quantity": 5},  # in-house stock goes first
    )
    assert adjusted.status_code in (200, 201), adjusted.text
    shop.products["GHOST"] = "prod-ghost"  # sold by the store, unknown here: never routed
    fake.stock["prod-ghost"] = {"total": 3, "available": 3, "allocated": 0}
    sale = _paid_order(shop, "order-7", [("TENT", 1), ("LAMP", 1), ("GHOST", 1)])
    shop.drain()
    lines = {item["sku"]: item for item in sale["saleItems"]}
    (in_house,) = [p for p in sale["purchases"] if not p["isDropship"]]
    assert [i["saleItemId"] for i in in_house["purchaseItems"]] == [lines["LAMP"]["id"]]
    assert not any(
        i["saleItemId"] == lines["GHOST"]["id"]
        for p in sale["purchases"]
        for i in p["purchaseItems"]
    )
    for sku in ("GHOST", "LAMP"):
        response = shop.client.post(
            f"/api/sales/{sale['id']}/cancel.json",
            json={"saleItems": [{"id": lines[sku]["id"], "quantity": 1}]},
        )
        assert response.status_code in (200, 201), response.text
        shop.drain()
        assert fake.entries["cancelled_items"][-1]["orderitem_id"] == f"item-{sku}"
        assert fake.item_fields[f"item-{sku}"]["cancellation_status"] == "cancelled"
    assert [e["orderitem_id"] for e in fake.entries["cancelled_items"]] == [
        "item-GHOST",
        "item-LAMP",
    ]
    order = fake.orders["order-7"]["data"]
    assert order["partially_cancelled"] is True and order["status"] == "complete"
    assert all(state == "delivered" for _, state, _, _ in ep_deliveries(database))


def test_setup_calls_the_store_outside_any_transaction(
    shop, fake, database, cli_in_this_process, monkeypatch
):
    """While the store answers, another writer changes the channel's store row at once: the
    setup holds no transaction (nor lock) across the call; it records the id afterwards."""
    with database.transaction() as session:
        session.scalars(select(ElasticPathStore)).one().webhook_secret_sealed = None  # made anew
    answer = fake.post_integrations

    def meanwhile(body: Any, **kw: Any) -> tuple[int, Any]:
        with database.transaction() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SET LOCAL lock_timeout = '3s'"))
            session.execute(update(ElasticPathStore).values(location="meanwhile"))
        return answer(body, **kw)

    monkeypatch.setattr(fake, "post_integrations", meanwhile)
    args = ["elasticpath", "setup", str(shop.channel_id), "--public-url", "https://dw.example.com"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    (integration,) = fake.integrations.values()
    with database.transaction() as session:
        store = session.scalars(select(ElasticPathStore)).one()
        assert (store.location, store.integration_id) == ("meanwhile", integration["id"])
        assert store.webhook_secret_sealed is not None  # kept before the call
