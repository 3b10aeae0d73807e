"""On PostgreSQL, concurrent allocations racing for the last units never oversell."""

import threading

from sqlalchemy import select

from dropwire.core.errors import DomainError
from dropwire.inventory import service
from dropwire.inventory.errors import InsufficientStock
from dropwire.inventory.models import InventoryLevel
from tests.inventory.conftest import new_variant, warehouse_location


def test_racing_allocations_never_oversell(database, postgres_only):
    home = warehouse_location(database)
    second = warehouse_location(database, "Second")
    variants = [new_variant(database, f"HOT-{i}") for i in range(3)]
    with database.transaction() as session:
        for variant in variants:
            service.adjust_stocked(session, variant_id=variant, location_id=home, delta=7)
            service.adjust_stocked(session, variant_id=variant, location_id=second, delta=3)
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker(index: int) -> None:
        start.wait()
        for attempt in range(6):
            requests = [
                service.AllocationRequest(variants[(index + attempt) % 3], home, 1 + attempt % 2),
                service.AllocationRequest(variants[(index + attempt + 1) % 3], second, 1),
            ]
            try:
                with database.transaction() as session:
                    service.allocate(session, requests=requests)
                result = "ok"
            except InsufficientStock:
                result = "insufficient"
            except DomainError as exc:  # any other refusal would be a bug
                result = f"unexpected {exc}"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(outcomes) <= {"ok", "insufficient"}
    assert "insufficient" in outcomes
    with database.transaction() as session:
        levels = list(session.scalars(select(InventoryLevel)))
        assert all(level.allocated <= level.stocked for level in levels)
        assert sum(level.allocated for level in levels) > 0
        assert service.ledger_mismatches(session) == []
