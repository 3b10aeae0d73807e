from dataclasses import dataclass, field

import pytest


@dataclass
class World:
    client: object
    channel_id: int
    vendors: dict[str, dict] = field(default_factory=dict)
    feeds: dict[str, dict] = field(default_factory=dict)
    variants: dict[str, dict] = field(default_factory=dict)

    def stock(self, vendor: str, sku: str, quantity: int, cost: float | None = None) -> None:
        body = {"externalId": f"{vendor}-{sku}", "vendorSku": sku, "inventoryQuantity": quantity}
        if cost is not None:
            body["costPrice"] = cost
        response = self.client.put(
            f"/api/inventory-feeds/{self.feeds[vendor]['id']}/parse-webhook.json", json=body
        )
        assert response.status_code == 200, response.text

    def variant(self, sku: str, policy: str = "track") -> dict:
        self.variants[sku] = self.client.post(
            "/api/variants.json",
            json={"sku": sku, "name": sku, "inventoryPolicy": policy, "costPrice": 10},
        ).json()
        return self.variants[sku]

    def post(
        self, external_id: str, lines: list[tuple[str, str, int]], country: str = "US", **defaults
    ) -> object:
        body = {
            "externalId": external_id,
            "saleDefaults": {"receiverCountry": country, **defaults},
            "customer": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"},
            "lineItems": [
                {
                    "externalId": line_id,
                    "name": sku,
                    "quantity": quantity,
                    "price": 20,
                    "variant": {"sku": sku},
                }
                for line_id, sku, quantity in lines
            ],
            "shipping": [{"code": "std", "name": "Standard", "price": 5}],
        }
        return self.client.post(f"/api/channels/{self.channel_id}/manual-sale.json", json=body)


@pytest.fixture
def world(client):
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    w = World(client=client, channel_id=channel["id"])
    for name, priority, splitting in (
        ("north", 10, "group"),
        ("baltic", 20, "group"),
        ("kiln", 30, "splitQuantity"),
    ):
        vendor = client.post(
            "/api/dropship-providers.json",
            json={
                "name": name,
                "externalId": name,
                "priority": priority,
                "orderSplitting": splitting,
            },
        ).json()
        w.vendors[name] = vendor
        w.feeds[name] = client.post(
            "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]}
        ).json()
    return w
