"""Onport's list dialect (qs.stringify of Sequelize-style objects), table-driven."""

import pytest

NAMES = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]


@pytest.fixture
def vendors(client):
    for index, name in enumerate(NAMES):
        body = {"name": name, "priority": index * 10, "externalId": f"v{index}"}
        if index % 2 == 0:
            body["email"] = f"{name.lower()}@example.com"
        assert client.post("/api/dropship-providers.json", json=body).status_code == 201


def names(response):
    assert response.status_code == 200, response.text
    return [v["name"] for v in response.json()]


FILTERS = [
    # (query string, expected names in default order)
    ("where[priority][$eq]=10", ["Bravo"]),
    ("where[priority][$ne]=10", ["Alpha", "Charlie", "Delta", "Echo"]),
    ("where[priority][$gt]=20", ["Delta", "Echo"]),
    ("where[priority][$gte]=20", ["Charlie", "Delta", "Echo"]),
    ("where[priority][$lt]=10", ["Alpha"]),
    ("where[priority][$lte]=10", ["Alpha", "Bravo"]),
    ("where[priority][$in][0]=0&where[priority][$in][1]=40", ["Alpha", "Echo"]),
    ("where[priority][$notIn][0]=0&where[priority][$notIn][1]=40", ["Bravo", "Charlie", "Delta"]),
    ("where[priority][0]=10&where[priority][1]=30", ["Bravo", "Delta"]),  # array = $in
    ("where[name][$like]=%25ha%25", ["Alpha", "Charlie"]),
    ("where[name][$like]=%25HA%25", []),  # case-sensitive on both databases
    ("where[name][$iLike]=%25HA%25", ["Alpha", "Charlie"]),
    ("where[name][$like]=C%25", ["Charlie"]),
    ("where[name][$like]=_ravo", ["Bravo"]),
    ("where[email][$ne]=", ["Alpha", "Charlie", "Echo"]),  # empty = null
    ("where[email]=", ["Bravo", "Delta"]),
    ("where[email][$eq]=null", ["Bravo", "Delta"]),
    ("where[$or][0][name]=Alpha&where[$or][1][priority][$gte]=30", ["Alpha", "Delta", "Echo"]),
    (
        "where[$or][0][name]=Alpha&where[$or][0][priority]=10&where[$or][1][externalId]=v2",
        ["Charlie"],
    ),
    ("where[priority][$gte]=10&where[priority][$lt]=30", ["Bravo", "Charlie"]),
    ("where[createdAt][$gte]=2000-01-01", NAMES),  # a date alone is UTC midnight
    ("where[createdAt][$lt]=2000-01-01T00:00:00.000Z", []),
    # Dropwire's own dialect keeps working next to it
    ("where[priority][in]=0,40", ["Alpha", "Echo"]),
    ("where[priority][gt]=20", ["Delta", "Echo"]),
    ("where[name]=Bravo", ["Bravo"]),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS)
def test_filters(client, vendors, query, expected):
    response = client.get(f"/api/dropship-providers.json?{query}")
    assert names(response) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))


ORDERS = [
    ("order[attribute]=priority&order[descending]=true", ["Echo", "Delta", "Charlie"]),
    ("order[attribute]=priority&order[descending]=false", ["Alpha", "Bravo", "Charlie"]),
    ("order[attribute]=name", ["Alpha", "Bravo", "Charlie"]),
    ("order[0][0]=priority&order[0][1]=DESC", ["Echo", "Delta", "Charlie"]),
    ("order[0][0]=email&order[0][1]=ASC&order[1][0]=priority&order[1][1]=DESC", None),
    ("order[0]=-priority", ["Echo", "Delta", "Charlie"]),
    ("order=-priority", ["Echo", "Delta", "Charlie"]),
    ("order=priority DESC", ["Echo", "Delta", "Charlie"]),
]


@pytest.mark.parametrize(("query", "expected"), ORDERS)
def test_order_forms(client, vendors, query, expected):
    got = names(client.get(f"/api/dropship-providers.json?{query}&limit=3"))
    if expected is None:  # nulls sort differently per database; the tie-break is what matters
        got = names(client.get(f"/api/dropship-providers.json?{query}&where[email]="))
        expected = ["Delta", "Bravo"]
    assert got == expected


