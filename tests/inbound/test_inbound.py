"""The async inbound API: hash auth, envelope checks, durable queueing, per-item outcomes."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from dropwire.apilog.models import ApiLog
from dropwire.jobs import claiming
from dropwire.jobs import service as jobs
from dropwire.jobs.models import Job


@pytest.fixture
def feed(client):
    vendor = client.post(
        "/api/dropship-providers.json", json={"name": "V", "externalId": "V1"}
    ).json()
    return client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]}
    ).json()


@pytest.fixture
def custom(client):
    return client.post("/api/custom-channels.json", json={"name": "Shop"}).json()


def post_items(anonymous, path, body, hash_value, header="jetti-webhook-hash", method="POST"):
    return anonymous.request(
        method,
        path,
        content=json.dumps(body),
        headers={header: hash_value, "content-type": "application/json"},
    )


def queued_jobs(database):
    with database.session(write=False) as session:
        return session.scalar(
            select(func.count()).select_from(Job).where(Job.kind.like("inbound.%"))
        )


PARSE = "/webhooks/inventory-feeds/parse-webhooks.json"


def test_parse_webhooks_queue_then_apply(anonymous, client, database, feed):
    items = [
        {"externalId": "a", "vendorSku": "A", "inventoryQuantity": 3},
        {"externalId": "b", "vendorSku": "B", "inventoryQuantity": 1},
    ]
    response = post_items(anonymous, PARSE, items, feed["hash"])
    assert response.status_code == 200
    assert response.json() == {"queued": 2}
    assert client.get("/api/inventory-feed-variants.json").json() == []  # not applied yet
    jobs.run_pending(database)
    assert client.get("/api/inventory-feed-variants.json").headers["X-Total-Count"] == "2"
    logs = client.get("/api/api-logs.json?where[direction]=inbound-async").json()
    assert sorted((row["externalId"], row["status"]) for row in logs) == [
        ("a", "success"),
        ("b", "success"),
    ]
    assert all(row["inventoryFeedId"] == feed["id"] for row in logs)


def test_onport_hash_alias_and_unchanged_items_are_skipped(anonymous, client, database, feed):
    item = [{"externalId": "a", "inventoryQuantity": 3}]
    post_items(anonymous, PARSE, item, feed["hash"], header="onport-hash")
    post_items(anonymous, PARSE, item, feed["hash"], header="onport-hash")
    jobs.run_pending(database)
    statuses = [
        r["status"]
        for r in client.get("/api/api-logs.json?where[kind]=inbound.parse_webhook&order=id").json()
    ]
    assert statuses == ["success", "skipped"]


@pytest.mark.parametrize("presented", ["", "wrong", "x" * 40])
def test_wrong_or_missing_hash_is_401_and_queues_nothing(anonymous, database, feed, presented):
    headers = {"jetti-webhook-hash": presented} if presented else {}
    response = anonymous.post(PARSE, json=[{"externalId": "a"}], headers=headers)
    assert response.status_code == 401
    assert queued_jobs(database) == 0


def test_channel_hash_on_feed_endpoint_is_401(anonymous, database, custom):
    assert (
        post_items(anonymous, PARSE, [{"externalId": "a"}], custom["webhookHash"]).status_code
        == 401
    )
    assert queued_jobs(database) == 0


def test_feed_hash_on_channel_endpoint_is_401(anonymous, database, feed):
    path = "/webhooks/custom-channels/products.json"
    assert post_items(anonymous, path, [{"sku": "a"}], feed["hash"]).status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (json.dumps({"externalId": "a"}).encode(), 422),
        (json.dumps([{"externalId": str(i)} for i in range(51)]).encode(), 422),
        (json.dumps([]).encode(), 422),
        (b"[" + b" " * 1_100_000 + b"]", 413),
    ],
)
def test_bad_envelopes_queue_nothing(anonymous, client, database, feed, body, status):
    response = anonymous.post(
        PARSE,
        content=body,
        headers={"jetti-webhook-hash": feed["hash"], "content-type": "application/json"},
    )
    assert response.status_code == status
    assert "message" in response.json()
    assert queued_jobs(database) == 0
    if status == 422 and body.startswith(b"[{"):
        assert "50" in response.json()["message"]
    logged = client.get("/api/api-logs.json?where[direction]=inbound-async").json()
    assert logged[0]["httpStatus"] == status


def test_invalid_items_fail_alone_into_the_log(anonymous, client, database, feed):
    items = [
        {"externalId": "ok", "inventoryQuantity": 1},
        {"externalId": "neg", "inventoryQuantity": -4},
        {"inventoryQuantity": 2},
        "not an object",
    ]
    assert post_items(anonymous, PARSE, items, feed["hash"]).json() == {"queued": 4}
    jobs.run_pending(database)
    logs = client.get("/api/api-logs.json?where[kind]=inbound.parse_webhook&order=id").json()
    assert [row["status"] for row in logs] == ["success", "error", "error", "error"]
    assert "inventoryQuantity" in logs[1]["problem"]
    assert "externalId" in logs[2]["problem"]
    assert logs[1]["payload"] == {"externalId": "neg", "inventoryQuantity": -4}
    assert client.get("/api/inventory-feed-variants.json").headers["X-Total-Count"] == "1"
    with database.session(write=False) as session:
        assert (
            session.scalar(select(func.count()).select_from(Job).where(Job.state != "succeeded"))
            == 0
        )


def test_new_records_go_before_updates_and_updates_keep_their_order(
    anonymous, client, database, feed
):
    """A feed's requests are one batch job each, applied in the order accepted; a request that
    creates records goes before other feeds' pending updates."""
    vendor = client.post("/api/dropship-providers.json", json={"name": "W"}).json()
    other = client.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
    other = other.json()
    post_items(anonymous, PARSE, [{"externalId": "old", "inventoryQuantity": 1}], feed["hash"])
    jobs.run_pending(database)
    post_items(
        anonymous,
        PARSE,
        [
            {"externalId": "old", "inventoryQuantity": 2},
            {"externalId": "old", "inventoryQuantity": 3},
        ],
        feed["hash"],
    )
    post_items(anonymous, PARSE, [{"externalId": "new", "inventoryQuantity": 9}], other["hash"])
    post_items(anonymous, PARSE, [{"externalId": "old", "inventoryQuantity": 4}], feed["hash"])
    order = []
    while ids := claiming.claim(database, "t", limit=1):
        with database.session(write=False) as session:
            order.append(
                [
                    (i["externalId"], i["inventoryQuantity"])
                    for i in session.get(Job, ids[0]).payload["items"]
                ]
            )
        jobs.run(database, ids[0], "t")
    assert order == [[("new", 9)], [("old", 2), ("old", 3)], [("old", 4)]]
    old = client.get(
        f"/api/inventory-feed-variants.json?where[externalId]=old&where[inventoryFeedId]={feed['id']}"
    ).json()[0]
    assert old["inventoryQuantity"] == 4


