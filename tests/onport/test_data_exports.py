"""Data exports: the inventory-feed CSV, queued, listed the way Onport's CLI lists exports."""

import csv
import io

from dropwire.jobs.service import run_pending
from tests.conftest import make_token

CLI_LIST = (
    "limit=10&where[status]=complete&attributes[0]=exportType&attributes[1]=status"
    "&attributes[2]=fileUri&order[attribute]=createdAt&order[descending]=true"
)


def test_feed_export_is_queued_then_downloadable(client, anonymous, database):
    vendor = client.post("/api/dropship-providers.json", json={"name": "Acme"}).json()
    feed = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"], "name": "Stock"}
    ).json()
    for sku, quantity in (("A-1", 4), ("B-2", 0)):
        client.put(
            f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
            json={
                "externalId": sku,
                "vendorSku": sku,
                "inventoryQuantity": quantity,
                "costPrice": 3,
            },
        )
    queued = client.post(f"/api/inventory-feeds/{feed['id']}/export.json")
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "pending"
    assert queued.json()["fileUri"] is None
    assert client.get(f"/api/data-exports.json?{CLI_LIST}").json() == []
    run_pending(database)
    listed = client.get(f"/api/data-exports.json?{CLI_LIST}").json()
    assert listed == [
        {
            "exportType": "inventory_feed",
            "status": "complete",
            "fileUri": f"/api/data-exports/{queued.json()['id']}/download",
        }
    ]
    download = client.get(listed[0]["fileUri"])
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["vendor_sku"], r["inventory_quantity"], r["cost_price"]) for r in rows] == [
        ("A-1", "4", "3.00"),
        ("B-2", "0", "3.00"),
    ]
    other = client.post("/api/dropship-providers.json", json={"name": "Other"}).json()
    headers = {"Authorization": f"Bearer {make_token(database, 'o', other['id'])}"}
    assert anonymous.get(listed[0]["fileUri"], headers=headers).status_code == 404
    assert anonymous.get("/api/data-exports.json", headers=headers).json() == []
    assert (
        anonymous.post(
            f"/api/inventory-feeds/{feed['id']}/export.json", headers=headers
        ).status_code
        == 404
    )
