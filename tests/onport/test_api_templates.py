"""API templates: a column mapping over a resource, exported with a list's filters, queued,
downloaded through data exports (CSV or JSON)."""

import csv
import io

from dropwire.jobs.service import run_pending


def _sales(client):
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    vendors = []
    for name, sku in (("Acme", "TENT"), ("Other", "MAT")):
        vendor = client.post("/api/dropship-providers.json", json={"name": name}).json()
        feed = client.post(
            "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"], "name": name}
        ).json()
        client.post("/api/variants.json", json={"sku": sku, "name": sku})
        client.put(
            f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
            json={"externalId": sku, "vendorSku": sku, "inventoryQuantity": 10},
        )
        sale = client.post(
            f"/api/channels/{channel['id']}/manual-sale.json",
            json={
                "externalId": f"o-{sku}",
                "saleDefaults": {"receiverCountry": "GB", "notes": f"note {sku}"},
                "lineItems": [
                    {"externalId": 1, "quantity": 2, "price": 9, "variant": {"sku": sku}}
                ],
            },
        )
        assert sale.status_code == 200, sale.text
        vendors.append(vendor)
    return vendors


def test_template_crud_and_a_filtered_csv_export(client, database):
    acme, _ = _sales(client)
    created = client.post(
        "/api/templates.json",
        json={
            "name": "Purchases for BI",
            "resource": "purchase",
            "columns": [
                {"field": "reference", "header": "PO"},
                "dropshipProviderId",
                {"field": "receiverCountry", "header": "Country"},
                "purchaseItems",
            ],
        },
    )
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["format"] == "csv"
    assert client.get("/api/templates.json?attributes[0]=name").json() == [
        {"name": "Purchases for BI"}
    ]
    queued = client.post(
        f"/api/templates/{template['id']}/export.json",
        json={
            "where": {"dropshipProviderId": acme["id"], "inventoryStatus": {"$ne": "received"}},
            "dateFrom": "2000-01-01T00:00:00Z",
        },
    )
    assert queued.status_code == 202, queued.text
    assert (queued.json()["exportType"], queued.json()["status"]) == ("template", "pending")
    run_pending(database)
    export = client.get(f"/api/data-exports/{queued.json()['id']}.json").json()
    assert export["status"] == "complete" and export["rows"] == 1
    rows = list(csv.DictReader(io.StringIO(client.get(export["fileUri"]).text)))
    assert len(rows) == 1
    assert rows[0]["dropshipProviderId"] == str(acme["id"])
    assert rows[0]["PO"] == client.get("/api/purchases.json").json()[0]["reference"]
    assert rows[0]["Country"] == "GB"
    assert '"quantity":2' in rows[0]["purchaseItems"]  # nested values as JSON
    renamed = client.put(f"/api/templates/{template['id']}.json", json={"format": "json"})
    assert renamed.json()["format"] == "json"
    assert client.delete(f"/api/templates/{template['id']}.json").status_code == 204
    assert client.get(f"/api/data-exports/{queued.json()['id']}.json").status_code == 200


def test_json_export_of_sale_items_without_filters(client, database):
    _sales(client)
    template = client.post(
        "/api/templates.json",
        json={
            "name": "Lines",
            "resource": "sale_item",
            "format": "json",
            "columns": ["sku", "quantity"],
        },
    ).json()
    queued = client.post(f"/api/templates/{template['id']}/export.json")
    assert queued.status_code == 202, queued.text
    run_pending(database)
    export = client.get(f"/api/data-exports/{queued.json()['id']}.json").json()
    download = client.get(export["fileUri"])
    assert download.headers["content-type"].startswith("application/json")
    assert download.json() == [{"sku": "TENT", "quantity": 2}, {"sku": "MAT", "quantity": 2}]


def test_bad_columns_and_filters_are_422s_naming_them(client, vendor_client):
    bad = client.post(
        "/api/templates.json",
        json={"name": "X", "resource": "sale", "columns": ["reference", {"field": "nope"}]},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "columns[1].field"
    empty = client.post(
        "/api/templates.json", json={"name": "X", "resource": "sale", "columns": [""]}
    )
    assert empty.status_code == 422
    template = client.post(
        "/api/templates.json", json={"name": "X", "resource": "sale", "columns": ["reference"]}
    ).json()
    refused = client.post(
        f"/api/templates/{template['id']}/export.json", json={"where": {"colour": "red"}}
    )
    assert refused.status_code == 422
    assert refused.json()["title"]
    assert refused.json()["errors"][0]["field"] == "where[colour]"
    assert client.get("/api/data-exports.json").json() == []
    assert vendor_client.get("/api/templates.json").status_code == 403
    path = f"/api/templates/{template['id']}/export.json"
    assert vendor_client.post(path).status_code == 403
