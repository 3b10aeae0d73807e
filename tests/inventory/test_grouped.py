"""Allocations as units of work of their own, applied together in group transactions."""

import threading

import pytest
from bench import grouped_allocations as grouped
from sqlalchemy import select

from dropwire.core.errors import Invalid
from dropwire.core.group_transaction import GroupCommitFailed, GroupTransactions, UnitKind
from dropwire.inventory import service
from dropwire.inventory.errors import InsufficientStock
from dropwire.inventory.models import Allocation, InventoryLevel
from tests.failing_commit import add_a_row_that_fails_at_commit
from tests.inventory.conftest import new_variant, warehouse_location


def stocked(database, sku, units):
    variant = new_variant(database, sku)
    location = warehouse_location(database)
    with database.transaction() as session:
        service.adjust_stocked(session, variant_id=variant, location_id=location, delta=units)
    return variant, location


def unit(variant, location, quantity, field="quantity"):
    return grouped._Allocate(
        (service.AllocationRequest(variant, location, quantity, field=field),), None
    )


def alone(database, variant, location, quantity, field="quantity"):
    request = service.AllocationRequest(variant, location, quantity, field=field)
    try:
        with database.transaction() as session:
            return [a.id for a in service.allocate(session, requests=[request])]
    except InsufficientStock as exc:
        return exc


def levels(database, variant):
    with database.session(write=False) as session:
        level = session.scalars(
            select(InventoryLevel).where(InventoryLevel.variant_id == variant)
        ).one()
        return level.stocked, level.allocated


def test_each_unit_of_a_group_gets_what_it_would_have_got_alone(database):
    hot, location = stocked(database, "G-HOT", 5)
    twin, _ = stocked(database, "G-TWIN", 5)
    quantities = [3, 3, 2, 1]
    outcomes = GroupTransactions(database).apply(
        [
            (grouped.ALLOCATE, unit(hot, location, q, f"lines[{n}]"))
            for n, q in enumerate(quantities)
        ]
    )
    by_themselves = [
        alone(database, twin, location, q, f"lines[{n}]") for n, q in enumerate(quantities)
    ]
    for together, by_itself in zip(outcomes, by_themselves, strict=True):
        if isinstance(by_itself, InsufficientStock):
            assert isinstance(together, InsufficientStock)
            assert [p.field for p in together.errors] == [p.field for p in by_itself.errors]
            assert str(together).replace(f"variant {hot} ", "variant V ") == str(by_itself).replace(
                f"variant {twin} ", "variant V "
            )
        else:
            assert isinstance(together, tuple) and len(together) == len(by_itself) == 1
    assert [isinstance(o, InsufficientStock) for o in outcomes] == [False, True, False, True]
    assert levels(database, hot) == levels(database, twin) == (5, 5)
    with database.session(write=False) as session:
        kept = session.scalars(select(Allocation.id).where(Allocation.variant_id == hot)).all()
        assert sorted(kept) == sorted(outcomes[0] + outcomes[2])  # nothing of a refused unit
        assert service.ledger_mismatches(session) == []


def test_a_bad_unit_fails_alone_and_the_others_commit(database):
    hot, location = stocked(database, "G-BAD", 4)
    outcomes = GroupTransactions(database).apply(
        [(grouped.ALLOCATE, unit(hot, location, q)) for q in (1, 0, 2)]
    )
    assert isinstance(outcomes[1], Invalid)
    assert all(isinstance(outcomes[i], tuple) for i in (0, 2))
    assert levels(database, hot) == (4, 3)


def _poisoned(session, requests):
    """Allocates, then leaves a row whose deferred foreign key fails only at the commit."""
    outcomes = grouped._allocate_all(session, requests)
    add_a_row_that_fails_at_commit(session)
    return outcomes


def test_a_failed_commit_fails_every_unit_and_stores_nothing(database):
    hot, location = stocked(database, "G-COMMIT", 4)
    poisoned = UnitKind("test.poisoned", _poisoned)
    outcomes = GroupTransactions(database).apply(
        [(grouped.ALLOCATE, unit(hot, location, 1)), (poisoned, unit(hot, location, 1))]
    )
    assert all(isinstance(outcome, GroupCommitFailed) for outcome in outcomes)
    assert levels(database, hot) == (4, 0)


@pytest.mark.parametrize("clients", [8])
def test_concurrent_callers_never_oversell_and_are_answered_after_the_commit(database, clients):
    variants = [stocked(database, f"G-RACE-{n}", 20) for n in range(2)]
    made: list[int] = []
    refused: list[Exception] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(index: int) -> None:
        start.wait()
        left = list(variants)
        while left:
            variant, location = left[index % len(left)]
            try:
                ids = grouped.allocate_now(
                    database, [service.AllocationRequest(variant, location, 1)]
                )
            except InsufficientStock as exc:
                left.remove((variant, location))
                with lock:
                    refused.append(exc)
                continue
            with database.session(write=False) as session:  # committed when answered
                assert session.scalar(select(Allocation.id).where(Allocation.id == ids[0]))
            with lock:
                made.extend(ids)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == len(set(made)) == 40
    assert len(refused) == clients * 2
    for variant, _ in variants:
        assert levels(database, variant) == (20, 20)
    with database.session(write=False) as session:
        assert service.ledger_mismatches(session) == []
