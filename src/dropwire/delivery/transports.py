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
from dropwire.core.settings import Settings

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
    # The receiver refused this message for good (an SMTP 5xx): dead at once, never retried.
    permanent: bool = False
    # Not tried at all (a batch ran out of time): back in line at once, the attempt not counted.
    deferred: bool = False
    latency_ms: float | None = None  # a batch transport's own measure of this message


Transport = Callable[[Database, Message, httpx.Client], Sent]
# Sends several claimed messages of its transport at once (one read, one connection); answers
# one `Sent` per message, in order.
BatchTransport = Callable[[Database, list[Message], httpx.Client], list[Sent]]


@dataclass(frozen=True)
class NamedTransport:
    """A sender other than the webhook POST, under the name its deliveries are recorded with."""

    name: str
    send: Transport
    # When given, the relay hands it all of a round's claimed messages of this transport and
    # records their outcomes in one transaction.
    send_many: BatchTransport | None = None
    # The longest one send (or a batch) may take under these settings, when longer than a
    # webhook's: the relay holds the deliveries that long, so no other sender takes them over.
    lease: Callable[[Settings], float] | None = None


class Transports:
    """The transports the entry points wired from the domains' declarations."""

    def __init__(self, transports: Iterable[NamedTransport]) -> None:
        self._transports: dict[str, NamedTransport] = {}
        for transport in transports:
            if transport.name == WEBHOOK or transport.name in self._transports:
                raise ValueError(f"transport {transport.name} is built in or declared twice")
            self._transports[transport.name] = transport

    def get(self, name: str | None) -> Transport | None:
        """The named transport; None for the relay's own signed webhook POST."""
        named = self._transports.get(name or WEBHOOK)
        return None if named is None else named.send

    def lease(self, name: str | None) -> Callable[[Settings], float] | None:
        """The named transport's worst case, if it declares one."""
        named = self._transports.get(name or WEBHOOK)
        return None if named is None else named.lease

    def batch(self, name: str | None) -> BatchTransport | None:
        """The named transport's batch sender, if it has one."""
        named = self._transports.get(name or WEBHOOK)
        return None if named is None else named.send_many
