"""Custom fields: definitions, values synced by key and type-checked, read through `include`
with Onport's model names, scoped for vendor tokens at every level, one query per level."""

import pytest
from sqlalchemy import event

from tests.conftest import make_token

PURCHASE_VALUES = (
    "include[0][model]=CustomFieldPurchase&include[0][include][0][model]=CustomField"
    "&include[0][include][0][attributes][0]=key&include[0][attributes][0]=value"
)


class World:
    pass


def _vendor_with_sale(client, name, sku, external_id, channel_id):
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
        f"/api/channels/{channel_id}/manual-sale.json",
        json={
            "externalId": external_id,
            "lineItems": [{"externalId": 1, "quantity": 1, "price": 9, "variant": {"sku": sku}}],
        },
    )
    assert sale.status_code == 200, sale.text
    return vendor, sale.json()


@pytest.fixture
def world(client, anonymous, database):
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    w = World()
    w.client = client
    w.vendor, w.sale = _vendor_with_sale(client, "Acme", "TENT", "s-1", channel["id"])
    w.other, w.other_sale = _vendor_with_sale(client, "Other", "MAT", "s-2", channel["id"])
    w.purchase = w.sale["purchases"][0]
    w.other_purchase = w.other_sale["purchases"][0]
    w.fields = {}
    for resource, key, kind, extra in (
        ("purchase", "gift_wrap", "boolean", {"vendorEditable": True}),
        ("purchase", "weight_kg", "number", {}),
        ("purchase", "channel_code", "select", {"options": ["A", "B"]}),
        ("sale", "loyalty_tier", "text", {}),
        ("variant", "hs_code", "integer", {}),
        ("dropship_provider", "tax_id", "text", {}),
    ):
        created = client.post(
            "/api/custom-fields.json",
            json={"resource": resource, "key": key, "label": key.title(), "type": kind, **extra},
        )
        assert created.status_code == 201, created.text
        w.fields[key] = created.json()
    token = make_token(database, "acme", w.vendor["id"])
    w.vendor_headers = {"Authorization": f"Bearer {token}"}
    w.anonymous = anonymous
    return w


def _sync(client, path, entries, headers=None):
    return client.put(path, json={"customFields": entries}, headers=headers)


def test_definitions_are_a_resource(world):
    client = world.client
    again = client.post(
        "/api/custom-fields.json",
        json={"resource": "purchase", "key": "gift_wrap", "label": "Again"},
    )
    assert again.status_code == 409
    assert again.json()["code"] == "custom_field.key_taken"
    no_options = client.post(
        "/api/custom-fields.json",
        json={"resource": "sale", "key": "x", "label": "X", "type": "select"},
    )
    assert no_options.status_code == 422
    listed = client.get("/api/custom-fields.json?where[resource]=purchase&attributes[0]=key")
    assert listed.json() == [{"key": "gift_wrap"}, {"key": "weight_kg"}, {"key": "channel_code"}]
    field = world.fields["weight_kg"]
    updated = client.put(f"/api/custom-fields/{field['id']}.json", json={"label": "Weight (kg)"})
    assert updated.status_code == 200 and updated.json()["label"] == "Weight (kg)"
    assert updated.json()["type"] == "number"
    assert client.delete(f"/api/custom-fields/{field['id']}.json").status_code == 204
    assert client.get(f"/api/custom-fields/{field['id']}.json").status_code == 404


def test_sync_upserts_by_key_and_reads_through_include(world):
    client = world.client
    path = f"/api/purchases/{world.purchase['id']}/sync-custom-fields.json"
    first = _sync(
        client, path, [{"key": "gift_wrap", "value": True}, {"key": "weight_kg", "value": "1.50"}]
    )
    assert first.status_code == 200, first.text
    assert [(v["customFieldId"], v["value"]) for v in first.json()] == [
        (world.fields["gift_wrap"]["id"], "true"),
        (world.fields["weight_kg"]["id"], "1.5"),
    ]
    again = _sync(
        client, path, [{"key": "weight_kg", "value": 2}, {"key": "gift_wrap", "value": None}]
    )
    assert [v["value"] for v in again.json()] == ["2"]
    listed = client.get(f"/api/purchases.json?{PURCHASE_VALUES}&where[id]={world.purchase['id']}")
    assert listed.status_code == 200, listed.text
    assert listed.json()[0]["customFieldPurchases"] == [
        {"value": "2", "customField": {"key": "weight_kg"}}
    ]
    joined = client.get(
        f"/api/custom-field-purchases.json?where[purchaseId]={world.purchase['id']}"
        "&include[0][model]=CustomField"
    )
    assert [(v["value"], v["customField"]["key"]) for v in joined.json()] == [("2", "weight_kg")]
    alias = client.get("/api/custom-field-dropshipments.json?attributes[0]=value")
    assert alias.json() == [{"value": "2"}]
    # where inside the include: only purchases with a matching value
    filtered = client.get(
        "/api/purchases.json?include[0][model]=CustomFieldPurchase&include[0][where][value]=2"
        "&attributes[0]=id"
    )
    assert [p["id"] for p in filtered.json()] == [world.purchase["id"]]


