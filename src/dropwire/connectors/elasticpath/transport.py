"""Sends this connector's deliveries to the store's API (declared as a delivery transport).

Each delivery is one logical change: a plain call (`{method, path, json}`), a stock level to
reach, a product to create or update by SKU, flow entries to add and relate to the order, or an
order to read (an event that named only the order). `STORE_CALLS` says how each kind is sent.
The store's settings are read fresh for every attempt, so a rotated secret takes effect at once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import ChannelVariant, ChannelVariantStatus
from dropwire.connectors.elasticpath import service
from dropwire.connectors.elasticpath.client import ElasticPathClient, ElasticPathError
from dropwire.connectors.elasticpath.models import (
    ENTRIES,
    FETCH_ORDER,
    ITEM,
    ORDER,
    PRODUCT,
    STOCK,
    TRANSPORT,
    ElasticPathEntry,
)
from dropwire.core.db import Database
from dropwire.core.inserts import insert_ignoring_conflict
from dropwire.core.time import utcnow
from dropwire.delivery.kinds import EventKind
from dropwire.delivery.transports import Message, NamedTransport, Sent

EXCERPT = 500


def _stock(client: ElasticPathClient, body: dict[str, Any]) -> str:
    """Reach `available` units: MLI `set`, or classic increment/decrement by the difference.

    The difference is taken against the store's current `available`, which already counts the
    store's own allocations for paid orders, so a sale is never subtracted twice.
    """
    product_id, target = str(body["productId"]), int(body["available"])
    if body.get("mode") == "locations":
        client.set_stock_at(product_id, body.get("location"), target)
        return f"set {target}"
    stock = client.get_stock(product_id)
    if stock is None:
        client.create_stock(product_id, target)
        return f"created with {target}"
    current = stock.get("available")
    if current is None:
        current = (stock.get("attributes") or {}).get("available", 0)
    delta = target - int(current)
    if delta:
        action = "increment" if delta > 0 else "decrement"
        client.stock_transaction(product_id, action, abs(delta))
        return f"{action} {abs(delta)}"
    return "unchanged"


def _product(client: ElasticPathClient, body: dict[str, Any]) -> tuple[str, str]:
    attributes: dict[str, Any] = dict(body["attributes"])
    found = client.find_product(str(attributes["sku"]))
    if found is None:
        return str(client.create_product(attributes)["id"]), "created"
    attributes.pop("status", None)  # never flip a live product back to draft
    return str(client.update_product(str(found["id"]), attributes)["id"]), "updated"


def _known_entries(database: Database, channel_id: int, keys: list[str]) -> dict[str, str]:
    with database.session(write=False) as session:
        rows = session.scalars(
            select(ElasticPathEntry).where(
                ElasticPathEntry.channel_id == channel_id, ElasticPathEntry.key.in_(keys)
            )
        )
        return {row.key: row.entry_id for row in rows}


def _remember_entry(
    database: Database, channel_id: int, key: str, flow: str, entry_id: str
) -> None:
    """Committed at once: if relating the entries fails next, the retry finds this one."""
    with database.transaction() as session:
        insert_ignoring_conflict(
            session,
            model=ElasticPathEntry,
            values={
                "channel_id": channel_id,
                "key": key,
                "flow": flow,
                "entry_id": entry_id,
                "created_at": utcnow(),
            },
            conflict_columns=["channel_id", "key"],
        )


def _entries(
    database: Database, message: Message, client: ElasticPathClient, body: dict[str, Any]
) -> str:
    """Create the flow entries not created by an earlier attempt, then relate all of them.

    Each entry carries a stable `key` (not sent to the store); deliveries queued before keys
    existed fall back to the delivery id and the entry's position.
    """
    channel_id, flow = message.channel_id or 0, str(body["flow"])
    keyed = [
        (str(entry.get("key") or f"delivery:{message.id}:{index}"), entry)
        for index, entry in enumerate(body["entries"])
    ]
    known = _known_entries(database, channel_id, [key for key, _ in keyed])
    ids = []
    for key, entry in keyed:
        entry_id = known.get(key)
        if entry_id is None:
            fields = {name: value for name, value in entry.items() if name != "key"}
            created = client.call(
                "POST", f"/v2/flows/{flow}/entries", json={"data": {"type": "entry", **fields}}
            )
            entry_id = str(created["data"]["id"])
            _remember_entry(database, channel_id, key, flow, entry_id)
        ids.append(entry_id)
    client.call(
        "POST",
        str(body["relationship"]),
        json={"data": [{"type": flow, "id": entry_id} for entry_id in ids]},
    )
    reused = len(known)
    return f"{len(ids)} {flow} entries" + (f" ({reused} from an earlier attempt)" if reused else "")


def _connect(channel_variant_id: int, product_id: str) -> Any:
    def connect(session: Session) -> None:
        link = session.get(ChannelVariant, channel_variant_id)
        if link is not None:
            link.external_id = product_id
            link.status = ChannelVariantStatus.connected
            link.error_message = None

    return connect


def _send_stock(_database: Database, _message: Message, client: ElasticPathClient) -> Sent:
    return Sent(status=200, excerpt=_stock(client, _message.body))


def _send_product(_database: Database, message: Message, client: ElasticPathClient) -> Sent:
    product_id, done = _product(client, message.body)
    return Sent(
        status=200,
        excerpt=f"product {product_id} {done}",
        on_delivered=_connect(message.subject_id, product_id),
    )


def _send_entries(database: Database, message: Message, client: ElasticPathClient) -> Sent:
    return Sent(status=201, excerpt=_entries(database, message, client, message.body))


def _send_call(_database: Database, message: Message, client: ElasticPathClient) -> Sent:
    """A plain call: `{method, path, json}`."""
    body = message.body
    response = client.request(str(body["method"]), str(body["path"]), json=body.get("json"))
    sent = Sent(status=response.status_code, excerpt=response.text[:EXCERPT])
    if response.status_code == 429:
        wait = response.headers.get("retry-after", "")
        sent.retry_after = timedelta(seconds=float(wait)) if wait.isdigit() else None
    return sent


def _fetch_order(_database: Database, message: Message, client: ElasticPathClient) -> Sent:
    """An order event that named only the order: read it now, outside any transaction, and
    queue the event again with the order, in the transaction that records this delivery."""
    item = dict(message.body["item"])
    item["order"] = client.get_order(str(item["externalId"]))
    channel_id = message.channel_id or 0

    def queue(session: Session) -> None:
        service.queue_event(session, channel_id=channel_id, item=item)

    return Sent(status=200, excerpt=f"order {item['externalId']} read", on_delivered=queue)


StoreCall = Callable[[Database, Message, ElasticPathClient], Sent]


@dataclass(frozen=True)
class StoreCallKind:
    """A kind of delivery this transport sends, and how."""

    event: EventKind
    call: StoreCall


STORE_CALLS = (
    StoreCallKind(EventKind(STOCK), _send_stock),
    StoreCallKind(EventKind(PRODUCT), _send_product),
    StoreCallKind(EventKind(ENTRIES), _send_entries),
    StoreCallKind(EventKind(ITEM), _send_call),
    StoreCallKind(EventKind(ORDER), _send_call),
    StoreCallKind(EventKind(FETCH_ORDER), _fetch_order),
)
_CALLS: dict[str, StoreCall] = {kind.event.name: kind.call for kind in STORE_CALLS}


def send(database: Database, message: Message, http: httpx.Client) -> Sent:
    with database.session(write=False) as session:
        store = service.find_store(session, channel_id=message.channel_id or 0)
        if store is None:
            return Sent(status=410, error="the channel no longer has Elastic Path settings")
        client = service.client_for(store, http=http)
    try:
        return _CALLS.get(message.event, _send_call)(database, message, client)
    except ElasticPathError as exc:
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else None
        return Sent(status=exc.status, excerpt=f"{exc}: {exc.text}"[:EXCERPT], retry_after=wait)
    except (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
        # the store is unreachable or hung up: an ordinary failed attempt, retried later
        return Sent(error=f"{type(exc).__name__}: {exc}"[:EXCERPT])


STORE_API = NamedTransport(TRANSPORT, send)
EVENT_KINDS = tuple(kind.event for kind in STORE_CALLS)
