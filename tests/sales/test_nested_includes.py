"""Sequelize's include tree on the sales lists: nesting, `where` inside an include, scoping.

A vendor token must never reach another vendor's rows (or the customer's billing details)
through any include path, however deep.
"""

import pytest
from sqlalchemy import event

from tests.conftest import make_token
from tests.sales.conftest import World

BILLING = {"billingFirstName": "Grace", "billingCity": "Arlington", "receiverCity": "London"}


@pytest.fixture
def two_vendor_sale(world: World) -> dict:
    world.variant("TENT")
    world.variant("MUG")
    world.stock("north", "TENT", 10)
    world.stock("baltic", "MUG", 10)
    sale = world.post("o-1", [("l1", "TENT", 1), ("l2", "MUG", 1)], **BILLING)
    assert sale.status_code == 200, sale.text
    return sale.json()


def vendor_headers(world: World, database, name: str) -> dict:
    token = make_token(database, name, world.vendors[name]["id"])
    return {"Authorization": f"Bearer {token}"}


DEEP = (
    "include[0][model]=Sale&include[0][attributes][0]=reference"
    "&include[0][include][0][model]=SaleItem&include[0][include][0][attributes][0]=sku"
    "&include[0][include][0][include][0][model]=PurchaseItem"
    "&include[0][include][0][include][0][include][0][model]=Purchase"
    "&include[0][include][0][include][0][include][0][include][0][model]=DropshipProvider"
    "&include[0][include][0][include][0][include][0][include][0][attributes][0]=name"
)


def test_includes_nest_five_levels(world: World, two_vendor_sale):
    rows = world.client.get(f"/api/purchases.json?{DEEP}").json()
    assert len(rows) == 2
    for row in rows:
        items = row["sale"]["saleItems"]
        assert sorted(item["sku"] for item in items) == ["MUG", "TENT"]
        vendors = {
            pi["purchase"]["dropshipProvider"]["name"]
            for item in items
            for pi in item["purchaseItems"]
        }
        assert vendors == {"north", "baltic"}


def test_includes_deeper_than_the_limit_are_a_422_naming_them(world: World, two_vendor_sale):
    too_deep = "".join("[include][0]" for _ in range(5))
    response = world.client.get(f"/api/purchases.json?include[0]{too_deep}[model]=Sale")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("include[0][include][0]")


def test_where_inside_an_include_filters_it_and_requires_a_match(world: World, two_vendor_sale):
    north = world.vendors["north"]["id"]
    query = f"include[0][model]=DropshipProvider&include[0][where][id]={north}"
    rows = world.client.get(f"/api/purchases.json?{query}")
    assert rows.headers["X-Total-Count"] == "1"
    assert [r["dropshipProvider"]["name"] for r in rows.json()] == ["north"]
    optional = world.client.get(f"/api/purchases.json?{query}&include[0][required]=false").json()
    embedded = [r["dropshipProvider"] for r in optional]
    assert sorted(str(vendor and vendor["name"]) for vendor in embedded) == ["None", "north"]
    nested = world.client.get(
        "/api/sales.json?include[0][model]=SaleItem&include[0][where][sku]=MUG"
        "&include[0][attributes][0]=sku"
    ).json()
    assert [item["sku"] for item in nested[0]["saleItems"]] == ["MUG"]


def test_company_id_and_from(world: World, two_vendor_sale):
    assert len(world.client.get("/api/purchases.json?where[companyId]=1").json()) == 2
    assert world.client.get("/api/purchases.json?where[companyId]=2").json() == []
    everything = world.client.get("/api/purchases.json").json()
    assert world.client.get("/api/purchases.json?from=1").json() == everything[1:]
    conflicting = world.client.get("/api/purchases.json?from=1&offset=0")
    assert conflicting.status_code == 422
    assert conflicting.json()["errors"][0]["field"] == "from"


