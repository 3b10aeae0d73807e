"""What one write transaction gathers for its commit, installed on every session by `Database`.

Domains record what changed under a topic (`changes`); just before COMMIT the wired steps
(`CommitSteps`, assembled by the entry points from the domains' declarations) turn those
changes into rows of their own (outbound messages, queued store calls) in the same
transaction, so a change and what it causes commit together or not at all. Callbacks given to
`call_after_commit` run once it has committed (waking workers); a rollback forgets both.

Because `Database` installs this on its session factories, the API, a worker and a CLI command
behave the same: no module has to be imported for its side effect on SQLAlchemy's `Session`.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from dropwire.core.wiring import wired

log = logging.getLogger("dropwire.unit_of_work")

CHANGES_KEY = "dropwire.changes"
AFTER_COMMIT_KEY = "dropwire.after_commit"
ROUNDS = 4  # a step may record changes of its own, which the next round handles

T = TypeVar("T")
Step = Callable[[Session, Mapping[str, Any]], None]


@dataclass(frozen=True)
class CommitStep:
    """`run(session, changes)` runs before a commit that changed one of its `topics`, after the
    steps it names in `after` (they may record changes it reads; a step never orders by a
    number)."""

    name: str
    topics: frozenset[str]
    run: Step  # gets every topic's changes; runs when any of its own topics changed
    after: tuple[str, ...] = ()


class CommitSteps:
    """The assembled steps, each after those it names, otherwise in the order declared."""

    def __init__(self, steps: Sequence[CommitStep]) -> None:
        by_name = {step.name: step for step in steps}
        if len(by_name) != len(steps):
            raise ValueError("two commit steps share a name")
        ordered: list[CommitStep] = []
        placing: set[str] = set()

        def place(step: CommitStep) -> None:
            if step in ordered:
                return
            if step.name in placing:
                raise ValueError(f"commit steps wait for each other in a loop at {step.name}")
            placing.add(step.name)
            for name in step.after:
                if name not in by_name:
                    raise ValueError(f"commit step {step.name} waits for unknown step {name}")
                place(by_name[name])
            ordered.append(step)

        for step in steps:
            place(step)
        self.steps: tuple[CommitStep, ...] = tuple(ordered)


def changes(session: Session, *, topic: str, empty: Callable[[], T]) -> T:
    """This transaction's record for `topic` (made with `empty()` on first use)."""
    gathered: dict[str, Any] = session.info.setdefault(CHANGES_KEY, {})
    if topic not in gathered:
        gathered[topic] = empty()
    value: T = gathered[topic]
    return value


def recorded(session: Session, *, topic: str) -> Any:
    """What was recorded for `topic` so far, or None (a read that records nothing)."""
    return session.info.get(CHANGES_KEY, {}).get(topic)


def call_after_commit(session: Session, *, key: str, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction commits (once per key); never on rollback."""
    session.info.setdefault(AFTER_COMMIT_KEY, {})[key] = callback


def _run_steps(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: its changes wait for the real commit
    if not session.info.get(CHANGES_KEY):
        return
    steps = wired(session, kind=CommitSteps).steps  # none wired: `NotWired`, never a silent commit
    for _ in range(ROUNDS):
        gathered: dict[str, Any] | None = session.info.pop(CHANGES_KEY, None)
        if not gathered:
            return
        for step in steps:
            if step.topics & gathered.keys():
                step.run(session, gathered)
    leftover = sorted(session.info.pop(CHANGES_KEY, {}))
    if leftover:
        log.error("commit steps kept recording changes; dropped topics %s", leftover)


def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # SQLAlchemy says "after commit" of a savepoint too: nothing is durable yet
    for callback in session.info.pop(AFTER_COMMIT_KEY, {}).values():
        callback()


def _forget(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # a savepoint's rollback keeps what the outer work recorded
        session.info.pop(CHANGES_KEY, None)
        session.info.pop(AFTER_COMMIT_KEY, None)


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "before_commit", _run_steps)
    event.listen(factory, "after_commit", _run_after_commit)
    event.listen(factory, "after_soft_rollback", _forget)
