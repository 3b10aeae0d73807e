import base64
import hashlib
import hmac

import pytest
from sqlalchemy import func, select

from dropwire.delivery import kinds
from dropwire.delivery.models import Delivery, DeliveryState
from tests.delivery.conftest import drain


def verify_standard_webhook(secret: str, headers: dict[str, str], raw: bytes) -> bool:
    """An independent check of the Standard Webhooks scheme."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + raw
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig == f"v1,{expected}" for sig in headers["webhook-signature"].split())


@pytest.fixture
def store(client, receiver):
    return client.post(
        "/api/custom-channels.json",
        json={
            "name": "Shop",
            "inventoryEndpoint": receiver.url + "/inventory",
            "fulfillmentEndpoint": receiver.url + "/fulfillment",
        },
    ).json()


def listed_variant(client, store, sku):
    """A catalog variant the store lists (a channel variant of the store's channel)."""
    results = client.post(
        f"/api/channels/{store['channelId']}/import-connector-variant-batches.json",
        json=[{"sku": sku, "name": sku, "externalId": f"ext-{sku}"}],
    ).json()
    return results[0]["variantId"]


def adjust(client, variant_id, quantity):
    response = client.post(
        "/api/inventory-adjustments.json", json={"variantId": variant_id, "quantity": quantity}
    )
    assert response.status_code == 201


def test_inventory_change_is_delivered_signed(client, database, receiver, relay, store):
    variant_id = listed_variant(client, store, "A")
    adjust(client, variant_id, 7)
    assert drain(relay, database) == 1
    (message,) = receiver.received
    assert message.path == "/inventory"
    assert message.body["inventory"] == {"available": 7}
    assert message.body["variant"]["sku"] == "A"
    assert message.body["channelVariant"]["externalId"] == "ext-A"
    assert message.body["channelVariant"]["channel"]["inventorySync"] == "all"
    assert message.headers["onport-hash"] == store["webhookHash"]
    assert message.headers["jetti-hash"] == store["webhookHash"]
    endpoint = client.get("/api/webhook-endpoints.json").json()[0]
    assert endpoint["secret"].startswith("whsec_")
    assert verify_standard_webhook(endpoint["secret"], message.headers, message.raw)
    assert not verify_standard_webhook(endpoint["secret"], message.headers, message.raw + b" ")
    delivery = client.get("/api/webhook-deliveries.json").json()[0]
    assert delivery["state"] == "delivered"
    assert delivery["attemptLog"][0]["httpStatus"] == 200


def test_no_endpoint_no_delivery(client, database, relay):
    custom = client.post("/api/custom-channels.json", json={"name": "Quiet"}).json()
    variant_id = listed_variant(client, custom, "Q")
    adjust(client, variant_id, 3)
    assert client.get("/api/webhook-deliveries.json").json() == []


def test_receiver_down_then_up_everything_arrives_in_order_once(
    client, database, receiver, relay, store
):
    variants = [listed_variant(client, store, sku) for sku in ("A", "B", "C")]
    port = receiver.port
    receiver.stop()
    adjust(client, variants[0], 1)
    drain(relay, database, rounds=3)  # attempts fail: connection refused
    adjust(client, variants[0], 1)
    adjust(client, variants[1], 5)
    adjust(client, variants[2], 2)
    receiver.port = port
    receiver.start()
    drain(relay, database)
    by_sku = {}
    for message in receiver.received:
        by_sku.setdefault(message.body["variant"]["sku"], []).append(
            message.body["inventory"]["available"]
        )
    assert by_sku == {"A": [2], "B": [5], "C": [2]}
    ids = [m.headers["webhook-id"] for m in receiver.received]
    assert len(ids) == len(set(ids))
    adjust(client, variants[0], 1)
    drain(relay, database)
    assert [
        m.body["inventory"]["available"]
        for m in receiver.received
        if m.body["variant"]["sku"] == "A"
    ] == [2, 3]


def test_500_then_200_is_retried_and_400_fails_without_retry(
    client, database, receiver, relay, store
):
    variant_id = listed_variant(client, store, "A")
    receiver.statuses = [500, 503]
    adjust(client, variant_id, 1)
    drain(relay, database)
    delivery = client.get("/api/webhook-deliveries.json").json()[0]
    assert delivery["state"] == "delivered"
    assert [a["httpStatus"] for a in delivery["attemptLog"]] == [500, 503, 200]
    receiver.statuses = [400]
    adjust(client, variant_id, 1)
    drain(relay, database)
    failed = client.get("/api/webhook-deliveries.json?where[state]=failed").json()
    assert len(failed) == 1
    assert len(failed[0]["attemptLog"]) == 1
    retried = client.post(f"/api/webhook-deliveries/{failed[0]['id']}/retry.json")
    assert retried.json()["state"] == "pending"
    drain(relay, database)
    assert (
        client.get(f"/api/webhook-deliveries/{failed[0]['id']}.json").json()["state"] == "delivered"
    )


def test_429_honours_retry_after(client, database, receiver, relay, store):
    variant_id = listed_variant(client, store, "A")
    receiver.statuses = [429]
    adjust(client, variant_id, 1)
    relay.send_due()
    with database.session(write=False) as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.state == DeliveryState.pending
        wait = (delivery.next_attempt_at - delivery.updated_at).total_seconds()
    assert wait >= 1


def test_410_disables_the_endpoint_until_enabled(client, database, receiver, relay, store):
    variant_id = listed_variant(client, store, "A")
    receiver.statuses = [410]
    adjust(client, variant_id, 1)
    drain(relay, database)
    endpoint = client.get("/api/webhook-endpoints.json").json()[0]
    assert endpoint["disabledAt"] is not None
    adjust(client, variant_id, 1)
    drain(relay, database)
    states = [d["state"] for d in client.get("/api/webhook-deliveries.json").json()]
    assert states == ["disabled", "disabled"]
    assert receiver.received == []
    client.post(f"/api/webhook-endpoints/{endpoint['id']}/enable.json")
    second = client.get("/api/webhook-deliveries.json").json()[1]
    client.post(f"/api/webhook-deliveries/{second['id']}/retry.json")
    drain(relay, database)
    assert len(receiver.received) == 1


def test_hanging_receiver_is_a_failed_attempt_and_does_not_block(
    client, database, receiver, relay, store, monkeypatch
):
    declared = database.wiring.part(kinds.EventKinds)
    hurried = kinds.EventKinds(
        kinds.EventKind(name, timeout=0.5) if name == "inventory" else declared.of(name)
        for name in declared.names()
    )
    monkeypatch.setattr(database, "wiring", database.wiring.replacing(hurried))
    variant_id = listed_variant(client, store, "A")
    receiver.hang_seconds = 2
    adjust(client, variant_id, 1)
    relay.send_due()
    delivery = client.get("/api/webhook-deliveries.json").json()[0]
    assert delivery["state"] == "pending"
    assert "timed out" in delivery["attemptLog"][0]["error"]
    assert delivery["attemptLog"][0]["latencyMs"] < 1900
    receiver.hang_seconds = 0
    drain(relay, database)
    assert client.get("/api/webhook-deliveries.json").json()[0]["state"] == "delivered"


def test_ten_thousand_changes_while_down_send_at_most_one_per_variant(
    client, database, receiver, relay, store
):
    from dropwire.inventory import service as inventory
    from dropwire.inventory.locations import location_for_warehouse
    from dropwire.inventory.warehouses import ensure_default_warehouse

    variants = [listed_variant(client, store, f"V{i:03d}") for i in range(100)]
    port = receiver.port
    receiver.stop()
    with database.transaction() as session:
        location_id = location_for_warehouse(
            session, warehouse_id=ensure_default_warehouse(session).id
        ).id
    for round_number in range(100):
        with database.transaction() as session:
            for variant_id in variants:
                inventory.adjust_stocked(
                    session, variant_id=variant_id, location_id=location_id, delta=1
                )
        if round_number in (0, 50):
            relay.send_due(limit=200)  # attempts while the receiver is down
    receiver.port = port
    receiver.start()
    drain(relay, database)
    assert len(receiver.received) <= 100
    finals = {m.body["variant"]["sku"]: m.body["inventory"]["available"] for m in receiver.received}
    assert len(finals) == 100
    assert set(finals.values()) == {100}
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) <= 300


