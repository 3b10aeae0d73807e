"""Which failures are transient (answered 503 + Retry-After), and what a client sees of them."""

import socket
import sqlite3
import threading
import time

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dropwire.app import create_app
from dropwire.core.transient import TransientKind, WriteSlotBusy, transient_kind


def _wrapped(error: Exception) -> OperationalError:
    return OperationalError("SELECT 1", {}, error)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (psycopg.errors.AdminShutdown("terminating"), TransientKind.shutdown),
        (psycopg.errors.SerializationFailure("could not serialize"), TransientKind.serialization),
        (psycopg.errors.DeadlockDetected("deadlock"), TransientKind.deadlock),
        (psycopg.errors.LockNotAvailable("lock timeout"), TransientKind.lock_timeout),
        (psycopg.errors.QueryCanceled("statement timeout"), TransientKind.statement_timeout),
        (psycopg.errors.IdleInTransactionSessionTimeout("idle"), TransientKind.connection),
        (psycopg.errors.TooManyConnections("too many"), TransientKind.resources),
        (psycopg.errors.DiskFull("no space"), TransientKind.disk_full),
        (psycopg.OperationalError("connection refused"), TransientKind.connection),
        (sqlite3.OperationalError("database is locked"), TransientKind.busy),
        (sqlite3.OperationalError("database or disk is full"), TransientKind.disk_full),
    ],
)
def test_database_failures_that_pass_with_time_are_transient(error, kind):
    assert transient_kind(_wrapped(error)) is kind
    assert transient_kind(error) is kind


def test_pool_exhaustion_and_a_busy_write_slot_are_transient():
    assert transient_kind(PoolTimeout("QueuePool limit reached")) is TransientKind.pool_exhausted
    assert transient_kind(WriteSlotBusy("no write slot")) is TransientKind.busy


def test_a_failure_caused_by_a_transient_one_is_transient():
    error = RuntimeError("Can't reconnect until invalid transaction is rolled back")
    error.__cause__ = _wrapped(psycopg.errors.AdminShutdown("terminating"))
    assert transient_kind(error) is TransientKind.shutdown


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")),
        ProgrammingError("SELECT", {}, psycopg.errors.UndefinedTable("no such table")),
        _wrapped(sqlite3.OperationalError("no such column: x")),
        ValueError("a bug"),
    ],
)
def test_bugs_and_refusals_are_not_transient(error):
    assert transient_kind(error) is None


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_unreachable_redis_counts_in_memory_and_never_fails_a_request(
    database, settings, admin_token
):
    redis_away = f"redis://127.0.0.1:{_unused_port()}"
    limited = settings.model_copy(
        update={
            "rate_limit_enabled": True,
            "rate_limit_read": "3/minute",
            "rate_limit_storage": redis_away,
        }
    )
    labels = {"kind": "connection", "where": "rate_limit"}
    before = _sample("dropwire_transient_failures_total", labels)
    headers = {"Authorization": f"Bearer {admin_token}"}
    with TestClient(create_app(database, limited)) as http:
        codes = [http.get("/api/channels.json", headers=headers).status_code for _ in range(4)]
        ready = http.get("/ready")
    assert codes == [200, 200, 200, 429]  # the limit still holds, counted in this process
    assert _sample("dropwire_transient_failures_total", labels) > before
    assert _sample("dropwire_rate_limit_fallback", {"counters": "api"}) == 1.0
    assert ready.status_code == 200
    assert ready.json()["redis"].startswith("unavailable")


def test_a_request_meeting_a_lock_held_too_long_answers_503_quickly(
    postgres_only, database, client
):
    vendor = client.post("/api/dropship-providers.json", json={"name": "Locked"}).json()
    holding = threading.Event()
    release = threading.Event()

    def hold_the_row() -> None:
        with database.engine.connect() as connection, connection.begin():
            connection.execute(
                text("SELECT id FROM dropship_providers WHERE id = :id FOR UPDATE"),
                {"id": vendor["id"]},
            )
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        answer = client.put(
            f"/api/dropship-providers/{vendor['id']}.json", json={"name": "Renamed"}
        )
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"
    assert "held by other work" in answer.json()["message"]
    assert waited < database.settings.api_lock_timeout + 3
    assert client.get(f"/api/dropship-providers/{vendor['id']}.json").json()["name"] == "Locked"
