"""Unknown fields are ignored and named; DROPWIRE_STRICT_INPUT=true refuses them."""

from decimal import Decimal
from typing import Annotated, Any, Literal

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from dropwire.app import create_app
from dropwire.core.schemas import input_report, may_hold_text
from dropwire.jobs.service import run_pending
from dropwire.sales.schemas import CancelRequest, LineItem, LineQuantity, ManualSale, SaleDefaults


@pytest.fixture
def strict_client(database, settings, admin_token):
    app = create_app(database, settings.model_copy(update={"strict_input": True}))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {admin_token}"
        yield client


@pytest.fixture
def store(client):
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    client.post("/api/variants.json", json={"sku": "CUP", "name": "Cup"})
    return channel


ONPORT_SALE = {
    "externalId": 5001,  # a number: stored as "5001"
    "storefront": "shopify",  # (Onport applies `source`; this one it has not)
    "saleDefaults": {
        "reference": 7001,
        "shippingFirstName": "Ada",
        "shippingAddressLineOne": "1 Main St",
        "shippingCountry": "GB",
        "billingState": "London",
        "resellerId": 12,
    },
    "customer": {"firstName": "Ada", "email": "ada@example.com"},
    "lineItems": [
        {
            "externalId": 1,
            "quantity": 1,
            "price": 9,
            "variant": {"sku": "CUP", "legacySku": "cup-ext"},
        }
    ],
}


def test_onports_manual_sale_is_accepted_and_the_ignored_fields_named(client, store):
    response = client.post(f"/api/channels/{store['id']}/manual-sale.json", json=ONPORT_SALE)
    assert response.status_code == 200, response.text
    assert response.headers["Dropwire-Ignored-Fields"] == (
        "storefront, saleDefaults.resellerId, lineItems[0].variant.legacySku"
    )
    sale = response.json()
    assert sale["externalId"] == "5001"
    assert sale["reference"] == "7001"
    assert sale["saleItems"][0]["externalId"] == "1"
    assert sale["saleDefaults"] == {
        "reference": "7001",
        "receiverFirstName": "Ada",
        "receiverAddress1": "1 Main St",
        "receiverCountry": "GB",
        "billingProvince": "London",
    }
    assert sale["receiverCountry"] == "GB"
    log = client.get("/api/api-logs.json?where[endpoint][$like]=%25manual-sale%25").json()
    assert log[0]["problem"] == (
        "ignored fields: storefront, saleDefaults.resellerId, lineItems[0].variant.legacySku"
    )
    assert log[0]["status"] == "success"


def test_our_name_wins_over_onports_alias(client, store):
    body = {
        **ONPORT_SALE,
        "saleDefaults": {"receiverCity": "Leeds", "shippingCity": "York"},
    }
    sale = client.post(f"/api/channels/{store['id']}/manual-sale.json", json=body).json()
    assert sale["saleDefaults"]["receiverCity"] == "Leeds"


