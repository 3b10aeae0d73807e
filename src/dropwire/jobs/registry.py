"""Job kinds and their handlers. A handler runs inside the transaction that completes its job."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[[Session, dict[str, Any]], None]
DeadHook = Callable[[Session, dict[str, Any], str], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Handler
    on_dead: DeadHook | None = None  # record the final failure (e.g. into the API log)


_KINDS: dict[str, JobKind] = {}


def handler(name: str, on_dead: DeadHook | None = None) -> Callable[[Handler], Handler]:
    """`@handler("kind")` registers `def handle(session, payload) -> None`."""

    def register(function: Handler) -> Handler:
        _KINDS[name] = JobKind(name, function, on_dead)
        return function

    return register


def kind(name: str) -> JobKind | None:
    return _KINDS.get(name)


def registered() -> list[str]:
    return sorted(_KINDS)
