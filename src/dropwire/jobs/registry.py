"""Job kinds and their handlers. A handler runs inside the transaction that completes its job.

A domain declares its `JobKind`s in its contributions; the entry points wire them (`JobKinds`).

A worker runs a claimed batch in one transaction, each job in its own savepoint. A kind that can
apply many jobs set-based also has a batch handler (`run_batch`): consecutive jobs of that kind
in a batch go to it in one call (in queue order); if it raises, the worker rolls that call back
and runs the jobs one by one, so only the failing job fails.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from dropwire.core.db import Database

Handler = Callable[[Session, dict[str, Any]], None]
BatchHandler = Callable[[Session, list[dict[str, Any]]], None]
DeadHook = Callable[[Session, dict[str, Any], str], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Handler
    on_dead: DeadHook | None = None  # record the final failure (e.g. into the API log)
    run_batch: BatchHandler | None = None  # the payloads of several jobs, in queue order


class JobKinds:
    """The job kinds an entry point wired (`core.wiring`): the worker and `run_pending` look a
    claimed job's handler up here."""

    def __init__(self, kinds: Iterable[JobKind]) -> None:
        self._kinds: dict[str, JobKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"job kind {kind.name} is declared twice")
            self._kinds[kind.name] = kind

    def get(self, name: str) -> JobKind | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)


def job_kinds(database: Database) -> JobKinds:
    return database.wiring.part(JobKinds)
