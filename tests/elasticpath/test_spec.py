"""The connector's requests against Elastic Path's published OpenAPI descriptions (`spec.py`):
the shapes it sends validate, the ones it used to send don't, and every request of every test
in this package is checked by the fake store (`conftest.fake`)."""

import pytest

from tests.elasticpath import spec


@pytest.mark.parametrize(
    "fields",
    [
        {"shipping": "fulfilled"},
        {"status": "cancelled"},
    ],
)
def test_order_updates_are_one_of_the_allowed_shapes(fields: dict[str, str]) -> None:
    assert spec.problems("PUT", "/v2/orders/o-1", {"data": {"type": "order", **fields}}) == []


def test_an_order_update_with_only_the_partial_flags_is_refused() -> None:
    body = {"data": {"type": "order", "partially_fulfilled": True, "partially_cancelled": False}}
    (problem,) = spec.problems("PUT", "/v2/orders/o-1", body)
    assert "oneOf" in problem


def test_the_multi_location_set_follows_the_sdk_shape() -> None:
    sdk = {
        "data": {
            "attributes": {
                "type": "stock-transaction",
                "action": "set",
                "quantity": 3,
                "product_id": "p-1",
                "location": "main-wh",
            }
        }
    }
    path = "/v2/inventories/p-1/transactions"
    assert spec.problems("POST", path, sdk, multi_location=True) == []
    former = {
        "data": {
            "type": "stock-transaction",
            "attributes": {"action": "set", "quantity": 3, "location": "main-wh"},
        }
    }
    assert spec.problems("POST", path, former, multi_location=True) != []


def test_the_classic_transaction_and_stock_creation_validate() -> None:
    transaction = {"data": {"type": "stock-transaction", "action": "increment", "quantity": 2}}
    assert spec.problems("POST", "/v2/inventories/p-1/transactions", transaction) == []
    bad = {"data": {"type": "stock-transaction", "action": "teleport", "quantity": 2}}
    assert spec.problems("POST", "/v2/inventories/p-1/transactions", bad) != []
    assert spec.problems("POST", "/v2/inventories/p-1", {"data": {"quantity": 5}}) == []


def test_every_endpoint_the_connector_writes_to_is_covered() -> None:
    for method, path in [
        ("PUT", "/v2/orders/o-1"),
        ("POST", "/v2/inventories/p-1"),
        ("POST", "/v2/inventories/p-1/transactions"),
        ("POST", "/pcm/products"),
        ("PUT", "/pcm/products/p-1"),
        ("POST", "/v2/integrations"),
        ("PUT", "/v2/integrations/i-1"),
    ]:
        assert spec.covered(method, path), (method, path)
