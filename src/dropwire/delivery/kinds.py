"""Outbound event kinds, registered by the domains that send them.

Delivery stores, signs, sends and retries any message; what an event is called, how long its
receiver may take and what a successful answer means for the sender's own records belong to the
domain that records it. A domain adds a kind without touching this package.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

DEFAULT_TIMEOUT = 10.0

# Runs in the transaction that records a successful attempt: (session, subject id, JSON reply).
Delivered = Callable[[Session, int, Any], None]
# Runs in the transaction that settles a delivery's fate, whatever its transport:
# (session, subject type, subject id, final state: delivered|failed|dead|disabled).
Finished = Callable[[Session, str, int, str], None]


@dataclass(frozen=True)
class EventKind:
    name: str
    timeout: float = DEFAULT_TIMEOUT
    on_delivered: Delivered | None = None  # reads the receiver's JSON answer when set
    on_finished: Finished | None = None  # the sender's record of how its message ended


_KINDS: dict[str, EventKind] = {}


def register_event(
    name: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    on_delivered: Delivered | None = None,
    on_finished: Finished | None = None,
) -> EventKind:
    kind = _KINDS[name] = EventKind(name, timeout, on_delivered, on_finished)
    return kind


def event_kind(name: str) -> EventKind:
    """The registered kind, or the defaults for a name no loaded domain registered."""
    return _KINDS.get(name) or EventKind(name)


def event_names() -> list[str]:
    return sorted(_KINDS)
