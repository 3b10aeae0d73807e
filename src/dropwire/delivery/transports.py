"""Senders other than the signed webhook POST, registered by name.

Some receivers are not webhooks: a store's admin API wants another method, its own bearer token
and no Standard Webhooks signature. The package that knows such a receiver registers a transport
under a name and records its deliveries with that name; the relay still claims, leases, retries,
records attempts and coalesces them like any delivery, but hands the sending to the transport.
Delivery never imports the registering package: that package imports this registry.
"""

from collections.abc import Callable
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

_TRANSPORTS: dict[str, Transport] = {}


def register(name: str, transport: Transport) -> None:
    if name == WEBHOOK:
        raise ValueError("the webhook transport is built in")
    _TRANSPORTS[name] = transport


def get(name: str | None) -> Transport | None:
    return _TRANSPORTS.get(name or WEBHOOK)