def test_attributes_trim_each_record(client, vendors):
    response = client.get(
        "/api/dropship-providers.json?attributes[0]=id&attributes[1]=name&limit=2"
    )
    assert response.status_code == 200
    assert [set(v) for v in response.json()] == [{"id", "name"}, {"id", "name"}]
    assert response.headers["X-Total-Count"] == "5"
    plain = client.get("/api/dropship-providers.json?attributes=name,priority&limit=1").json()
    assert plain == [{"name": "Alpha", "priority": 0}]


@pytest.fixture
def feeds(client, vendors):
    vendor_ids = [v["id"] for v in client.get("/api/dropship-providers.json").json()]
    for vendor_id in vendor_ids[:2]:
        client.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor_id})
    return vendor_ids


def test_include_embeds_the_related_record(client, feeds):
    response = client.get(
        "/api/inventory-feeds.json?include[0][model]=DropshipProvider&attributes[0]=id"
    )
    rows = response.json()
    assert [row["dropshipProvider"]["name"] for row in rows] == ["Alpha", "Bravo"]
    assert set(rows[0]) == {"id", "dropshipProvider"}


def test_include_with_attributes_trims_the_embedded_record(client, feeds):
    response = client.get(
        "/api/inventory-feeds.json?include[0][models]=DropshipProvider"
        "&include[0][attributes][0]=name"
    )
    assert [row["dropshipProvider"] for row in response.json()] == [
        {"name": "Alpha"},
        {"name": "Bravo"},
    ]


def test_include_of_a_list_relation(client):
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    client.post("/api/custom-channels.json", json={"name": "Hook", "channelId": channel["id"]})
    client.post("/api/channels.json", json={"name": "Bare"})
    rows = client.get("/api/channels.json?include[0][model]=CustomChannel").json()
    assert rows[0]["customChannel"]["name"] == "Hook"
    assert rows[1]["customChannel"] is None


def test_include_costs_one_query_per_relation(client, feeds, database):
    from sqlalchemy import event

    statements = []

    def count(_connection, _cursor, statement, *_args):
        # reads only: the API log's writer thread inserts the rows of earlier requests meanwhile
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        client.get("/api/inventory-feeds.json")
        plain = len(statements)
        statements.clear()
        client.get("/api/inventory-feeds.json?include[0][model]=DropshipProvider")
        assert len(statements) == plain + 1
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


ERRORS = [
    # (query, the field named in the 422)
    ("where[password]=x", "where[password]"),
    ("where[priority][$regexp]=1", "where[priority][$regexp]"),
    ("where[priority][like]=1", "where[priority][like]"),
    ("where[priority][$like]=1", "where[priority][$like]"),
    ("where[priority][$gt]=high", "where[priority][$gt]"),
    ("where[$nor][0][name]=x", "where[$nor]"),
    ("where[$or][0][secret]=x", "where[$or][0][secret]"),
    ("order[attribute]=secret", "order[attribute]"),
    ("order[0][0]=priority&order[0][1]=sideways", "order[0]"),
    ("order=-secret", "order"),
    ("attributes[0]=id&attributes[1]=password", "attributes[1]"),
    ("include[0][model]=Warehouse", "include[0][model]"),
    ("include[0][model]=DropshipProvider&include[0][limit]=1", "include[0][limit]"),
    ("where" + "[a]" * 28 + "=1", "where" + "[a]" * 28),
    ("where[priority][$in][5000]=1", "where[priority][$in]"),
]


@pytest.mark.parametrize(("query", "field"), ERRORS)
def test_errors_are_422_naming_the_parameter(client, vendors, query, field):
    response = client.get(f"/api/dropship-providers.json?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_include_attribute_errors_name_the_include(client, feeds):
    response = client.get(
        "/api/inventory-feeds.json?include[0][model]=DropshipProvider"
        "&include[0][attributes][0]=nope"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "include[0][attributes][0]"


def test_url_encoded_brackets_as_qs_sends_them(client, vendors):
    response = client.get(
        "/api/dropship-providers.json?where%5Bpriority%5D%5B%24in%5D%5B0%5D=10"
        "&order%5Battribute%5D=name"
    )
    assert names(response) == ["Bravo"]
