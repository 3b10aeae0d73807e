import json

from bench.fake_elasticpath import CLIENT_SECRET, delivery, order_document
from sqlalchemy import func, select

from dropwire.apilog.models import ApiLog
from dropwire.connectors.elasticpath.models import ElasticPathEvent, ElasticPathStore
from dropwire.connectors.elasticpath.service import EVENT_JOB
from dropwire.core.encryption import unseal
from dropwire.jobs.models import Job
from dropwire.jobs.service import run_pending
from tests.elasticpath.conftest import WEBHOOK_SECRET, ep_settings

ITEMS = [
    {"id": "item-1", "sku": "TENT", "product_id": "prod-tent", "quantity": 2, "amount": 12999},
    {
        "id": "item-2",
        "sku": "STANDARD-DELIVERY",
        "product_id": "ship",
        "quantity": 1,
        "amount": 495,
    },
    {"id": "item-3", "sku": "PROMO", "product_id": "promo", "quantity": 1, "amount": -500},
]


def _event_logs():
    return select(ApiLog).where(ApiLog.kind == EVENT_JOB).order_by(ApiLog.id)


def test_secrets_are_sealed_and_never_returned(client, database, fake):
    created = client.post(
        "/api/channels.json",
        json={"name": "EP", "parentChannel": "elasticPath", "elasticPath": ep_settings(fake)},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert CLIENT_SECRET not in created.text and WEBHOOK_SECRET not in created.text
    settings = body["elasticPath"]
    assert settings["clientSecretSet"] is True and settings["webhookSecretSet"] is True
    assert settings["shippingSkus"] == ["STANDARD-DELIVERY"]
    assert settings["inventory"] == "transactions"
    assert settings["webhookPath"] == f"/webhooks/elasticpath/{body['id']}"
    with database.transaction() as session:
        store = session.scalars(select(ElasticPathStore)).one()
        assert CLIENT_SECRET not in store.client_secret_sealed
        key = database.settings.secret_key
        assert unseal(store.client_secret_sealed, key=key) == CLIENT_SECRET
        sealed_before = store.client_secret_sealed
    updated = client.put(
        f"/api/channels/{body['id']}.json",
        json={"elasticPath": {"webhookSecret": "another-secret", "shippingSkus": []}},
    )
    assert updated.status_code == 200, updated.text
    assert "another-secret" not in updated.text
    assert updated.json()["elasticPath"]["shippingSkus"] == []
    with database.transaction() as session:
        store = session.scalars(select(ElasticPathStore)).one()
        assert store.client_secret_sealed == sealed_before  # untouched by a partial update
        assert unseal(store.webhook_secret_sealed, key=key) == "another-secret"
    listed = client.get("/api/channels.json")
    assert CLIENT_SECRET not in listed.text and listed.json()[0]["elasticPath"]["clientId"]


def test_settings_are_validated(client, fake, configure):
    missing = client.post(
        "/api/channels.json",
        json={
            "name": "EP",
            "parentChannel": "elasticPath",
            "elasticPath": {"baseUrl": fake.url, "clientId": "x"},
        },
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "elasticPath.clientSecret"
    none = client.post("/api/channels.json", json={"name": "EP", "parentChannel": "elasticPath"})
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "elasticPath"
    wrong_parent = client.post(
        "/api/channels.json", json={"name": "C", "elasticPath": ep_settings(fake)}
    )
    assert wrong_parent.status_code == 422
    assert wrong_parent.json()["errors"][0]["field"] == "elasticPath"

    configure(secret_key=None)
    no_key = client.post(
        "/api/channels.json",
        json={"name": "EP", "parentChannel": "elasticPath", "elasticPath": ep_settings(fake)},
    )
    assert no_key.status_code == 422 and "DROPWIRE_SECRET_KEY" in no_key.text
    assert client.get("/api/channels.json").json() == []


def test_wrong_or_missing_secret_is_401_and_stores_nothing(shop, database):
    order = order_document("o-1", ITEMS)
    assert shop.send(delivery(order, "order.paid", "wrong"), header=None).status_code == 401
    assert shop.send(delivery(order, "order.paid", None), header=None).status_code == 401
    assert shop.send(delivery(order, "order.paid", None), header="nope").status_code == 401
    other = shop.client.post(
        f"/webhooks/elasticpath/{shop.channel_id + 99}",
        json=delivery(order, "order.paid", WEBHOOK_SECRET),
        headers={"X-Moltin-Secret-Key": WEBHOOK_SECRET},
    )
    assert other.status_code == 401
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert session.scalar(select(func.count()).select_from(ElasticPathEvent)) == 0


def test_order_paid_becomes_a_sale_per_the_order_template(shop):
    shop.product("TENT", vendor_stock=10)
    answer = shop.deliver(order_document("o-1", ITEMS), "order.paid")
    assert answer == {"queued": 1, "duplicate": False}
    sale = shop.sale("o-1")
    (line,) = sale["saleItems"]
    assert line["externalId"] == "o-1_item-1"
    assert line["sku"] == "TENT" and line["quantity"] == 2
    assert line["price"] == 129.99 and line["taxable"] is False
    (shipping,) = sale["shipping"]
    assert shipping["code"] == "shipping-fee"
    assert shipping["serviceLevel"] == "STANDARD-DELIVERY"
    assert float(sale["shipping"][0]["price"]) == 4.95
    assert sale["paymentStatus"] == "paid"
    assert sale["customer"] == {
        "firstName": "Ron",
        "lastName": "Swanson",
        "email": "ron@example.com",
    }
    assert sale["saleDefaults"]["receiverCity"] == "Newcastle"
    assert sale["saleDefaults"]["receiverZip"] == "NE1 6UF"
    assert sale["saleDefaults"]["receiverCountry"] == "GB"
    assert sale["purchases"][0]["dropshipProviderId"] == shop.vendor_id


def test_secret_in_the_body_and_legacy_formats(shop, database, fake):
    shop.product("TENT", vendor_stock=10)
    order = order_document("o-2", ITEMS[:1])
    legacy = {
        "id": "evt-legacy-1",
        "trigger": "order.created",
        "resources": json.dumps(order),
        "configuration": {"secret_key": WEBHOOK_SECRET},
    }
    assert shop.send(legacy, header=None).status_code == 200
    run_pending(database)
    assert shop.sale("o-2")["saleItems"][0]["quantity"] == 2
    # only {type, id}: the order is read from the store after the job commits (the relay reads
    # it, outside any transaction, and queues the event again with it)
    fake.add_order(order_document("o-3", ITEMS[:1], updated_at="2024-05-02T10:00:00Z"))
    small = {
        "id": "evt-legacy-2",
        "trigger": "order.updated",
        "resources": {"type": "order", "id": "o-3"},
        "configuration": {"secret_key": WEBHOOK_SECRET},
    }
    assert shop.send(small, header=None).status_code == 200
    run_pending(database)
    assert "/v2/orders/o-3" not in fake.paths("GET")  # no store call inside the job
    shop.drain()
    run_pending(database)
    assert shop.sale("o-3")["saleItems"][0]["externalId"] == "o-3_item-1"
    assert "/v2/orders/o-3" in fake.paths("GET")


def test_a_repeated_event_changes_nothing(shop, database):
    shop.product("TENT", vendor_stock=10)
    order = order_document("o-1", ITEMS[:1])
    first = shop.deliver(order, event_id="evt-1")
    again = shop.deliver(order, event_id="evt-1")
    assert first == {"queued": 1, "duplicate": False}
    assert again == {"queued": 0, "duplicate": True}
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1
        stored = session.scalars(select(Job)).one().payload
        assert WEBHOOK_SECRET not in json.dumps(stored)  # the secret is not queued


def test_out_of_order_events_keep_the_newest_state(shop, database):
    shop.product("TENT", vendor_stock=10)
    older = order_document("o-1", [{**ITEMS[0], "quantity": 1}], updated_at="2024-05-01T10:00:00Z")
    newer = order_document("o-1", [{**ITEMS[0], "quantity": 3}], updated_at="2024-05-01T11:00:00Z")
    shop.deliver(newer, "order.updated")  # the update arrives first: it creates
    assert shop.sale("o-1")["saleItems"][0]["quantity"] == 3
    shop.deliver(older, "order.created")  # stale: changes nothing
    assert shop.sale("o-1")["saleItems"][0]["quantity"] == 3
    with database.transaction() as session:
        statuses = [log.status for log in session.scalars(_event_logs())]
    assert statuses == ["success", "skipped"]


def test_cancelled_order_cancels_the_sale(shop):
    shop.product("TENT", vendor_stock=10)
    shop.deliver(order_document("o-1", ITEMS[:1]), "order.paid")
    shop.deliver(
        order_document("o-1", ITEMS[:1], status="cancelled", updated_at="2024-05-01T12:00:00Z"),
        "order.cancelled",
    )
    sale = shop.sale("o-1")
    assert sale["cancellationStatus"] == "full"
    assert shop.drain() >= 0
    assert "/v2/orders/o-1" not in shop.fake.paths("PUT")  # the store cancelled it itself


def test_an_order_with_only_shipping_is_logged_not_retried(shop, database):
    shop.deliver(order_document("o-9", [ITEMS[1]]), "order.created")
    with database.transaction() as session:
        log = session.scalars(_event_logs()).one()
        job = session.scalars(select(Job)).one()
    assert log.status == "error" and "no items to sell" in log.problem
    assert job.state == "succeeded"


# --- input guards: the same an API body gets ------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deep_json_is_a_422_with_or_without_a_secret(shop, caplog):
    deep = f'{{"id": "e1", "triggered_by": "order.paid", "x": {_nested(100_000)}}}'
    url = f"/webhooks/elasticpath/{shop.channel_id}"
    for headers in ({}, {"X-Moltin-Secret-Key": WEBHOOK_SECRET}):
        answer = shop.client.post(url, content=deep, headers=headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "body"
    wrong = shop.client.post(url, content=deep, headers={"X-Moltin-Secret-Key": "wrong"})
    assert wrong.status_code == 401  # authenticated before the body is parsed
    inner = json.dumps(
        {
            "id": "e2",
            "triggered_by": "order.paid",
            "resources": _nested(100_000),
            "configuration": {"secret_key": WEBHOOK_SECRET},
        }
    )
    answer = shop.client.post(url, content=inner)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "resources"
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


def test_control_characters_in_ids_are_a_422_naming_the_field(shop, database):
    order = order_document("ord-nul", ITEMS)
    for field, body in (
        ("id", delivery(order, "order.paid", WEBHOOK_SECRET, event_id="evt\x00one")),
        (
            "triggered_by",
            {**delivery(order, "order.paid", WEBHOOK_SECRET), "triggered_by": "o\x01"},
        ),
    ):
        answer = shop.send(body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == field
    bad_order = order_document("ord\x00x", ITEMS)
    answer = shop.send(delivery(bad_order, "order.paid", WEBHOOK_SECRET))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"].endswith("data.id")
    with database.transaction() as session:
        assert session.scalar(select(func.count(ElasticPathEvent.id))) == 0


def test_an_event_from_another_store_is_ignored_and_logged(shop, database, caplog):
    order = order_document("ord-s1", ITEMS)
    first = shop.send({**delivery(order, "order.created", WEBHOOK_SECRET), "store_id": "store-a"})
    assert first.json() == {"queued": 1, "duplicate": False}
    other = shop.send({**delivery(order, "order.paid", WEBHOOK_SECRET), "store_id": "store-b"})
    assert other.status_code == 200
    assert other.json()["queued"] == 0 and "ignored" in other.json()
    assert "names store 'store-b'" in caplog.text
    with database.transaction() as session:
        assert session.scalar(select(func.count(ElasticPathEvent.id))) == 1
    same = shop.send({**delivery(order, "order.paid", WEBHOOK_SECRET), "store_id": "store-a"})
    assert same.json() == {"queued": 1, "duplicate": False}


def test_the_channel_read_schema_declares_the_settings_block(client, fake):
    """`/openapi.json` describes what a channel read answers: its fields and each wired
    connector's block, as the connector reads it."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    read = schemas["ChannelRead"]["properties"]
    assert {"id", "name", "parentChannel", "inventorySync"} <= set(read)
    assert {"$ref": "#/components/schemas/ElasticPathRead"} in read["elasticPath"]["anyOf"]
    created = client.post(
        "/api/channels.json",
        json={"name": "EP", "parentChannel": "elasticPath", "elasticPath": ep_settings(fake)},
    )
    shown = created.json()
    assert set(shown) == set(read)
    assert set(shown["elasticPath"]) == set(schemas["ElasticPathRead"]["properties"])