def test_product_and_acknowledge_batches(anonymous, client, database, feed, custom):
    post_items(
        anonymous,
        PARSE,
        [{"externalId": "x", "vendorSku": "VX", "inventoryQuantity": 4}],
        feed["hash"],
    )
    post_items(
        anonymous,
        "/webhooks/custom-channels/products.json",
        [{"sku": "SKU-X", "name": "X"}],
        custom["webhookHash"],
    )
    jobs.run_pending(database)
    link = [
        {"sku": "SKU-X", "vendorSkus": [{"vendorSku": "VX", "dropshipProviderExternalId": "V1"}]}
    ]
    path = "/webhooks/custom-channels/acknowledge-inventory-feed-variant-batches.json"
    assert post_items(anonymous, path, link, custom["webhookHash"], method="PUT").status_code == 200
    jobs.run_pending(database)
    variant = client.get("/api/variants.json?where[sku]=SKU-X").json()[0]
    assert variant["inventoryAvailable"] == 4
    path = "/webhooks/custom-channels/disconnect-inventory-feed-variant-batches.json"
    post_items(anonymous, path, link, custom["webhookHash"], method="PUT")
    jobs.run_pending(database)
    assert client.get(f"/api/variants/{variant['id']}.json").json()["inventoryAvailable"] == 0


def test_concurrent_requests_every_accepted_item_has_an_outcome(anonymous, client, database, feed):
    def send(n):
        items = [
            {"externalId": f"i{n}-{k}", "inventoryQuantity": k if k != 2 else -1} for k in range(4)
        ]
        return post_items(anonymous, PARSE, items, feed["hash"]).json()["queued"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        accepted = sum(pool.map(send, range(50)))
    jobs.run_pending(database)
    with database.session(write=False) as session:
        outcomes = session.scalar(
            select(func.count()).select_from(ApiLog).where(ApiLog.kind == "inbound.parse_webhook")
        )
        errors = session.scalar(
            select(func.count())
            .select_from(ApiLog)
            .where(ApiLog.kind == "inbound.parse_webhook", ApiLog.status == "error")
        )
    assert accepted == 200
    assert outcomes == accepted
    assert errors == 50
    assert client.get("/api/inventory-feed-variants.json").headers["X-Total-Count"] == "150"


def test_the_in_process_worker_applies_items_within_seconds(database, settings, client, feed):
    import time

    from fastapi.testclient import TestClient

    from dropwire.app import create_app

    with TestClient(
        create_app(database, settings.model_copy(update={"worker_in_process": True}))
    ) as served:
        response = served.post(
            PARSE,
            json=[{"externalId": "live", "inventoryQuantity": 5}],
            headers={"jetti-webhook-hash": feed["hash"]},
        )
        assert response.status_code == 200
        deadline = time.monotonic() + 10
        while client.get("/api/inventory-feed-variants.json?where[externalId]=live").json() == []:
            assert time.monotonic() < deadline, "the in-process worker did not apply the item"
            time.sleep(0.05)


def test_a_feeds_queued_requests_apply_together_in_order(anonymous, client, database, feed):
    """One claim takes a feed's queued requests in order and applies their items as one batch;
    every item is still logged on its own."""
    for quantity in (1, 2, 3):
        items = [
            {"externalId": "x", "inventoryQuantity": quantity},
            {"externalId": f"y{quantity}", "inventoryQuantity": quantity},
        ]
        post_items(anonymous, PARSE, items, feed["hash"])
    claimed = claiming.claim_batch(database, "t", 10)
    assert [[i["inventoryQuantity"] for i in job.payload["items"]] for job in claimed] == [
        [1, 1],
        [2, 2],
        [3, 3],
    ]
    jobs.run_batch(database, "t", claimed)
    x = client.get(
        f"/api/inventory-feed-variants.json?where[externalId]=x&where[inventoryFeedId]={feed['id']}"
    ).json()[0]
    assert x["inventoryQuantity"] == 3
    logs = client.get("/api/api-logs.json?where[direction]=inbound-async").json()
    assert sorted((row["externalId"], row["status"]) for row in logs) == [
        ("x", "success"),
        ("x", "success"),
        ("x", "success"),
        ("y1", "success"),
        ("y2", "success"),
        ("y3", "success"),
    ]
