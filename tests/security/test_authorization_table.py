"""Every operation of the OpenAPI document, called with one vendor's token against a database
holding two vendors: no answer carries the other vendor's data and nothing of it changes.

The operations come from `/openapi.json`, so an endpoint added later is probed without anyone
remembering to add it here. Path ids point at the other vendor's records (and at the caller's
own), bodies are built from the request schemas and aim every `...Id` at the other vendor.
"""

import itertools
import re
from typing import Any

import pytest
from sqlalchemy import text

from dropwire.core.db import Database
from dropwire.jobs.service import run_pending
from tests.conftest import make_token

MARKER = "xq9other"  # in every text that belongs to the other vendor


def _seed(client) -> dict[str, Any]:
    def ok(response, status=(200, 201)):
        assert response.status_code in status, response.text
        return response.json()

    store = ok(
        client.post(
            "/api/custom-channels.json",
            json={"name": "Store", "inventoryEndpoint": "http://127.0.0.1:9/inventory"},
        )
    )
    channel_id = store["channelId"]
    own = ok(client.post("/api/dropship-providers.json", json={"name": "Own vendor"}))
    other = ok(
        client.post(
            "/api/dropship-providers.json",
            json={
                "name": f"{MARKER} vendor",
                "externalId": f"{MARKER.upper()}-EXT",
                "email": f"{MARKER}@example.com",
                "webhookSecret": f"{MARKER}-secret",
                "orderEndpoint": f"http://127.0.0.1:9/{MARKER}/orders",
                "purchaseOrderDelivery": "webhook",
                "countries": ["DE"],
                "countryFilter": "include",
            },
        )
    )
    own_feed = ok(
        client.post(
            "/api/inventory-feeds.json",
            json={"dropshipProviderId": own["id"], "automaticallyConnect": False},
        )
    )
    other_feed = ok(
        client.post(
            "/api/inventory-feeds.json",
            json={"dropshipProviderId": other["id"], "name": f"{MARKER} feed"},
        )
    )
    ok(
        client.post(
            f"/api/channels/{channel_id}/import-connector-variant-batches.json",
            json=[
                {"sku": "OWN-SKU", "name": "Own thing", "externalId": "e-own"},
                {"sku": f"{MARKER.upper()}-SKU", "name": f"{MARKER} thing", "externalId": "e-oth"},
            ],
        )
    )
    own_item = ok(
        client.put(
            f"/api/inventory-feeds/{own_feed['id']}/parse-webhook.json",
            json={"externalId": "own-1", "vendorSku": "OWN-V", "inventoryQuantity": 10},
        )
    )
    free_item = ok(
        client.put(
            f"/api/inventory-feeds/{own_feed['id']}/parse-webhook.json",
            json={"externalId": "own-2", "vendorSku": "OWN-FREE", "inventoryQuantity": 3},
        )
    )
    variants = {v["sku"]: v["id"] for v in ok(client.get("/api/variants.json"))}
    ok(
        client.put(
            f"/api/inventory-feed-variants/{own_item['id']}.json",
            json={"variantId": variants["OWN-SKU"]},
        )
    )
    other_item = ok(
        client.put(
            f"/api/inventory-feeds/{other_feed['id']}/parse-webhook.json",
            json={
                "externalId": f"{MARKER}-1",
                "vendorSku": f"{MARKER.upper()}-SKU",
                "name": f"{MARKER} item",
                "inventoryQuantity": 10,
                "costPrice": 7,
            },
        )
    )
    sale = ok(
        client.post(
            f"/api/channels/{channel_id}/manual-sale.json",
            json={
                "externalId": "order-1",
                "saleDefaults": {"receiverCountry": "DE"},
                "lineItems": [
                    {"externalId": "l-own", "quantity": 2, "variant": {"sku": "OWN-SKU"}},
                    {
                        "externalId": f"l-{MARKER}",
                        "name": f"{MARKER} line",
                        "quantity": 2,
                        "variant": {"sku": f"{MARKER.upper()}-SKU"},
                    },
                ],
            },
        )
    )
    purchases = {p["dropshipProviderId"]: p for p in sale["purchases"]}
    other_purchase = purchases[other["id"]]
    fulfillment = ok(
        client.post(
            f"/api/purchases/{other_purchase['id']}/ship.json",
            json={
                "trackingNumber": f"{MARKER.upper()}-TRACK",
                "purchaseItems": [{"id": other_purchase["purchaseItems"][0]["id"], "quantity": 1}],
            },
        )
    )
    return {
        "own": own,
        "other": other,
        "own_feed": own_feed,
        "other_feed": other_feed,
        "own_item": own_item,
        "free_item": free_item,
        "other_item": other_item,
        "sale": sale,
        "own_purchase": purchases[own["id"]],
        "other_purchase": other_purchase,
        "other_fulfillment": fulfillment,
        "channel_id": channel_id,
        "custom_channel_id": store["id"],
        "other_variant": variants[f"{MARKER.upper()}-SKU"],
        "own_variant": variants["OWN-SKU"],
    }


