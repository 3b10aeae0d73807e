"""Data imports: CSV of cost prices and of variants, checked, queued, applied row by row; a
refused row changes nothing and is in the downloadable report."""

import csv
import io

from dropwire.jobs.service import run_pending
from tests.conftest import make_token


def _feed(client, name="Acme"):
    vendor = client.post("/api/dropship-providers.json", json={"name": name}).json()
    feed = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"], "name": name}
    ).json()
    for sku in ("A-1", "B-2"):
        client.put(
            f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
            json={"externalId": sku, "vendorSku": sku, "inventoryQuantity": 1, "costPrice": 1},
        )
    return vendor, feed


def _costs(client, feed_id):
    items = client.get(f"/api/inventory-feed-variants.json?where[inventoryFeedId]={feed_id}")
    return {i["vendorSku"]: i["costPrice"] for i in items.json()}


def test_cost_prices_apply_good_rows_and_report_the_rest(client, database):
    _, feed = _feed(client)
    content = "Vendor SKU,Cost Price\nA-1,4.50\nB-2,lots\nZZZ,3\n\nb-2,-1\n"
    queued = client.post(
        "/api/data-imports.json",
        json={"importType": "cost_prices", "inventoryFeedId": feed["id"], "content": content},
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "pending"
    assert _costs(client, feed["id"]) == {"A-1": 1.0, "B-2": 1.0}
    run_pending(database)
    done = client.get(f"/api/data-imports/{queued.json()['id']}.json").json()
    assert (done["status"], done["rowsRead"], done["rowsApplied"], done["rowsFailed"]) == (
        "partial",
        4,
        1,
        3,
    )
    assert [(e["row"], e["field"]) for e in done["errors"]] == [
        (3, "cost_price"),
        (4, "vendor_sku"),
        (6, "cost_price"),
    ]
    assert _costs(client, feed["id"]) == {"A-1": 4.5, "B-2": 1.0}
    report = client.get(done["errorReportUri"])
    assert report.status_code == 200
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert [(r["Vendor SKU"], r["error"].split(":")[0]) for r in rows] == [
        ("B-2", "cost_price"),
        ("ZZZ", "vendor_sku"),
        ("b-2", "cost_price"),
    ]
    listed = client.get("/api/data-imports.json?attributes[0]=importType&attributes[1]=status")
    assert listed.json() == [{"importType": "cost_prices", "status": "partial"}]


def test_variants_are_created_or_updated_by_sku_and_a_refused_row_changes_nothing(client, database):
    client.post("/api/variants.json", json={"sku": "OLD", "name": "Old", "price": 5})
    content = (
        "sku,name,price,grams,tags\n"
        "OLD,,7.25,,\n"
        'NEW,New thing,3,120,"a, b"\n'
        "BAD,Bad,2,heavy,\n"
        "NONAME,,4,,\n"
    )
    queued = client.post(
        "/api/data-imports.json", json={"importType": "variants", "content": content}
    )
    assert queued.status_code == 202, queued.text
    run_pending(database)
    done = client.get(f"/api/data-imports/{queued.json()['id']}.json").json()
    assert done["status"] == "partial"
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(4, "grams"), (5, "name")]
    variants = {v["sku"]: v for v in client.get("/api/variants.json").json()}
    assert set(variants) == {"OLD", "NEW"}
    assert (variants["OLD"]["name"], variants["OLD"]["price"]) == ("Old", 7.25)
    assert (variants["NEW"]["grams"], variants["NEW"]["tags"]) == (120, ["a", "b"])


def test_the_header_is_checked_on_arrival(client):
    _, feed = _feed(client)
    for body, field in (
        ({"importType": "cost_prices", "content": "vendor_sku,cost_price\n"}, "body"),
        (
            {"importType": "cost_prices", "inventoryFeedId": feed["id"], "content": "sku\nA\n"},
            "content",
        ),
        ({"importType": "variants", "content": "sku,colour\nA,red\n"}, "content"),
        ({"importType": "stock", "content": "sku\n"}, "importType"),
    ):
        refused = client.post("/api/data-imports.json", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["title"]
        assert field in {e["field"] for e in refused.json()["errors"]}, refused.json()
    assert client.get("/api/data-imports.json").json() == []


def test_vendor_tokens_import_cost_prices_of_their_own_feeds_only(client, anonymous, database):
    vendor, feed = _feed(client)
    _, other_feed = _feed(client, "Other")
    headers = {"Authorization": f"Bearer {make_token(database, 'v', vendor['id'])}"}
    body = {"importType": "cost_prices", "content": "vendor_sku,cost_price\nA-1,2\n"}
    own = anonymous.post(
        "/api/data-imports.json", json=body | {"inventoryFeedId": feed["id"]}, headers=headers
    )
    assert own.status_code == 202, own.text
    theirs = anonymous.post(
        "/api/data-imports.json", json=body | {"inventoryFeedId": other_feed["id"]}, headers=headers
    )
    assert theirs.status_code == 404
    variants = anonymous.post(
        "/api/data-imports.json",
        json={"importType": "variants", "content": "sku\nX\n"},
        headers=headers,
    )
    assert variants.status_code == 403
    admin_import = client.post(
        "/api/data-imports.json", json=body | {"inventoryFeedId": other_feed["id"]}
    ).json()
    run_pending(database)
    listed = anonymous.get("/api/data-imports.json", headers=headers).json()
    assert [i["id"] for i in listed] == [own.json()["id"]]
    path = f"/api/data-imports/{admin_import['id']}.json"
    assert anonymous.get(path, headers=headers).status_code == 404


def test_a_long_cell_refuses_its_row_only(client, database):
    content = "sku,name\nA,Alpha\nB," + "x" * 140_000 + "\nC,Gamma\n"
    queued = client.post(
        "/api/data-imports.json", json={"importType": "variants", "content": content}
    )
    assert queued.status_code == 202, queued.text
    run_pending(database)
    done = client.get(f"/api/data-imports/{queued.json()['id']}.json").json()
    assert (done["status"], done["rowsApplied"], done["rowsFailed"]) == ("partial", 2, 1)
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(3, "name")]
    assert [v["sku"] for v in client.get("/api/variants.json").json()] == ["A", "C"]
