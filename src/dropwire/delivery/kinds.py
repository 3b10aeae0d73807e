"""Outbound event kinds, declared by the domains that send them.

Delivery stores, signs, sends and retries any message; what an event is called, how long its
receiver may take and what a successful answer means for the sender's own records belong to the
domain that records it. A domain adds a kind without touching this package.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

DEFAULT_TIMEOUT = 10.0

# Runs in the transaction that records a successful attempt: (session, subject id, JSON reply).
Delivered = Callable[[Session, int, Any], None]


@dataclass(frozen=True)
class EventKind:
    name: str
    timeout: float = DEFAULT_TIMEOUT
    on_delivered: Delivered | None = None  # reads the receiver's JSON answer when set


class EventKinds:
    """The event kinds the entry points wired from the domains' declarations."""

    def __init__(self, kinds: Iterable[EventKind]) -> None:
        self._kinds: dict[str, EventKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"event kind {kind.name} is declared twice")
            self._kinds[kind.name] = kind

    def of(self, name: str) -> EventKind:
        """The declared kind, or the defaults for a name no domain declared."""
        return self._kinds.get(name) or EventKind(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)