def test_purchases_show_billing_to_admins_only(world: World, two_vendor_sale, database, anonymous):
    po = two_vendor_sale["purchases"][0]
    admin_view = world.client.get(f"/api/purchases/{po['id']}.json").json()
    assert admin_view["billingFirstName"] == "Grace"
    assert admin_view["receiverCity"] == "London"
    vendor = "north" if po["dropshipProviderId"] == world.vendors["north"]["id"] else "baltic"
    headers = vendor_headers(world, database, vendor)
    own = anonymous.get(f"/api/purchases/{po['id']}.json", headers=headers).json()
    assert own["billingFirstName"] is None and own["billingCity"] is None
    assert own["receiverCity"] == "London"
    listed = anonymous.get(
        "/api/purchases.json?attributes[0]=billingFirstName&attributes[1]=receiverCity",
        headers=headers,
    ).json()
    assert listed == [{"billingFirstName": None, "receiverCity": "London"}]


VENDOR_PATHS = [
    # (list, include query) — every way back from a vendor's purchase order to the sale
    ("purchases", "include[0][model]=Sale&include[0][include][0][model]=Purchase"),
    ("purchases", "include[0][model]=Sale&include[0][include][0][model]=SaleItem"),
    (
        "purchases",
        "include[0][model]=Sale&include[0][include][0][model]=SaleItem"
        "&include[0][include][0][include][0][model]=PurchaseItem"
        "&include[0][include][0][include][0][include][0][model]=Purchase",
    ),
    ("purchases", "include[0][model]=Sale&include[0][include][0][model]=Fulfillment"),
    (
        "purchases",
        "include[0][model]=PurchaseItem&include[0][include][0][model]=SaleItem"
        "&include[0][include][0][include][0][model]=Sale"
        "&include[0][include][0][include][0][include][0][model]=Purchase",
    ),
    ("fulfillments", "include[0][model]=Sale&include[0][include][0][model]=Purchase"),
]


@pytest.mark.parametrize(("resource", "query"), VENDOR_PATHS)
def test_vendor_tokens_reach_only_their_own_rows_through_includes(
    world: World, two_vendor_sale, database, anonymous, resource, query
):
    north = world.vendors["north"]["id"]
    headers = vendor_headers(world, database, "north")
    anonymous.post(
        f"/api/purchases/{own_purchase(two_vendor_sale, north)}/ship.json", json={}, headers=headers
    )
    response = anonymous.get(f"/api/{resource}.json?{query}", headers=headers)
    assert response.status_code == 200, response.text
    text = response.text
    assert "MUG" not in text  # the other vendor's line
    assert "Grace" not in text and "Arlington" not in text  # billing details
    assert f'"dropshipProviderId":{world.vendors["baltic"]["id"]}' not in text.replace(" ", "")
    assert '"price"' not in text.replace("costPrice", "")  # what the customer paid


def own_purchase(sale: dict, vendor_id: int) -> int:
    return next(p["id"] for p in sale["purchases"] if p["dropshipProviderId"] == vendor_id)


@pytest.mark.parametrize(
    "query",
    [
        "include[0][model]=Sale&include[0][include][0][model]=Channel",
        "include[0][model]=Sale&include[0][include][0][model]=SaleReturn",
    ],
)
def test_admin_only_models_are_refused_to_vendor_tokens(
    world: World, two_vendor_sale, database, anonymous, query
):
    headers = vendor_headers(world, database, "north")
    response = anonymous.get(f"/api/purchases.json?{query}", headers=headers)
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "include[0][include][0][model]"


def test_a_vendor_filtering_an_include_on_another_vendor_finds_nothing(
    world: World, two_vendor_sale, database, anonymous
):
    baltic = world.vendors["baltic"]["id"]
    headers = vendor_headers(world, database, "north")
    query = f"include[0][model]=DropshipProvider&include[0][where][id]={baltic}"
    response = anonymous.get(f"/api/purchases.json?{query}", headers=headers)
    assert response.json() == []
    assert response.headers["X-Total-Count"] == "0"


def test_each_include_level_is_one_query_whatever_the_page(world: World, database):
    world.variant("TENT")
    world.stock("north", "TENT", 100)
    counts = []
    statements: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    for n in (1, 6):
        for index in range(len(world.client.get("/api/sales.json").json()), n):
            world.post(f"o-{index}", [("l1", "TENT", 1)])
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            statements.clear()
            world.client.get(f"/api/purchases.json?{DEEP}")
            counts.append(len(statements))
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
    assert counts[0] == counts[1]
