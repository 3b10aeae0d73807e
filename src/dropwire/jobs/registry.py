"""Job kinds and their handlers. A handler runs inside the transaction that completes its job.

A worker runs a claimed batch in one transaction, each job in its own savepoint. A kind that can
apply many jobs set-based also registers a batch handler: consecutive jobs of that kind in a batch
go to it in one call (in queue order); if it raises, the worker rolls that call back and runs the
jobs one by one, so only the failing job fails.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[[Session, dict[str, Any]], None]
BatchHandler = Callable[[Session, list[dict[str, Any]]], None]
DeadHook = Callable[[Session, dict[str, Any], str], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Handler
    on_dead: DeadHook | None = None  # record the final failure (e.g. into the API log)
    run_batch: BatchHandler | None = None  # the payloads of several jobs, in queue order


_KINDS: dict[str, JobKind] = {}


def handler(
    name: str, on_dead: DeadHook | None = None, batch: BatchHandler | None = None
) -> Callable[[Handler], Handler]:
    """`@handler("kind")` registers `def handle(session, payload) -> None`.

    `batch=`: `def handle_all(session, payloads) -> None`, the same effects as calling the handler
    on each payload in order, applied set-based.
    """

    def register(function: Handler) -> Handler:
        _KINDS[name] = JobKind(name, function, on_dead, batch)
        return function

    return register


def kind(name: str) -> JobKind | None:
    return _KINDS.get(name)


def registered() -> list[str]:
    return sorted(_KINDS)