def test_sales_variants_and_vendors_take_values_too(world):
    client = world.client
    sale_id = world.sale["id"]
    variant_id = world.sale["saleItems"][0]["variantId"]
    assert (
        _sync(
            client,
            f"/api/sales/{sale_id}/sync-custom-fields.json",
            [{"key": "loyalty_tier", "value": "gold"}],
        ).status_code
        == 200
    )
    assert (
        _sync(
            client,
            f"/api/variants/{variant_id}/sync-custom-fields.json",
            [{"key": "hs_code", "value": "6306"}],
        ).status_code
        == 200
    )
    vendor_path = f"/api/dropship-providers/{world.vendor['id']}/sync-custom-fields.json"
    assert _sync(client, vendor_path, [{"key": "tax_id", "value": "GB123"}]).status_code == 200
    sales = client.get(
        f"/api/sales.json?where[id]={sale_id}&attributes[0]=id&include[0][model]=CustomFieldSale"
        "&include[1][model]=SaleItem&include[1][include][0][model]=Variant"
        "&include[1][include][0][include][0][model]=CustomFieldVariant"
    ).json()
    assert sales[0]["customFieldSales"][0]["value"] == "gold"
    assert sales[0]["saleItems"][0]["variant"]["customFieldVariants"][0]["value"] == "6306"
    vendors = client.get(
        "/api/dropship-providers.json?attributes[0]=name&include[0][model]=CustomFieldDropshipProvider"
        "&include[0][include][0][model]=CustomField"
    ).json()
    assert [
        (v["name"], [x["customField"]["key"] for x in v["customFieldDropshipProviders"]])
        for v in vendors
    ] == [
        ("Acme", ["tax_id"]),
        ("Other", []),
    ]
    variants = client.get(
        f"/api/variants.json?where[id]={variant_id}&include[0][model]=CustomFieldVariant"
    ).json()
    assert variants[0]["customFieldVariants"][0]["value"] == "6306"


@pytest.mark.parametrize(
    ("entries", "field", "code"),
    [
        ([{"key": "nope", "value": 1}], "customFields[0].key", "custom_field.unknown_key"),
        (
            [{"key": "loyalty_tier", "value": "x"}],
            "customFields[0].key",
            "custom_field.unknown_key",
        ),
        (
            [{"key": "gift_wrap", "value": True}, {"key": "weight_kg", "value": "heavy"}],
            "customFields[1].value",
            "custom_field.invalid_value",
        ),
        (
            [{"key": "weight_kg", "value": "NaN"}],
            "customFields[0].value",
            "custom_field.invalid_value",
        ),
        (
            [{"key": "gift_wrap", "value": "maybe"}],
            "customFields[0].value",
            "custom_field.invalid_value",
        ),
        (
            [{"key": "channel_code", "value": "C"}],
            "customFields[0].value",
            "custom_field.invalid_value",
        ),
        (
            [{"key": "weight_kg", "value": [1]}],
            "customFields[0].value",
            "custom_field.invalid_value",
        ),
        (
            [{"key": "gift_wrap", "value": True}, {"key": "gift_wrap", "value": False}],
            "customFields[1].key",
            "invalid",
        ),
    ],
)
def test_a_refused_value_names_its_field_and_changes_nothing(world, entries, field, code):
    path = f"/api/purchases/{world.purchase['id']}/sync-custom-fields.json"
    refused = _sync(world.client, path, entries)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["title"] and body["code"] == code
    assert [e["field"] for e in body["errors"]] == [field]
    assert world.client.get("/api/custom-field-purchases.json").json() == []