def test_private_targets_are_refused_by_default(client, database, store):
    from dropwire.delivery.relay import Relay

    variant_id = listed_variant(client, store, "A")
    adjust(client, variant_id, 1)
    strict = Relay(database, allow_private=False)
    try:
        strict.send_due()
    finally:
        strict.close()
    delivery = client.get("/api/webhook-deliveries.json").json()[0]
    assert delivery["state"] == "dead"
    assert "not a public address" in delivery["lastError"]
    assert delivery["attempts"] == 1


def test_purchase_orders_and_fulfillments_reach_vendor_and_store(
    client, database, receiver, relay, store
):
    vendor = client.post(
        "/api/dropship-providers.json",
        json={
            "name": "V",
            "orderEndpoint": receiver.url + "/orders",
            "webhookSecret": "vendor-secret",
        },
    ).json()
    feed = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]}
    ).json()
    listed_variant(client, store, "TENT")
    client.put(
        f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
        json={"externalId": "t", "vendorSku": "TENT", "inventoryQuantity": 5},
    )
    sale = client.post(
        f"/api/channels/{store['channelId']}/manual-sale.json",
        json={
            "externalId": "o1",
            "lineItems": [{"externalId": "l1", "quantity": 2, "variant": {"sku": "TENT"}}],
        },
    ).json()
    purchase = sale["purchases"][0]
    client.post(
        f"/api/purchases/{purchase['id']}/ship.json",
        json={
            "trackingNumber": "TRK",
            "purchaseItems": [{"id": purchase["purchaseItems"][0]["id"], "quantity": 1}],
        },
    )
    client.post(f"/api/sales/{sale['id']}/cancel.json", json={})
    drain(relay, database)
    # the vendor's endpoint also hears of its invoice (the shipment raised one): PO events only
    orders = [m for m in receiver.received if m.path == "/orders" and "purchase" in m.body]
    assert [m.body["event"] for m in orders] == ["created", "cancelled"] or [
        m.body["event"] for m in orders
    ] == ["created", "updated"]
    assert orders[0].body["purchase"]["externalReference"] == "10001-01"
    assert orders[0].body["sale"]["reference"] == "10001"
    assert orders[0].headers["onport-hash"] == "vendor-secret"
    (fulfillment,) = [m for m in receiver.received if m.path == "/fulfillment"]
    assert fulfillment.body["instance"]["reference"] == "10001-01-01"
    assert fulfillment.body["instance"]["trackingNumber"] == "TRK"
    assert fulfillment.body["instance"]["purchase"]["id"] == purchase["id"]
    inventory_values = [
        m.body["inventory"]["available"] for m in receiver.received if m.path == "/inventory"
    ]
    assert inventory_values[-1] == 4  # 5 stocked, 1 shipped, the rest released