def test_custom_channel_put_with_onport_only_fields(client):
    custom = client.post("/api/custom-channels.json", json={"name": "Shop"}).json()
    response = client.put(
        f"/api/custom-channels/{custom['id']}.json",
        json={"inventoryEndpointPrice": True, "name": "Shop 2"},
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Shop 2"
    assert response.headers["Dropwire-Ignored-Fields"] == "inventoryEndpointPrice"


def test_no_header_when_nothing_was_ignored(client):
    response = client.post("/api/dropship-providers.json", json={"name": "A"})
    assert "Dropwire-Ignored-Fields" not in response.headers


def test_strict_input_refuses_unknown_fields_naming_each_path(strict_client, store):
    response = strict_client.post(f"/api/channels/{store['id']}/manual-sale.json", json=ONPORT_SALE)
    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert fields == {
        "storefront": "unknown field",
        "saleDefaults.resellerId": "unknown field",
        "lineItems[0].variant.legacySku": "unknown field",
    }
    assert strict_client.get("/api/sales.json").json() == []
    other = strict_client.post("/api/dropship-providers.json", json={"name": "A", "colour": "r"})
    assert other.status_code == 422
    assert other.json()["errors"] == [{"field": "colour", "message": "unknown field"}]


def test_async_items_log_what_they_ignored(client, store, database):
    custom = client.post(
        "/api/custom-channels.json", json={"name": "Hooks", "channelId": store["id"]}
    ).json()
    response = client.post(
        "/webhooks/custom-channels/manual-sale.json",
        json=ONPORT_SALE,
        headers={"jetti-webhook-hash": custom["webhookHash"]},
    )
    assert response.status_code == 200
    run_pending(database)
    (row,) = client.get("/api/sale-imports.json").json()
    assert row["status"] == "success"
    assert row["problem"] == (
        "ignored fields: storefront, saleDefaults.resellerId, lineItems[0].variant.legacySku"
    )


def test_ignored_field_names_outside_ascii_are_escaped_in_the_header(client):
    response = client.post(
        "/api/channels.json", json={"name": "Store", "prénom€": 1, "a\nb": 2, "ok": 3}
    )
    assert response.status_code == 201  # was a 500: a header value must be latin-1
    assert response.headers["Dropwire-Ignored-Fields"] == "pr\\xe9nom\\u20ac, a\\nb, ok"


# The policy as rules, without HTTP: pydantic keeps unknown fields as extras, the top-level
# input takes them off (core/schemas.py); nothing of them may stay on the models.


def test_unknown_values_stay_on_no_model():
    with input_report(strict=False) as report:
        sale = ManualSale.model_validate(ONPORT_SALE)
    assert report.ignored == [
        "storefront",
        "saleDefaults.resellerId",
        "lineItems[0].variant.legacySku",
    ]
    assert sale.ignored_fields == tuple(report.ignored)
    assert sale.line_items[0].variant.ignored_fields == ("legacySku",)
    assert "storefront" not in sale.model_dump() and "storefront" not in sale.model_fields_set
    assert "resellerId" not in sale.sale_defaults.model_dump(by_alias=True)
    assert sale.line_items[0].variant.model_dump() == {
        "sku": "CUP",
        "external_id": None,
        "external_sku": None,
    }
    with pytest.raises(AttributeError):
        _ = sale.storefront  # type: ignore[attr-defined]


def test_a_field_sent_under_two_names_is_not_reported_as_ignored():
    body = {"receiverCity": "Leeds", "receiver_city": "Hull", "shippingCity": "York"}
    for strict in (False, True):
        with input_report(strict=strict) as report:
            defaults = SaleDefaults.model_validate(body)
        assert report.ignored == []
        assert defaults.receiver_city == "Leeds"  # ours wins, by its wire name
        assert defaults.model_fields_set == {"receiver_city"}
        assert defaults.changes() == {"receiver_city": "Leeds"}


def test_of_two_onport_names_for_one_field_the_first_sent_wins():
    body = {"receiverAddressLineOne": "first", "shippingAddressLineOne": "second"}
    assert SaleDefaults.model_validate(body).receiver_address1 == "first"


def test_strict_input_lists_unknown_fields_with_the_other_errors():
    body = {**ONPORT_SALE, "lineItems": [{**ONPORT_SALE["lineItems"][0], "quantity": 0}]}
    with input_report(strict=True), pytest.raises(ValidationError) as refused:
        ManualSale.model_validate(body)
    assert [(e["type"], e["loc"]) for e in refused.value.errors()] == [
        ("extra_forbidden", ("saleDefaults", "resellerId")),
        ("greater_than_equal", ("lineItems", 0, "quantity")),
        ("extra_forbidden", ("lineItems", 0, "variant", "legacySku")),
        ("extra_forbidden", ("storefront",)),
    ]


def test_an_input_passed_as_a_value_keeps_what_it_ignored():
    with input_report(strict=False) as report:
        line = LineQuantity.model_validate({"id": 1, "quantity": 1, "colour": "red"})
        request = CancelRequest(sale_items=[line])
    assert request.ignored_fields == ("saleItems[0].colour",)
    assert report.ignored == ["colour", "saleItems[0].colour"]


def test_text_is_checked_in_every_field_that_can_hold_it():
    assert may_hold_text(str | None) and may_hold_text(dict[str, Any])
    assert may_hold_text(list[Annotated[str, "x"]]) and may_hold_text(Any)
    assert not may_hold_text(int | None) and not may_hold_text(list[LineItem])
    assert not may_hold_text(Literal["shipped"]) and not may_hold_text(Decimal)
    with pytest.raises(ValidationError) as refused:
        ManualSale.model_validate({**ONPORT_SALE, "options": {"note": "a\x00"}})
    (error,) = refused.value.errors()
    assert error["loc"] == ("options",)
    assert "note: contains a control character U+0000" in error["msg"]
