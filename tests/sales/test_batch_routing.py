"""Lines routed together end where routing them one by one would have put them."""

from sqlalchemy import event, select

from dropwire.inventory import service as inventory
from dropwire.inventory.models import InventoryLevel, Location
from tests.sales.conftest import World


def vendor_names(world: World, sale: dict) -> dict[str, str]:
    """{line external id: vendor name} of the routed lines."""
    names = {v["id"]: name for name, v in world.vendors.items()}
    by_item = {item["id"]: item["externalId"] for item in sale["saleItems"]}
    return {
        by_item[pi["saleItemId"]]: names[purchase["dropshipProviderId"]]
        for purchase in sale["purchases"]
        for pi in purchase["purchaseItems"]
    }


def test_later_lines_see_what_earlier_lines_of_the_sale_took(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 3)
    world.stock("baltic", "TENT", 5)
    sale = world.post("o-1", [("l1", "TENT", 2), ("l2", "TENT", 2), ("l3", "TENT", 1)]).json()
    assert vendor_names(world, sale) == {"l1": "north", "l2": "baltic", "l3": "north"}
    assert [p["externalReference"] for p in sale["purchases"]] == ["10001-01", "10001-02"]
    assert sale["dropshipProblems"] == []


def test_a_line_refused_at_its_source_tries_the_next(world: World, database, postgres_only):
    """Another sale takes north's units between this sale's reads and its guarded UPDATE."""
    variant = world.variant("TENT")
    world.stock("north", "TENT", 2)
    world.stock("baltic", "TENT", 2)
    with database.session(write=False) as session:
        north = session.scalar(
            select(InventoryLevel.location_id)
            .join(Location, Location.id == InventoryLevel.location_id)
            .where(InventoryLevel.variant_id == variant["id"])
            .order_by(InventoryLevel.id)
        )
    fired: list[bool] = []

    def race(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("UPDATE inventory_levels") and not fired:
            fired.append(True)
            with database.transaction() as other:
                inventory.allocate(
                    other, requests=[inventory.AllocationRequest(variant["id"], north, 2)]
                )

    event.listen(database.engine, "before_cursor_execute", race)
    try:
        sale = world.post("o-1", [("l1", "TENT", 1)]).json()
    finally:
        event.remove(database.engine, "before_cursor_execute", race)
    assert fired
    assert vendor_names(world, sale) == {"l1": "baltic"}
    assert sale["dropshipProblems"] == []
    with database.transaction() as session:
        assert inventory.ledger_mismatches(session) == []
