"""allocate_each: many independent groups in one guarded UPDATE, with the outcome of one call
per group in order (a group the batch refuses is tried again alone)."""

from sqlalchemy import event, func, select

from dropwire.catalog.models import InventoryPolicy
from dropwire.inventory import service
from dropwire.inventory.errors import InsufficientStock
from dropwire.inventory.models import Allocation, InventoryMovement
from dropwire.inventory.service import AllocationRequest
from tests.inventory.test_stock_rules import level, stock


def test_groups_that_fit_take_one_update_and_one_insert_each(
    database, variant_factory, main_location
):
    a, b = variant_factory("A"), variant_factory("B")
    stock(database, a, main_location, 5)
    stock(database, b, main_location, 5)
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement.split()[0])

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        with database.transaction() as session:
            outcomes = service.allocate_each(
                session,
                groups=[
                    [AllocationRequest(a, main_location, 2)],
                    [
                        AllocationRequest(b, main_location, 1),
                        AllocationRequest(b, main_location, 1),
                    ],
                    [AllocationRequest(a, main_location, 3)],
                ],
            )
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert [len(o) for o in outcomes if isinstance(o, list)] == [1, 2, 1]
    assert seen.count("UPDATE") == 1 and seen.count("INSERT") == 2, seen
    assert level(database, a, main_location) == (5, 5, 0)
    assert level(database, b, main_location) == (5, 2, 3)
    with database.transaction() as session:
        assert service.ledger_mismatches(session) == []
        afters = list(
            session.scalars(
                select(InventoryMovement.allocated_after)
                .where(InventoryMovement.cause == "allocation", InventoryMovement.variant_id == a)
                .order_by(InventoryMovement.id)
            )
        )
        assert afters == [2, 5]  # running values, as if allocated one by one


def test_a_group_the_batch_refuses_gets_what_a_call_of_its_own_would(
    database, variant_factory, main_location
):
    a = variant_factory("A")
    stock(database, a, main_location, 3)
    with database.transaction() as session:
        first, second, third = service.allocate_each(
            session,
            groups=[
                [AllocationRequest(a, main_location, 2, field="lineItems[0].quantity")],
                [AllocationRequest(a, main_location, 2, field="lineItems[1].quantity")],
                [AllocationRequest(a, main_location, 1, field="lineItems[2].quantity")],
            ],
        )
    assert isinstance(first, list) and first[0].quantity == 2
    assert isinstance(second, InsufficientStock)
    assert second.errors[0].field == "lineItems[1].quantity"
    assert isinstance(third, list) and third[0].quantity == 1
    assert level(database, a, main_location) == (3, 3, 0)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Allocation)) == 2
        assert service.ledger_mismatches(session) == []


def test_a_refused_group_changes_no_level_it_touched(database, variant_factory, main_location):
    a, b = variant_factory("A"), variant_factory("B")
    back = variant_factory("BACK", InventoryPolicy.continue_)
    stock(database, a, main_location, 4)
    stock(database, b, main_location, 1)
    with database.transaction() as session:
        (outcome,) = service.allocate_each(
            session,
            groups=[
                [
                    AllocationRequest(a, main_location, 2),
                    AllocationRequest(back, main_location, 7),
                    AllocationRequest(b, main_location, 2),
                ]
            ],
        )
        assert isinstance(outcome, InsufficientStock)
        assert outcome.variant_id == b
    assert level(database, a, main_location) == (4, 0, 4)
    assert level(database, b, main_location) == (1, 0, 1)
    assert level(database, back, main_location) == (0, 0, 0)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Allocation)) == 0
        assert service.ledger_mismatches(session) == []
