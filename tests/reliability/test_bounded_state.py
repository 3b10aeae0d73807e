"""State that could grow with time stays bounded: metrics series by method, what the pool keeps
for a connection held long."""

from prometheus_client import REGISTRY
from sqlalchemy import text

from dropwire.core.db import driver_autocommit
from dropwire.jobs import claiming, service
from tests.jobs import handlers
from tests.jobs.test_queue import enqueue


def _series_count() -> int:
    return sum(
        1
        for metric in REGISTRY.collect()
        if metric.name == "dropwire_http_requests"
        for sample in metric.samples
        if sample.name == "dropwire_http_requests_total"
    )


def test_odd_methods_share_one_series(anonymous):
    anonymous.request("BREW", "/health")
    before = _series_count()
    for n in range(20):
        assert anonymous.request(f"BREW{n}", "/health").status_code == 405
    assert _series_count() == before
    sample = REGISTRY.get_sample_value(
        "dropwire_http_requests_total", {"method": "other", "route": "/health", "status": "405"}
    )
    assert sample is not None and sample >= 21


def _kept_on_checkin(connection) -> int:
    """Callbacks the pool keeps for this checked-out connection until it is given back (a
    list only giving it back empties: what a connection held for a thread's life piles up)."""
    return len(connection.connection._connection_record.finalize_callback)


def test_a_held_worker_connection_keeps_nothing_per_round(database, postgres_only):
    handlers.FAILURES.clear()
    with claiming.held_connection(database) as held:
        assert held is not None
        kept = _kept_on_checkin(held)
        for round_ in range(60):
            enqueue(database, "test.make_warehouse", {"name": f"H{round_}"})
            claimed = claiming.claim_batch(database, "w", 10, held=held)
            assert len(claimed) == 1
            service.run_batch(database, "w", claimed, held=held)
        assert _kept_on_checkin(held) == kept
        assert held.connection.dbapi_connection.autocommit is False


def test_switching_autocommit_at_the_driver_is_undone_and_keeps_nothing(database, postgres_only):
    with database.engine.connect() as connection:
        kept = _kept_on_checkin(connection)
        for _ in range(50):
            with driver_autocommit(connection, True):
                connection.execute(text("SELECT 1"))
                connection.commit()
        assert _kept_on_checkin(connection) == kept
        assert connection.connection.dbapi_connection.autocommit is False
        transaction = connection.begin()  # a real transaction again: its rollback undoes
        connection.execute(text("CREATE TEMPORARY TABLE t_rolled_back (n int)"))
        transaction.rollback()
        assert not connection.execute(
            text("SELECT count(*) FROM pg_class WHERE relname = 't_rolled_back'")
        ).scalar()