def _ids(world: dict[str, Any]) -> dict[str, list[int]]:
    """Path parameter -> ids to try: the other vendor's record first, then the caller's own."""
    return {
        "vendor_id": [world["other"]["id"], world["own"]["id"]],
        "feed_id": [world["other_feed"]["id"], world["own_feed"]["id"]],
        "feed_variant_id": [
            world["other_item"]["id"],
            world["own_item"]["id"],
            world["free_item"]["id"],
        ],
        "purchase_id": [world["other_purchase"]["id"], world["own_purchase"]["id"]],
        "fulfillment_id": [world["other_fulfillment"]["id"]],
        "sale_id": [world["sale"]["id"]],
        "channel_id": [world["channel_id"]],
        "custom_channel_id": [world["custom_channel_id"]],
        "variant_id": [world["other_variant"]],
    }


def _body_ids(world: dict[str, Any]) -> dict[str, int]:
    """Body fields that name a record, aimed at the other vendor's."""
    return {
        "dropshipProviderId": world["other"]["id"],
        "inventoryFeedId": world["other_feed"]["id"],
        "variantId": world["other_variant"],
        "purchaseId": world["other_purchase"]["id"],
        "saleId": world["sale"]["id"],
        "channelId": world["channel_id"],
        "id": world["other_purchase"]["purchaseItems"][0]["id"],
    }


class BodyMaker:
    """Instances of an OpenAPI schema: `full` sets every property, else only the required ones
    and every id (which is where the other vendor's records are named)."""

    def __init__(self, document: dict[str, Any], ids: dict[str, int]) -> None:
        self.components = document.get("components", {}).get("schemas", {})
        self.ids = ids

    def make(self, schema: dict[str, Any], name: str = "", full: bool = False) -> Any:
        if "$ref" in schema:
            return self.make(self.components[schema["$ref"].rsplit("/", 1)[1]], name, full)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                options = [s for s in schema[key] if s.get("type") != "null"]
                return self.make(options[0], name, full) if options else None
        if "enum" in schema:
            return schema["enum"][-1]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            required = set(schema.get("required", []))
            return {
                prop: self.make(sub, prop, full)
                for prop, sub in schema.get("properties", {}).items()
                if full or prop in required or prop in self.ids or prop.endswith("Id")
            }
        if kind == "array":
            return [self.make(schema.get("items", {}), name, full)]
        if kind == "integer":
            return self.ids.get(name, max(1, int(schema.get("minimum", 1))))
        if kind == "number":
            return 1
        if kind == "boolean":
            return True
        if kind == "string":
            pattern = schema.get("pattern")
            choices = re.fullmatch(r"\^\(([\w|]+)\)\$", pattern or "")
            if choices:
                return choices.group(1).split("|")[0]
            if pattern and re.fullmatch(pattern, "DE"):
                return "DE"
            if schema.get("format") == "date-time":
                return "2024-01-01T00:00:00Z"
            if "Endpoint" in name or "Url" in name or "Location" in name:
                return "https://hooks.example.com/probe"
            return "probe"
        return "probe"


PROTECTED = (
    # the other vendor's own records
    ("dropship_providers", "id = :vendor"),
    # what steers routing and matching, which is the merchant's to set for every vendor
    (
        "(SELECT id, status, priority, countries, country_filter, order_splitting, external_id"
        " FROM dropship_providers) AS routing",
        "1 = 1",
    ),
    (
        "(SELECT id, dropship_provider_id, automatically_connect, automatically_connect_by_barcode,"
        " case_insensitive_skus, allocation_buffer, enabled FROM inventory_feeds) AS matching",
        "1 = 1",
    ),
    (
        "(SELECT id, variant_id, inventory_quantity_override, manual_inventory_quantity,"
        " allocation_buffer_override FROM inventory_feed_variants) AS overrides",
        "variant_id IS NOT NULL OR inventory_quantity_override <> 'none'"
        " OR manual_inventory_quantity IS NOT NULL OR allocation_buffer_override IS NOT NULL",
    ),
    ("inventory_feeds", "dropship_provider_id = :vendor"),
    (
        "inventory_feed_variants",
        "inventory_feed_id IN (SELECT id FROM inventory_feeds"
        " WHERE dropship_provider_id = :vendor)",
    ),
    ("purchases", "dropship_provider_id = :vendor"),
    (
        "purchase_items",
        "purchase_id IN (SELECT id FROM purchases WHERE dropship_provider_id = :vendor)",
    ),
    (
        "fulfillments",
        "purchase_id IN (SELECT id FROM purchases WHERE dropship_provider_id = :vendor)",
    ),
    ("api_users", "dropship_provider_id = :vendor"),
    (
        "inventory_levels",
        "location_id IN (SELECT l.id FROM inventory_locations l JOIN"
        " inventory_feeds f ON f.id = l.inventory_feed_id WHERE f.dropship_provider_id = :vendor)",
    ),
    (
        "inventory_allocations",
        "location_id IN (SELECT l.id FROM inventory_locations l JOIN"
        " inventory_feeds f ON f.id = l.inventory_feed_id WHERE f.dropship_provider_id = :vendor)",
    ),
    ("webhook_endpoints", "owner_type = 'vendor' AND owner_id = :vendor"),
    # who else supplies the other vendor's variants (taking over its orders)
    (
        "inventory_feed_variants",
        "variant_id IN (SELECT variant_id FROM inventory_feed_variants"
        " fv JOIN inventory_feeds f ON f.id = fv.inventory_feed_id WHERE f.dropship_provider_id"
        " = :vendor)",
    ),
    # the merchant's catalog and channels, which routing reads
    ("variants", "1 = 1"),
    ("products", "1 = 1"),
    ("channels", "1 = 1"),
    ("custom_channels", "1 = 1"),
    ("warehouses", "1 = 1"),
)


