"""Senders other than the signed webhook POST, declared by name.

Some receivers are not webhooks: a store's admin API wants another method, its own bearer token
and no Standard Webhooks signature. The package that knows such a receiver declares a transport
under a name (wired by the entry points) and records its deliveries with that name; the relay
still claims, leases, retries, records attempts and coalesces them like any delivery, but hands
the sending to the transport.
Delivery never imports the declaring package: that package imports this module.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from dropwire.core.db import Database

WEBHOOK = "webhook"  # the relay's own signed POST


@dataclass(frozen=True)
class Message:
    """What a transport gets of a claimed delivery."""

    id: int
    version: int
    event: str
    url: str
    body: dict[str, Any]
    channel_id: int | None
    subject_type: str
    subject_id: int
    attempts: int


@dataclass
class Sent:
    """The answer that decides the delivery's fate (2xx delivered, 4xx failed, else retried)."""

    status: int | None = None
    excerpt: str | None = None
    error: str | None = None
    retry_after: timedelta | None = None
    # Run in the transaction that records a successful attempt (e.g. keep an id the reply named).
    on_delivered: Callable[[Session], None] | None = None


Transport = Callable[[Database, Message, httpx.Client], Sent]


@dataclass(frozen=True)
class NamedTransport:
    """A sender other than the webhook POST, under the name its deliveries are recorded with."""

    name: str
    send: Transport


class Transports:
    """The transports the entry points wired from the domains' declarations."""

    def __init__(self, transports: Iterable[NamedTransport]) -> None:
        self._transports: dict[str, Transport] = {}
        for transport in transports:
            if transport.name == WEBHOOK or transport.name in self._transports:
                raise ValueError(f"transport {transport.name} is built in or declared twice")
            self._transports[transport.name] = transport.send

    def get(self, name: str | None) -> Transport | None:
        """The named transport; None for the relay's own signed webhook POST."""
        return self._transports.get(name or WEBHOOK)
