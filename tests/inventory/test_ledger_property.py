"""Any sequence of stock operations keeps levels equal to the ledger and the invariants true."""

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dropwire.catalog.models import InventoryPolicy
from dropwire.core.errors import DomainError
from dropwire.inventory import service
from dropwire.inventory.models import Allocation, InventoryLevel
from tests.conftest import empty_all_tables
from tests.inventory.conftest import new_variant, warehouse_location

operation = st.one_of(
    st.tuples(st.just("adjust"), st.integers(0, 2), st.integers(0, 1), st.integers(-6, 12)),
    st.tuples(st.just("set"), st.integers(0, 2), st.integers(0, 1), st.integers(0, 15)),
    st.tuples(st.just("allocate"), st.integers(0, 2), st.integers(0, 1), st.integers(1, 6)),
    st.tuples(st.just("release"), st.integers(0, 50), st.just(0), st.integers(1, 4)),
    st.tuples(st.just("ship"), st.integers(0, 50), st.just(0), st.integers(1, 4)),
)


def apply(session, op, variants, locations, allocation_ids):
    kind, a, b, n = op
    if kind == "adjust":
        service.adjust_stocked(session, variant_id=variants[a], location_id=locations[b], delta=n)
    elif kind == "set":
        service.adjust_stocked(session, variant_id=variants[a], location_id=locations[b], set_to=n)
    elif kind == "allocate":
        (allocation,) = service.allocate(
            session, requests=[service.AllocationRequest(variants[a], locations[b], n)]
        )
        allocation_ids.append(allocation.id)
    elif allocation_ids:
        target = allocation_ids[a % len(allocation_ids)]
        if kind == "release":
            service.release(session, allocation_id=target, quantity=n)
        else:
            service.ship(session, allocation_id=target, quantity=n)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(operations=st.lists(operation, min_size=1, max_size=25))
@example(operations=[("adjust", 0, 0, 4), ("allocate", 0, 0, 1), ("adjust", 0, 0, -4)])
def test_levels_always_equal_the_ledger(database, operations):
    empty_all_tables(database)
    variants = [
        new_variant(database, "T", InventoryPolicy.track),
        new_variant(database, "D", InventoryPolicy.deny),
        new_variant(database, "C", InventoryPolicy.continue_),
    ]
    locations = [warehouse_location(database), warehouse_location(database, "Second")]
    allocation_ids: list[int] = []
    for op in operations:
        try:
            with database.transaction() as session:
                apply(session, op, variants, locations, allocation_ids)
        except DomainError:
            pass  # refused operations must change nothing, which the checks below prove
    with database.transaction() as session:
        assert service.ledger_mismatches(session) == []
        levels = list(session.scalars(select(InventoryLevel)))
        for level in levels:
            assert level.allocated >= 0
            assert level.stocked >= 0
            assert level.available == level.stocked - level.allocated
            if level.variant_id != variants[2]:
                assert level.available >= 0, "track/deny variants never oversell"
            open_units = sum(
                a.open_quantity
                for a in session.scalars(select(Allocation).where(Allocation.level_id == level.id))
            )
            assert open_units == level.allocated
        snapshot = {(lv.id, lv.stocked, lv.allocated) for lv in levels}
        service.rebuild_levels(session)
        rebuilt = {
            (lv.id, lv.stocked, lv.allocated) for lv in session.scalars(select(InventoryLevel))
        }
        assert rebuilt == snapshot
