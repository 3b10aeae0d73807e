"""Sales applied as one batch end exactly where applying them one at a time ends.

`manual.upsert_manual_sales` creates runs of new sales set-based; the sync endpoint's
`upsert_manual_sale` is a batch of one. Any sequence of creates, updates (the same externalId
again), requested references (taken ones fail alone; a stored sale may change its own, keeping
the old one), cancellations, unknown SKUs, backorders,
country filters and shortages must leave the same rows, ids included, both ways.
"""

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from dropwire.channels.models import Channel
from dropwire.core.db import Base, Database
from dropwire.core.errors import DomainError
from dropwire.inventory import service as inventory
from dropwire.sales import manual
from dropwire.sales.models import Purchase, Sale
from dropwire.sales.schemas import ManualSale
from tests.conftest import empty_all_tables, make_token

TABLES = (
    "sales",
    "sale_former_references",
    "sale_items",
    "purchases",
    "purchase_items",
    "inventory_allocations",
    "inventory_movements",
    "inventory_levels",
    "counters",
)
MOMENTS = {"created_at", "updated_at", "cancelled_at"}  # when, not what


def _world(client) -> int:
    """A channel; TENT at north (3) and baltic (2, ships to FR only); MUG at kiln (split per
    unit, 4); BACK (a backorder variant) at north (1); EMPTY with no stock anywhere."""
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    vendors = {}
    for name, priority, extra in (
        ("north", 10, {}),
        ("baltic", 20, {"countries": ["FR"], "countryFilter": "include"}),
        ("kiln", 30, {"orderSplitting": "splitQuantity"}),
    ):
        vendors[name] = client.post(
            "/api/dropship-providers.json",
            json={"name": name, "externalId": name, "priority": priority, **extra},
        ).json()
    for sku, policy in (
        ("TENT", "track"),
        ("MUG", "track"),
        ("BACK", "continue"),
        ("EMPTY", "track"),
    ):
        client.post(
            "/api/variants.json",
            json={"sku": sku, "name": sku, "inventoryPolicy": policy, "costPrice": 10},
        )
    for vendor, sku, quantity in (
        ("north", "TENT", 3),
        ("baltic", "TENT", 2),
        ("kiln", "MUG", 4),
        ("north", "BACK", 1),
    ):
        feed = client.post(
            "/api/inventory-feeds.json", json={"dropshipProviderId": vendors[vendor]["id"]}
        ).json()
        response = client.put(
            f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
            json={"externalId": f"{vendor}-{sku}", "vendorSku": sku, "inventoryQuantity": quantity},
        )
        assert response.status_code == 200, response.text
    return int(channel["id"])


