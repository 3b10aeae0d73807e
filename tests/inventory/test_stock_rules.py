"""Rules of stock, called on the services directly."""

import pytest
from sqlalchemy import func, select

from dropwire.catalog.models import InventoryPolicy
from dropwire.core.errors import Invalid
from dropwire.inventory import service
from dropwire.inventory.errors import InsufficientStock
from dropwire.inventory.models import Allocation, InventoryLevel, InventoryMovement
from dropwire.inventory.service import AllocationRequest


def level(database, variant_id, location_id):
    with database.session(write=False) as session:
        row = session.scalars(
            select(InventoryLevel).where(
                InventoryLevel.variant_id == variant_id, InventoryLevel.location_id == location_id
            )
        ).one()
        return row.stocked, row.allocated, row.available


def movements(database):
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(InventoryMovement))


def stock(database, variant_id, location_id, quantity):
    with database.transaction() as session:
        service.adjust_stocked(
            session, variant_id=variant_id, location_id=location_id, delta=quantity
        )


def test_adjust_changes_stocked_and_writes_the_ledger(database, variant_factory, main_location):
    variant = variant_factory("A")
    stock(database, variant, main_location, 10)
    with database.transaction() as session:
        change = service.adjust_stocked(
            session, variant_id=variant, location_id=main_location, set_to=7, reason="count"
        )
        assert change.movement is not None
        assert change.movement.delta_stocked == -3
        assert change.movement.stocked_after == 7
    assert level(database, variant, main_location) == (7, 0, 7)
    assert movements(database) == 2


def test_setting_the_same_value_writes_nothing(database, variant_factory, main_location):
    variant = variant_factory("A")
    stock(database, variant, main_location, 5)
    with database.transaction() as session:
        change = service.adjust_stocked(
            session, variant_id=variant, location_id=main_location, set_to=5
        )
        assert change.movement is None
    assert movements(database) == 1


def test_stocked_never_goes_negative(database, variant_factory, main_location):
    variant = variant_factory("A")
    stock(database, variant, main_location, 2)
    with pytest.raises(Invalid), database.transaction() as session:
        service.adjust_stocked(session, variant_id=variant, location_id=main_location, delta=-3)
    assert level(database, variant, main_location) == (2, 0, 2)
    assert movements(database) == 1


def test_unknown_variant_or_location(database, main_location, variant_factory):
    with pytest.raises(Invalid) as error, database.transaction() as session:
        service.adjust_stocked(session, variant_id=999, location_id=main_location, delta=1)
    assert error.value.errors[0].field == "variantId"
    variant = variant_factory("A")
    with pytest.raises(Invalid) as error, database.transaction() as session:
        service.adjust_stocked(session, variant_id=variant, location_id=999, delta=1)
    assert error.value.errors[0].field == "locationId"


def test_allocation_is_all_or_nothing(database, variant_factory, main_location):
    a, b = variant_factory("A"), variant_factory("B")
    stock(database, a, main_location, 5)
    stock(database, b, main_location, 1)
    with pytest.raises(InsufficientStock) as error, database.transaction() as session:
        service.allocate(
            session,
            requests=[
                AllocationRequest(a, main_location, 3, field="lineItems[0].quantity"),
                AllocationRequest(b, main_location, 2, field="lineItems[1].quantity"),
            ],
        )
    assert error.value.errors[0].field == "lineItems[1].quantity"
    assert level(database, a, main_location) == (5, 0, 5)
    assert level(database, b, main_location) == (1, 0, 1)
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Allocation)) == 0


def test_allocation_failure_inside_a_caller_transaction_leaves_earlier_work(
    database, variant_factory, main_location
):
    a = variant_factory("A")
    stock(database, a, main_location, 1)
    with database.transaction() as session:
        service.adjust_stocked(session, variant_id=a, location_id=main_location, delta=1)
        with pytest.raises(InsufficientStock):
            service.allocate(session, requests=[AllocationRequest(a, main_location, 5)])
    assert level(database, a, main_location) == (2, 0, 2)


