from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from bench.fake_elasticpath import CLIENT_ID, CLIENT_SECRET, FakeStore, delivery

from dropwire.core.db import Database
from dropwire.core.settings import Settings
from dropwire.delivery.relay import Relay
from dropwire.jobs.service import run_pending
from tests.delivery.conftest import drain
from tests.elasticpath import spec

WEBHOOK_SECRET = "hook-secret-123"


@pytest.fixture(autouse=True)
def secret_key(configure: Callable[..., Settings]) -> None:
    """The sealing key, and loopback allowed (the fake store) for calls made with the
    settings' policy (reading an order, `dropwire elasticpath setup`)."""
    configure(secret_key="test-key-0123456789abcdef", allow_private_targets=True)


@pytest.fixture
def fake() -> Iterator[FakeStore]:
    """The strict fake store, refusing (400) any request Elastic Path's published OpenAPI
    descriptions don't allow; at the end, no request the test made may have been one."""
    found: list[str] = []

    def against_the_spec(method: str, path: str, body: Any, headers: Any) -> str | None:
        multi_location = headers.get(spec.MLI_HEADER) == "true"
        problems = spec.problems(method, path, body, multi_location)
        found.extend(problems)
        return "; ".join(problems) or None

    store = FakeStore(check_request=against_the_spec)
    store.start()
    yield store
    store.stop()
    assert found == [], "requests Elastic Path's OpenAPI descriptions don't allow"


@pytest.fixture
def relay(database: Database) -> Iterator[Relay]:
    sender = Relay(database, allow_private=True)
    yield sender
    sender.close()


def ep_settings(fake: FakeStore, **extra: Any) -> dict[str, Any]:
    return {
        "baseUrl": fake.url,
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        "webhookSecret": WEBHOOK_SECRET,
        "shippingSkus": ["STANDARD-DELIVERY"],
        **extra,
    }


@dataclass
class Shop:
    """An Elastic Path channel, one vendor with a feed, and the products both know."""

    client: Any
    database: Database
    fake: FakeStore
    relay: Relay
    channel_id: int
    vendor_id: int
    feed_id: int
    products: dict[str, str] = field(default_factory=dict)  # sku -> store product id

    def product(self, sku: str, vendor_stock: int, store_stock: int | None = None) -> str:
        """A variant the vendor stocks and the store lists (connected by its product id)."""
        product_id = f"prod-{sku.lower()}"
        self.products[sku] = product_id
        response = self.client.post(
            f"/api/channels/{self.channel_id}/import-connector-variant-batches.json",
            json=[{"sku": sku, "name": sku, "externalId": product_id}],
        )
        assert response.status_code == 200, response.text
        self.set_vendor_stock(sku, vendor_stock)
        if store_stock is not None:
            self.fake.stock[product_id] = {
                "total": store_stock,
                "available": store_stock,
                "allocated": 0,
            }
        return product_id

    def set_vendor_stock(self, sku: str, quantity: int) -> None:
        response = self.client.put(
            f"/api/inventory-feeds/{self.feed_id}/parse-webhook.json",
            json={"externalId": f"v-{sku}", "vendorSku": sku, "inventoryQuantity": quantity},
        )
        assert response.status_code == 200, response.text

    def send(self, body: dict[str, Any], header: str | None = WEBHOOK_SECRET) -> Any:
        headers = {"X-Moltin-Secret-Key": header} if header else {}
        return self.client.post(
            f"/webhooks/elasticpath/{self.channel_id}", json=body, headers=headers
        )

    def deliver(self, order: dict[str, Any], trigger: str = "order.paid", **kw: Any) -> Any:
        response = self.send(delivery(order, trigger, WEBHOOK_SECRET, **kw))
        assert response.status_code == 200, response.text
        run_pending(self.database)
        return response.json()

    def drain(self) -> int:
        return drain(self.relay, self.database)

    def sale(self, order_id: str) -> dict[str, Any]:
        sales = self.client.get("/api/sales.json", params={"where[externalId]": order_id}).json()
        assert len(sales) == 1, sales
        return self.client.get(f"/api/sales/{sales[0]['id']}.json").json()


@pytest.fixture
def shop(client: Any, database: Database, fake: FakeStore, relay: Relay) -> Shop:
    channel = client.post(
        "/api/channels.json",
        json={"name": "EP", "parentChannel": "elasticPath", "elasticPath": ep_settings(fake)},
    )
    assert channel.status_code == 201, channel.text
    vendor = client.post("/api/dropship-providers.json", json={"name": "Vendor"}).json()
    feed = client.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
    return Shop(
        client, database, fake, relay, channel.json()["id"], vendor["id"], feed.json()["id"]
    )