def _snapshot(database: Database, vendor_id: int) -> dict[str, list[tuple[Any, ...]]]:
    with database.session(write=False) as session:
        return {
            f"{table} where {where}": sorted(
                tuple(str(v) for v in row)
                for row in session.execute(
                    text(f"SELECT * FROM {table} WHERE {where}"), {"vendor": vendor_id}
                )
            )
            for table, where in PROTECTED
        }


def test_a_vendor_token_reaches_nothing_of_another_vendor(app, client, database):
    world = _seed(client)
    own_hash = world["own_feed"]["hash"]
    token = make_token(database, "own vendor", world["own"]["id"])
    make_token(database, f"{MARKER} token", world["other"]["id"])
    document = client.get("/openapi.json").json()
    maker = BodyMaker(document, _body_ids(world))
    ids = _ids(world)
    run_pending(database)
    before = _snapshot(database, world["other"]["id"])
    empty = [key for key, rows in before.items() if not rows]
    assert not empty, f"nothing to protect in {empty}"
    headers = {"Authorization": f"Bearer {token}", "jetti-webhook-hash": own_hash}

    probed: set[tuple[str, str]] = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            combos = itertools.product(*[ids.get(name, [1, 2]) for name in names])
            schema = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            if schema is not None:
                bodies = [maker.make(schema), maker.make(schema, full=True)]
            elif method in ("post", "put") and path.startswith("/webhooks/"):
                bodies = [[{"externalId": "probe", "inventoryQuantity": 1, **_body_ids(world)}]]
            else:
                bodies = [None]
            for values, body in itertools.product(list(combos), bodies):
                url = path
                for name, value in zip(names, values, strict=True):
                    url = url.replace("{" + name + "}", str(value))
                response = client.request(
                    method.upper(),
                    url,
                    headers=headers,
                    json=body,
                    params={"limit": 1000} if method == "get" else None,
                )
                where = f"{method.upper()} {url} {body!r}"
                assert response.status_code < 500, f"{where}: {response.status_code}"
                assert MARKER not in response.text.lower(), f"{where} answered {response.text}"
                probed.add((method, path))
            run_pending(database)
            after = _snapshot(database, world["other"]["id"])
            changed = [key for key in before if before[key] != after[key]]
            assert not changed, f"{method.upper()} {path} changed {changed}"

    every = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert probed == every
    assert len(every) > 60


def test_the_original_takeover_is_refused(client, database):
    """Issue 18's first finding, replayed: a vendor re-connecting its feed variant to another
    vendor's variant with a manual quantity."""
    world = _seed(client)
    token = make_token(database, "own vendor", world["own"]["id"])
    response = client.put(
        f"/api/inventory-feed-variants/{world['own_item']['id']}.json",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "variantId": world["other_variant"],
            "inventoryQuantityOverride": "manual",
            "manualInventoryQuantity": 5000,
        },
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "inventoryQuantityOverride"
    assert "inventoryQuantityOverride" in response.json()["message"]
    unchanged = client.get(f"/api/inventory-feed-variants/{world['own_item']['id']}.json").json()
    assert unchanged["variantId"] == world["own_variant"]
    assert unchanged["inventoryQuantityOverride"] == "none"
    assert unchanged["manualInventoryQuantity"] is None


@pytest.mark.parametrize(
    ("path_of", "expected"),
    [
        (lambda w: f"/api/fulfillments/{w['other_fulfillment']['id']}.json", "Fulfillment"),
        (
            lambda w: f"/api/inventory-feed-variants/{w['other_item']['id']}.json",
            "Inventory feed variant",
        ),
        (lambda w: f"/api/purchases/{w['other_purchase']['id']}.json", "Purchase"),
    ],
)
def test_not_found_names_only_what_was_asked(client, database, path_of, expected):
    world = _seed(client)
    token = make_token(database, "own vendor", world["own"]["id"])
    path = path_of(world)
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    asked = re.search(r"/(\d+)\.json$", path).group(1)
    assert response.json()["message"] == f"{expected} {asked} not found"
