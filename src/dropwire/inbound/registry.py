"""How a domain plugs an async inbound item kind into the queue.

A kind says which secret authenticates it (a custom channel's or an inventory feed's hash),
whether its body is one object or a batch, and for each item: the ordering key of the record it
touches (updates to one record never overtake each other), whether it would create that record
(creates go first), and how to apply it (the sync twin's service). Applying raises DomainError or
pydantic's ValidationError for bad items: those are logged, not retried.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session


class Owner(StrEnum):
    custom_channel = "custom_channel"
    inventory_feed = "inventory_feed"


@dataclass(frozen=True)
class Applied:
    """What became of one item: `skipped` when it changed nothing."""

    external_id: str | None = None
    skipped: bool = False
    note: str | None = None  # for the API log, e.g. the ignored fields


Apply = Callable[[Session, int, dict[str, Any]], Applied]
RecordKey = Callable[[int, dict[str, Any]], str | None]
Creates = Callable[[Session, int, dict[str, Any]], bool]
# `creates` for many items with one query: per item, whether it would create its record
CreatesAll = Callable[[Session, int, list[dict[str, Any]]], list[bool]]
# A whole request at once (one job): per item, what became of it or the error that stopped it.
ApplyBatch = Callable[[Session, int, list[dict[str, Any]]], list[Applied | Exception]]


@dataclass(frozen=True)
class InboundKind:
    name: str  # the job kind, e.g. "inbound.parse_webhook"
    owner: Owner
    apply: Apply  # (session, owner id: channel id or feed id, item) -> Applied
    record_key: RecordKey  # a key naming the record, e.g. "sale:{channel}:{externalId}"
    creates: Creates
    batch: bool = True  # body is an array (≤ 50); else one object (an array is accepted too)
    # set-based twin of `apply`: the request becomes ONE job applied as a batch, ordered behind
    # the owner's earlier batches (`owner_key`) so updates of one record keep their order
    apply_batch: ApplyBatch | None = None
    owner_key: Callable[[int], str] | None = None
    # set-based twin of `creates`, so a group of accepted requests decides priorities in one read
    creates_all: CreatesAll | None = None

    def creating(self, session: Session, owner_id: int, items: list[dict[str, Any]]) -> list[bool]:
        """Per item (objects naming their record), whether it would create that record."""
        if self.creates_all is not None:
            return self.creates_all(session, owner_id, items)
        return [self.creates(session, owner_id, item) for item in items]


class InboundKinds:
    """The async item kinds the entry points wired from the domains' declarations."""

    def __init__(self, kinds: Iterable[InboundKind]) -> None:
        self._kinds: dict[str, InboundKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"inbound kind {kind.name} is declared twice")
            self._kinds[kind.name] = kind

    def get(self, name: str) -> InboundKind | None:
        return self._kinds.get(name)

    def __getitem__(self, name: str) -> InboundKind:
        return self._kinds[name]

    def all(self) -> list[InboundKind]:
        return list(self._kinds.values())


# The owner a presented hash belongs to: (owner id, channel id or None), or None if it is unknown.
OwnerLookup = Callable[[Session, str], tuple[int, int | None] | None]


@dataclass(frozen=True)
class HashOwner:
    """The package that owns a secret (a channel's or a feed's hash) says how to find its owner
    (`lookup`) and which rows and columns hold it (`watched`: a change there, or the row's
    deletion, makes this process forget the hashes it cached)."""

    owner: Owner
    lookup: OwnerLookup
    watched: tuple[tuple[type, tuple[str, ...]], ...] = ()


class HashOwners:
    """The hash owners the entry points wired, one per kind of owner."""

    def __init__(self, owners: Iterable[HashOwner]) -> None:
        self._lookups: dict[Owner, OwnerLookup] = {}
        self.watched: dict[type, tuple[str, ...]] = {}
        for owner in owners:
            if owner.owner in self._lookups:
                raise ValueError(f"two packages own {owner.owner} hashes")
            self._lookups[owner.owner] = owner.lookup
            self.watched.update(owner.watched)
        self.watched_types = tuple(self.watched)

    def lookup(self, owner: Owner) -> OwnerLookup | None:
        return self._lookups.get(owner)


def external_id_of(item: dict[str, Any], *names: str) -> str | None:
    for name in names or ("externalId",):
        value = item.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    return None
