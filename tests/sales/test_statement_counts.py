"""A sale costs a constant number of statements, not a number per line (issue 14's cheap path).

Counted with SQLAlchemy's `before_cursor_execute` on the real database (SQLite or PostgreSQL):
everything `upsert_manual_sale` sends for a new sale of 20 lines spread over three vendors, one
of them splitting per unit, with one line that has no variant and one that no source can supply.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from dropwire.channels.models import Channel
from dropwire.core.db import Database
from dropwire.inventory import service as inventory
from dropwire.inventory.models import Allocation, InventoryMovement
from dropwire.sales import manual
from dropwire.sales.models import Purchase, PurchaseItem, Sale
from dropwire.sales.schemas import ManualSale
from tests.sales.conftest import World

PER_LINE = 5


@contextmanager
def counted(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def _stock(world: World, lines: int) -> None:
    vendors = ("north", "baltic", "kiln")
    for n in range(lines):
        world.variant(f"SKU-{n}")
        world.stock(vendors[n % 3], f"SKU-{n}", 100)
    world.variant("EMPTY")


def _sale(external_id: str, lines: int) -> ManualSale:
    items = [
        {"externalId": f"l{n}", "quantity": 1 + n % 2, "price": 5, "variant": {"sku": f"SKU-{n}"}}
        for n in range(lines - 2)
    ]
    items.append({"externalId": "nosku", "quantity": 1, "variant": {"sku": "NO-SUCH-SKU"}})
    items.append({"externalId": "empty", "quantity": 1, "variant": {"sku": "EMPTY"}})
    return ManualSale.model_validate(
        {"externalId": external_id, "lineItems": items, "saleDefaults": {"receiverCountry": "US"}}
    )


def _post(database: Database, world: World, data: ManualSale) -> list[str]:
    with database.transaction() as session, counted(database) as statements:
        channel = session.get(Channel, world.channel_id)
        manual.upsert_manual_sale(session, channel=channel, data=data)
    return statements


def test_a_twenty_line_sale_costs_at_most_five_statements_a_line(database, world: World):
    _stock(world, 20)
    statements = _post(database, world, _sale("big", 20))
    assert len(statements) <= PER_LINE * 20, "\n".join(statements)
    with database.transaction() as session:
        sale = session.scalar(select(Sale).where(Sale.external_id == "big"))
        assert sale is not None
        problems = sorted(sale.dropship_problems)
        assert problems == [
            "empty: no source can supply 1 of EMPTY",
            "nosku: no variant with SKU 'NO-SUCH-SKU'",
        ]
        routed = [item for item in sale.items if item.external_id.startswith("l")]
        assert len(routed) == 18 and all(item.problem is None for item in routed)
        references = sorted(p.external_reference for p in sale.purchases)
        kiln_units = sum(1 + n % 2 for n in range(18) if n % 3 == 2)
        assert len(references) == 2 + kiln_units  # north, baltic grouped; kiln one per unit
        assert references == [f"{sale.reference}-{k:02d}" for k in range(1, len(references) + 1)]
        purchase_items = list(
            session.scalars(select(PurchaseItem).join(Purchase).where(Purchase.sale_id == sale.id))
        )
        allocations = {a.id: a for a in session.scalars(select(Allocation))}
        assert {pi.allocation_id for pi in purchase_items} == set(allocations)
        assert sum(pi.quantity for pi in purchase_items) == sum(1 + n % 2 for n in range(18))
        ledger = list(
            session.scalars(
                select(InventoryMovement).where(InventoryMovement.cause == "allocation")
            )
        )
        assert {m.reference_id for m in ledger} == set(allocations)
        assert inventory.ledger_mismatches(session) == []


def test_the_count_does_not_grow_with_the_lines(database, world: World):
    _stock(world, 20)
    small = _post(database, world, _sale("small", 3))
    big = _post(database, world, _sale("big", 20))
    assert len(big) - len(small) <= 4, "\n".join(big)