lines = st.lists(
    st.tuples(
        st.sampled_from(["l1", "l2", "l3"]),
        st.sampled_from(["TENT", "MUG", "BACK", "EMPTY", "NOPE"]),
        st.integers(1, 3),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda line: line[0],
)
sales = st.lists(
    st.fixed_dictionaries(
        {
            "externalId": st.sampled_from(["s0", "s1", "s2", "s3", "s4"]),
            "lines": lines,
            "country": st.sampled_from(["US", "FR"]),
            "reference": st.sampled_from([None, None, None, "R-1", "R-2", "10001", "10002"]),
            "cancelled": st.sampled_from([False, False, False, True]),
        }
    ),
    min_size=1,
    max_size=8,
)


def _body(sale: dict[str, Any]) -> ManualSale:
    defaults: dict[str, Any] = {"receiverCountry": sale["country"]}
    if sale["reference"]:
        defaults["reference"] = sale["reference"]
    if sale["cancelled"]:
        defaults["cancelled"] = True
    return ManualSale.model_validate(
        {
            "externalId": sale["externalId"],
            "saleDefaults": defaults,
            "lineItems": [
                {"externalId": line_id, "quantity": quantity, "variant": {"sku": sku}}
                for line_id, sku, quantity in sale["lines"]
            ],
        }
    )


def _snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a sale writes, minus timestamps, in primary-key order."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    with database.session(write=False) as session:
        for name in TABLES:
            table = Base.metadata.tables[name]
            columns = [c for c in table.columns if c.name not in MOMENTS]
            rows = session.execute(select(*columns).order_by(*table.primary_key.columns))
            snapshot[name] = [tuple(row) for row in rows]
        assert inventory.ledger_mismatches(session) == []
    return snapshot


def _outcome(outcome: Any) -> Any:
    if isinstance(outcome, DomainError):
        return ("failed", type(outcome).__name__, outcome.message)
    sale, changed = outcome
    return ("applied", sale.id, changed)


def _fresh_world(client, database: Database) -> int:
    empty_all_tables(database)
    client.headers["Authorization"] = f"Bearer {make_token(database)}"
    return _world(client)


def _sale(external_id: str, reference: str | None) -> dict[str, Any]:
    return {
        "externalId": external_id,
        "lines": [("l1", "TENT", 1)],
        "country": "US",
        "reference": reference,
        "cancelled": False,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=sales)
@example(  # s0 gives up 10001 (its order 10001-01): s1 may not take it, s2 gets 10002
    batch=[_sale("s0", None), _sale("s0", "R-1"), _sale("s1", "10001"), _sale("s2", None)]
)
def test_a_batch_ends_where_one_by_one_ends(client, database, batch):
    bodies = [_body(sale) for sale in batch]

    channel_id = _fresh_world(client, database)
    one_by_one = []
    for data in bodies:
        try:
            with database.transaction() as session:
                channel = session.get(Channel, channel_id)
                one_by_one.append(
                    _outcome(manual.upsert_manual_sale(session, channel=channel, data=data))
                )
        except DomainError as exc:
            one_by_one.append(_outcome(exc))
    expected = _snapshot(database)

    assert _fresh_world(client, database) == channel_id
    with database.transaction() as session:
        channel = session.get(Channel, channel_id)
        together = [
            _outcome(o) for o in manual.upsert_manual_sales(session, channel=channel, sales=bodies)
        ]
    assert together == one_by_one
    assert _snapshot(database) == expected


def _stock(client, count: int) -> int:
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    vendor = client.post("/api/dropship-providers.json", json={"name": "V"}).json()
    feed = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]}
    ).json()
    for n in range(count):
        client.post("/api/variants.json", json={"sku": f"S-{n}", "name": "s"})
        client.put(
            f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
            json={"externalId": f"S-{n}", "vendorSku": f"S-{n}", "inventoryQuantity": 100},
        )
    return int(channel["id"])


def _counted(database: Database, channel_id: int, bodies: list[ManualSale]) -> list[str]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with database.transaction() as session:
        channel = session.get(Channel, channel_id)
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            outcomes = manual.upsert_manual_sales(session, channel=channel, sales=bodies)
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
    assert not any(isinstance(o, DomainError) for o in outcomes)
    return statements


def _new_sales(prefix: str, count: int) -> list[ManualSale]:
    return [
        ManualSale.model_validate(
            {
                "externalId": f"{prefix}-{n}",
                "saleDefaults": {"receiverCountry": "US"},
                "lineItems": [
                    {"externalId": "l1", "quantity": 1, "variant": {"sku": f"S-{n % 7}"}},
                    {"externalId": "l2", "quantity": 2, "variant": {"sku": f"S-{(n + 3) % 7}"}},
                ],
            }
        )
        for n in range(count)
    ]


def test_a_batch_of_new_sales_costs_a_constant_number_of_statements(client, database):
    """Everything a batch sends, commit steps aside, whether it has 5 sales or 50."""
    channel_id = _stock(client, 7)
    few = _counted(database, channel_id, _new_sales("few", 5))
    many = _counted(database, channel_id, _new_sales("many", 50))
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 16, "\n".join(many)
    with database.session(write=False) as session:
        assert session.scalar(select(Sale.id).where(Sale.external_id == "many-49")) is not None
        purchases = session.scalars(select(Purchase)).all()
        assert len(purchases) == 55 and all(len(p.items) == 2 for p in purchases)
