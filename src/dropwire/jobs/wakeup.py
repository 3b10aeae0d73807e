"""Wake this process's workers when new work commits, instead of at their next poll."""

import threading
from typing import Protocol


class Wakeable(Protocol):
    def wake(self) -> None: ...


_RUNNING: set[Wakeable] = set()
_LOCK = threading.Lock()


def register(worker: Wakeable) -> None:
    with _LOCK:
        _RUNNING.add(worker)


def unregister(worker: Wakeable) -> None:
    with _LOCK:
        _RUNNING.discard(worker)


def notify() -> None:
    """New work was committed in this process: every worker here looks now."""
    with _LOCK:
        workers = list(_RUNNING)
    for worker in workers:
        worker.wake()