def test_publishing_sync_acknowledgement_connects_the_listing(client, database, receiver, relay):
    custom = client.post(
        "/api/custom-channels.json",
        json={"name": "Pub", "publishingEndpoint": receiver.url + "/publish"},
    ).json()
    receiver.reply = {"externalId": "gid://product/77", "externalSku": "EXT-SKU"}
    client.post("/api/variants.json", json={"sku": "NEW-1", "name": "New"})
    drain(relay, database)
    (message,) = receiver.received
    assert message.body["variant"]["sku"] == "NEW-1"
    assert message.body["product"]["name"] == "New"
    link = client.get(f"/api/channel-variants.json?where[channelId]={custom['channelId']}").json()[
        0
    ]
    assert (link["externalId"], link["externalSku"], link["status"]) == (
        "gid://product/77",
        "EXT-SKU",
        "connected",
    )


def test_publishing_async_waits_for_acknowledgement(client, database, receiver, relay):
    custom = client.post(
        "/api/custom-channels.json",
        json={
            "name": "Pub",
            "publishingEndpoint": receiver.url + "/publish",
            "publishingAcknowledgement": "async",
        },
    ).json()
    client.post("/api/variants.json", json={"sku": "NEW-2", "name": "New"})
    drain(relay, database)
    link = client.get(f"/api/channel-variants.json?where[channelId]={custom['channelId']}").json()[
        0
    ]
    assert link["status"] == "acknowledging"


def test_a_failed_item_in_a_batch_does_not_lose_the_others_deliveries(
    client, database, receiver, relay, store
):
    vendor = client.post(
        "/api/dropship-providers.json", json={"name": "V", "externalId": "V"}
    ).json()
    feed = client.post(
        "/api/inventory-feeds.json",
        json={"dropshipProviderId": vendor["id"], "automaticallyConnect": False},
    ).json()
    listed_variant(client, store, "GOOD")
    client.put(
        f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
        json={"externalId": "g", "vendorSku": "V-GOOD", "inventoryQuantity": 4},
    )
    drain(relay, database)
    receiver.received.clear()
    results = client.put(
        f"/api/channels/{store['channelId']}/acknowledge-variant-batches.json",
        json=[
            {
                "sku": "GOOD",
                "vendorSkus": [{"vendorSku": "V-GOOD", "dropshipProviderId": vendor["id"]}],
            },
            {
                "sku": "MISSING",
                "vendorSkus": [{"vendorSku": "X", "dropshipProviderId": vendor["id"]}],
            },
        ],
    ).json()
    assert [r["status"] for r in results] == ["success", "error"]
    drain(relay, database)
    assert [m.body["inventory"]["available"] for m in receiver.received] == [4]