def test_vendor_tokens_are_scoped_at_every_level(world):
    client, anonymous, headers = world.client, world.anonymous, world.vendor_headers
    for purchase in (world.purchase, world.other_purchase):
        path = f"/api/purchases/{purchase['id']}/sync-custom-fields.json"
        assert _sync(client, path, [{"key": "weight_kg", "value": 1}]).status_code == 200
    for vendor in (world.vendor, world.other):
        path = f"/api/dropship-providers/{vendor['id']}/sync-custom-fields.json"
        assert _sync(client, path, [{"key": "tax_id", "value": vendor["name"]}]).status_code == 200
    own = f"/api/purchases/{world.purchase['id']}/sync-custom-fields.json"
    assert _sync(anonymous, own, [{"key": "gift_wrap", "value": True}], headers).status_code == 200
    locked = _sync(anonymous, own, [{"key": "weight_kg", "value": 3}], headers)
    assert (
        locked.status_code == 403 and locked.json()["errors"][0]["field"] == "customFields[0].key"
    )
    theirs = f"/api/purchases/{world.other_purchase['id']}/sync-custom-fields.json"
    assert (
        _sync(anonymous, theirs, [{"key": "gift_wrap", "value": True}], headers).status_code == 404
    )
    listed = anonymous.get(
        "/api/custom-field-purchases.json?include[0][model]=CustomField", headers=headers
    )
    assert {v["purchaseId"] for v in listed.json()} == {world.purchase["id"]}
    # through purchase items → purchase → vendor → the vendor's values: only its own
    deep = anonymous.get(
        "/api/purchases.json?include[0][model]=CustomFieldPurchase"
        "&include[1][model]=DropshipProvider&include[1][include][0][model]=CustomFieldDropshipProvider",
        headers=headers,
    )
    assert deep.status_code == 200, deep.text
    (purchase,) = deep.json()
    assert sorted(v["value"] for v in purchase["customFieldPurchases"]) == ["1", "true"]
    assert [v["value"] for v in purchase["dropshipProvider"]["customFieldDropshipProviders"]] == [
        "Acme"
    ]
    for query in (
        "/api/purchases.json?include[0][model]=Sale&include[0][include][0][model]=CustomFieldSale",
        "/api/custom-field-sales.json",
        "/api/custom-field-variants.json",
    ):
        refused = anonymous.get(query, headers=headers)
        assert refused.status_code == 403, query
        assert refused.json()["title"]
    for sale, code in ((world.sale, 6306), (world.other_sale, 9404)):
        variant = sale["saleItems"][0]["variantId"]
        path = f"/api/variants/{variant}/sync-custom-fields.json"
        assert _sync(client, path, [{"key": "hs_code", "value": code}]).status_code == 200
    lines = anonymous.get(
        "/api/purchases.json?attributes[0]=id&include[0][model]=PurchaseItem"
        "&include[0][include][0][model]=Variant"
        "&include[0][include][0][include][0][model]=CustomFieldVariant"
        "&include[0][include][0][include][0][include][0][model]=CustomField",
        headers=headers,
    )
    assert lines.status_code == 200, lines.text
    (variant,) = [item["variant"] for item in lines.json()[0]["purchaseItems"]]
    assert [(v["value"], v["customField"]["key"]) for v in variant["customFieldVariants"]] == [
        ("6306", "hs_code")
    ]
    vendors = anonymous.get("/api/custom-field-dropship-providers.json", headers=headers).json()
    assert [v["value"] for v in vendors] == ["Acme"]


def test_one_query_per_include_level_whatever_the_page(world, database):
    client = world.client
    deep = (
        "/api/purchases.json?include[0][model]=CustomFieldPurchase"
        "&include[0][include][0][model]=CustomField"
        "&include[1][model]=DropshipProvider&include[1][include][0][model]=CustomFieldDropshipProvider"
    )
    counts = []
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    for purchase in (world.purchase, world.other_purchase):
        path = f"/api/purchases/{purchase['id']}/sync-custom-fields.json"
        _sync(
            client, path, [{"key": "weight_kg", "value": 1}, {"key": "gift_wrap", "value": False}]
        )
    for limit in (1, 2):
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            statements.clear()
            page = client.get(f"{deep}&limit={limit}")
            counts.append(len(statements))
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        assert len(page.json()) == limit
        assert all(len(p["customFieldPurchases"]) == 2 for p in page.json())
    assert counts[0] == counts[1]
