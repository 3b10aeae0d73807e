"""Job kinds used only by the tests (importable by worker subprocesses too), declared like a
domain's (`CONTRIBUTIONS`), wired by the test database fixture."""

import os
import time
from typing import Any

from sqlalchemy.orm import Session

from dropwire import domains
from dropwire.apilog.models import ApiLog, Direction, LogStatus
from dropwire.contributions import Contributions, assemble
from dropwire.inventory.models import Warehouse
from dropwire.jobs.registry import JobKind
from tests.failing_commit import add_a_row_that_fails_at_commit


def make_warehouse(session: Session, payload: dict[str, Any]) -> None:
    """An effect that must happen exactly once; slow when the test asks it to be."""
    session.add(Warehouse(name=payload["name"]))
    session.flush()
    if os.environ.get("DROPWIRE_TEST_SLOW_JOBS"):
        time.sleep(60)


def count(session: Session, payload: dict[str, Any]) -> None:
    """One row per run that commits; slow when the payload asks (to outlast a short lease)."""
    time.sleep(payload.get("sleep", 0))
    session.add(
        ApiLog(
            direction=Direction.inbound_async,
            method="JOB",
            endpoint="test",
            status=LogStatus.success,
            kind="test.count",
            external_id=str(payload["n"]),
        )
    )


FAILURES: dict[str, int] = {}


def flaky(session: Session, payload: dict[str, Any]) -> None:
    key = payload["key"]
    FAILURES[key] = FAILURES.get(key, 0) + 1
    if FAILURES[key] <= payload["fail_times"]:
        raise RuntimeError(f"boom {FAILURES[key]}")
    session.add(Warehouse(name=key))


BATCH_CALLS: list[list[str]] = []


def _ordered_batch(session: Session, payloads: list[dict[str, Any]]) -> None:
    """Set-based twin of `test.ordered`: fails whole when any payload asks to fail."""
    BATCH_CALLS.append([payload["name"] for payload in payloads])
    if any(payload.get("fail") for payload in payloads):
        raise RuntimeError("a payload of the batch is bad")
    session.add_all([Warehouse(name=payload["name"]) for payload in payloads])
    session.flush()


def ordered(session: Session, payload: dict[str, Any]) -> None:
    if payload.get("fail"):
        raise RuntimeError(f"bad {payload['name']}")
    session.add(Warehouse(name=payload["name"]))
    session.flush()


def commit_fails(session: Session, payload: dict[str, Any]) -> None:
    """Writes a row whose deferred foreign key fails only when the transaction commits."""
    session.add(Warehouse(name=payload["name"]))
    add_a_row_that_fails_at_commit(session)


CONTRIBUTIONS = Contributions(
    job_kinds=(
        JobKind("test.make_warehouse", make_warehouse),
        JobKind("test.count", count),
        JobKind("test.flaky", flaky),
        JobKind("test.ordered", ordered, run_batch=_ordered_batch),
        JobKind("test.commit_fails", commit_fails),
    )
)

# Every domain's declarations, as the app and the workers wire them, and these job kinds: the
# test database's wiring (worker subprocesses of the tests build theirs from it too).
TEST_WIRING = assemble((*domains.DECLARATIONS, CONTRIBUTIONS))
