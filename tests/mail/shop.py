"""A store selling lines of two vendors: the one under test receives its orders by email."""

from dataclasses import dataclass
from io import BytesIO
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader


@dataclass
class Shop:
    client: TestClient
    channel_id: int
    vendor: dict[str, Any]
    other: dict[str, Any]

    def sell(self, external_id: str, quantities: dict[str, int]) -> dict[str, Any]:
        """A sale (created or updated) with `quantities` by SKU."""
        response = self.client.post(
            f"/api/channels/{self.channel_id}/manual-sale.json",
            json={
                "externalId": external_id,
                "saleDefaults": {
                    "receiverFirstName": "Ada",
                    "receiverLastName": "Lovelace",
                    "receiverAddress1": "12 Analytical Row",
                    "receiverCity": "London",
                    "receiverZip": "N1 9GU",
                    "receiverCountry": "GB",
                    "billingAddress1": "Billing Road 9",
                },
                "customer": {"firstName": "Ada", "email": "ada@example.com"},
                "lineItems": [
                    {
                        "externalId": sku,
                        "name": f"Item {sku}",
                        "quantity": quantity,
                        "price": 99.5,
                        "variant": {"sku": sku},
                    }
                    for sku, quantity in quantities.items()
                ],
            },
        )
        assert response.status_code in (200, 201), response.text
        sale: dict[str, Any] = response.json()
        return sale

    def purchase_of(self, sale: dict[str, Any], vendor: dict[str, Any]) -> dict[str, Any]:
        (purchase,) = [p for p in sale["purchases"] if p["dropshipProviderId"] == vendor["id"]]
        return purchase


VENDOR_SKUS = {"MUG-RED": "4.50", "MUG-BLUE": "5.25"}
OTHER_SKU = "LAMP-1"


def open_shop(client: TestClient, **vendor_fields: Any) -> Shop:
    channel = client.post("/api/custom-channels.json", json={"name": "Shop"}).json()
    fields = {"email": "orders@vendor.example", "notificationEmails": ["boss@vendor.example"]}
    vendor = client.post(
        "/api/dropship-providers.json", json={"name": "Mugs & Co", **fields, **vendor_fields}
    ).json()
    other = client.post("/api/dropship-providers.json", json={"name": "Lamps Ltd"}).json()
    stock = [(vendor, sku, cost) for sku, cost in VENDOR_SKUS.items()]
    stock.append((other, OTHER_SKU, "20.00"))
    feeds: dict[int, int] = {}
    for owner, sku, cost in stock:
        if owner["id"] not in feeds:
            feed = client.post(
                "/api/inventory-feeds.json", json={"dropshipProviderId": owner["id"]}
            )
            feeds[owner["id"]] = feed.json()["id"]
        client.post("/api/variants.json", json={"sku": sku, "name": f"Item {sku}"})
        client.put(
            f"/api/inventory-feeds/{feeds[owner['id']]}/parse-webhook.json",
            json={"externalId": sku, "vendorSku": sku, "inventoryQuantity": 50, "costPrice": cost},
        )
    client.post(
        f"/api/channels/{channel['channelId']}/import-connector-variant-batches.json",
        json=[{"sku": sku, "externalId": sku} for sku in [*VENDOR_SKUS, OTHER_SKU]],
    )
    return Shop(client, channel["channelId"], vendor, other)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)
