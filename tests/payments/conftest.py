from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.payments.fake_stripe import FakeStripe, FakeStripeServer


@dataclass
class Market:
    """A channel, vendors with feeds, and helpers to sell, ship and return over the API."""

    client: Any
    channel_id: int
    vendors: dict[str, dict] = field(default_factory=dict)
    feeds: dict[str, dict] = field(default_factory=dict)
    sales: int = 0
    variants: dict[str, dict] = field(default_factory=dict)

    def variant(self, sku: str, **fields: Any) -> dict:
        response = self.client.post("/api/variants.json", json={"sku": sku, "name": sku, **fields})
        assert response.status_code == 201, response.text
        self.variants[sku] = response.json()
        return self.variants[sku]

    def vendor(self, name: str, **settings: Any) -> dict:
        vendor = self.client.post("/api/dropship-providers.json", json={"name": name, **settings})
        assert vendor.status_code == 201, vendor.text
        self.vendors[name] = vendor.json()
        self.feeds[name] = self.client.post(
            "/api/inventory-feeds.json", json={"dropshipProviderId": vendor.json()["id"]}
        ).json()
        return self.vendors[name]

    def stock(self, vendor: str, sku: str, quantity: int = 100, cost: float | None = None) -> None:
        if sku not in self.variants:
            self.variant(sku)
        body: dict[str, Any] = {
            "externalId": f"{vendor}-{sku}",
            "vendorSku": sku,
            "inventoryQuantity": quantity,
        }
        if cost is not None:
            body["costPrice"] = cost
        response = self.client.put(
            f"/api/inventory-feeds/{self.feeds[vendor]['id']}/parse-webhook.json", json=body
        )
        assert response.status_code == 200, response.text

    def sell(
        self,
        lines: list[tuple[str, int, float]],
        *,
        shipping: float = 0,
        external_id: str | None = None,
        **extra: Any,
    ) -> dict:
        self.sales += 1
        body = {
            "externalId": external_id or f"S{self.sales}",
            "lineItems": [
                {
                    "externalId": f"L{index}",
                    "quantity": quantity,
                    "price": price,
                    "variant": {"sku": sku},
                }
                for index, (sku, quantity, price) in enumerate(lines)
            ],
            "shipping": [{"code": "std", "price": shipping}] if shipping else [],
            **extra,
        }
        response = self.client.post(f"/api/channels/{self.channel_id}/manual-sale.json", json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def ship(self, purchase_id: int, items: list[tuple[int, int]] | None = None) -> dict:
        body: dict[str, Any] = {"trackingNumber": "T1"}
        if items is not None:
            body["purchaseItems"] = [{"id": i, "quantity": q} for i, q in items]
        response = self.client.post(f"/api/purchases/{purchase_id}/ship.json", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def give_back(self, sale_id: int, sale_item_id: int, quantity: int) -> dict:
        response = self.client.post(
            f"/api/sales/{sale_id}/returns.json",
            json={"items": [{"saleItemId": sale_item_id, "quantity": quantity}]},
        )
        assert response.status_code == 201, response.text
        return response.json()

    def invoices(self, **where: Any) -> list[dict]:
        params = {f"where[{k}]": v for k, v in where.items()}
        response = self.client.get("/api/purchase-invoices.json", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def balance(self, vendor: str) -> list[dict]:
        response = self.client.get(
            f"/api/dropship-providers/{self.vendors[vendor]['id']}/balance.json"
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def market(client: Any) -> Market:
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    return Market(client=client, channel_id=channel["id"])


@pytest.fixture
def fake_stripe(configure: Any) -> Iterator[FakeStripe]:
    """The strict Stripe stand-in on a local port, with Dropwire configured to call it."""
    stripe = FakeStripe(balance={"usd": 10_000_000, "eur": 10_000_000})
    with FakeStripeServer(stripe) as base:
        configure(stripe_api_key=stripe.api_key, stripe_api_base=base)
        yield stripe