def test_allocate_ship_release(database, variant_factory, main_location):
    a = variant_factory("A")
    stock(database, a, main_location, 10)
    with database.transaction() as session:
        (allocation,) = service.allocate(
            session, requests=[AllocationRequest(a, main_location, 4, sale_id=1, sale_item_id=11)]
        )
        allocation_id = allocation.id
    assert level(database, a, main_location) == (10, 4, 6)
    with database.transaction() as session:
        service.ship(session, allocation_id=allocation_id, quantity=1)
    assert level(database, a, main_location) == (9, 3, 6)
    with database.transaction() as session:
        done = service.release(
            session, allocation_id=allocation_id, quantity=3, cause="cancellation"
        )
        assert done.is_open is False
    assert level(database, a, main_location) == (9, 0, 9)
    with pytest.raises(Invalid), database.transaction() as session:
        service.ship(session, allocation_id=allocation_id, quantity=1)


def test_deny_and_track_never_oversell_but_continue_backorders(
    database, variant_factory, main_location
):
    deny = variant_factory("D", InventoryPolicy.deny)
    back = variant_factory("C", InventoryPolicy.continue_)
    stock(database, deny, main_location, 1)
    stock(database, back, main_location, 1)
    with pytest.raises(InsufficientStock), database.transaction() as session:
        service.allocate(session, requests=[AllocationRequest(deny, main_location, 2)])
    with database.transaction() as session:
        service.allocate(session, requests=[AllocationRequest(back, main_location, 3)])
    assert level(database, back, main_location) == (1, 3, -2)


def test_shipping_a_backorder_needs_stock(database, variant_factory, main_location):
    back = variant_factory("C", InventoryPolicy.continue_)
    with database.transaction() as session:
        (allocation,) = service.allocate(
            session, requests=[AllocationRequest(back, main_location, 2)]
        )
        allocation_id = allocation.id
    with pytest.raises(Invalid), database.transaction() as session:
        service.ship(session, allocation_id=allocation_id, quantity=1)
    stock(database, back, main_location, 2)
    with database.transaction() as session:
        service.ship(session, allocation_id=allocation_id, quantity=2)
    assert level(database, back, main_location) == (0, 0, 0)


def test_non_positive_quantities_are_refused(database, variant_factory, main_location):
    a = variant_factory("A")
    stock(database, a, main_location, 5)
    with pytest.raises(Invalid), database.transaction() as session:
        service.allocate(session, requests=[AllocationRequest(a, main_location, 0)])
    with pytest.raises(Invalid), database.transaction() as session:
        service.adjust_stocked(session, variant_id=a, location_id=main_location, set_to=-1)


def test_touched_variants_are_recorded(database, variant_factory, main_location):
    a = variant_factory("A")
    with database.transaction() as session:
        service.adjust_stocked(session, variant_id=a, location_id=main_location, delta=3)
        assert service.touched_variants(session) == {a}


def test_rebuild_reproduces_levels(database, variant_factory, main_location):
    a, b = variant_factory("A"), variant_factory("B")
    stock(database, a, main_location, 8)
    stock(database, b, main_location, 3)
    with database.transaction() as session:
        service.allocate(session, requests=[AllocationRequest(a, main_location, 2)])
    before = (level(database, a, main_location), level(database, b, main_location))
    with database.transaction() as session:
        session.execute(InventoryLevel.__table__.update().values(stocked=0, allocated=0))
        assert len(service.ledger_mismatches(session)) == 2
        service.rebuild_levels(session)
        assert service.ledger_mismatches(session) == []
    assert (level(database, a, main_location), level(database, b, main_location)) == before


def test_an_adjustment_never_takes_stocked_below_what_sales_hold(database):
    from dropwire.catalog.models import InventoryPolicy
    from dropwire.core.errors import Invalid
    from dropwire.inventory import service
    from tests.inventory.conftest import new_variant, warehouse_location

    tracked = new_variant(database, "T", InventoryPolicy.track)
    backorderable = new_variant(database, "C", InventoryPolicy.continue_)
    location = warehouse_location(database)
    for variant in (tracked, backorderable):
        with database.transaction() as session:
            service.adjust_stocked(session, variant_id=variant, location_id=location, delta=4)
            service.allocate(session, requests=[service.AllocationRequest(variant, location, 1)])
    with database.transaction() as session, pytest.raises(Invalid) as refused:
        service.adjust_stocked(session, variant_id=tracked, location_id=location, delta=-4)
    assert refused.value.errors[0].field == "quantity"
    assert "1 units allocated" in refused.value.message
    with database.transaction() as session:
        done = service.adjust_stocked(session, variant_id=tracked, location_id=location, set_to=1)
        assert (done.level.stocked, done.level.available) == (1, 0)
        back = service.adjust_stocked(
            session, variant_id=backorderable, location_id=location, delta=-4
        )
        assert back.level.available == -1  # `continue` variants may be sold short by design
