"""Elastic Path stores: settings, order events in, and what the store should hear back."""

import hmac
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from dropwire.channels import service as channels
from dropwire.channels.models import Channel, ParentChannel
from dropwire.channels.schemas import ElasticPathFields
from dropwire.connectors.elasticpath import mapping, webhook_input
from dropwire.connectors.elasticpath.client import ElasticPathClient, ElasticPathError
from dropwire.connectors.elasticpath.errors import (
    InvalidStoreEvent,
    OrderWithoutItems,
    StoreSettingsInvalid,
)
from dropwire.connectors.elasticpath.models import (
    DEFAULT_OBSERVES,
    ElasticPathEvent,
    ElasticPathOrder,
    ElasticPathStore,
)
from dropwire.core.db import settings_of
from dropwire.core.encryption import EncryptionUnavailable, seal, unseal
from dropwire.core.errors import NotFound, Unauthorized
from dropwire.core.inserts import insert_ignoring_conflict
from dropwire.core.outbound import AddressPolicy, TargetRefused
from dropwire.core.settings import Settings
from dropwire.core.time import utcnow
from dropwire.delivery import outbox
from dropwire.inbound import service as inbound
from dropwire.inbound.registry import KINDS, Applied
from dropwire.sales.models import Sale, SaleItem
from dropwire.sales.schemas import ManualSale
from dropwire.sales.service import upsert_manual_sale

EVENT_JOB = "elasticpath.order_event"
TRANSPORT = "elasticpath"  # deliveries sent by `transport.send`, not as signed webhooks
log = logging.getLogger(__name__)

# --- settings ------------------------------------------------------------------------------


def _sealed(session: Session, field: str, value: str) -> str:
    try:
        return seal(value, key=settings_of(session).secret_key)
    except EncryptionUnavailable as exc:
        raise StoreSettingsInvalid(f"elasticPath.{field}", str(exc)) from exc


_STORE = ("base_url", "client_id")


def save_settings(
    session: Session, *, channel: Channel, data: ElasticPathFields | None, creating: bool
) -> None:
    """Create or partly update a channel's store settings (the channels service calls this)."""
    store = session.scalar(
        select(ElasticPathStore).where(ElasticPathStore.channel_id == channel.id)
    )
    if data is None:
        if store is None:
            raise StoreSettingsInvalid(
                "elasticPath", "an Elastic Path channel needs its store settings"
            )
        return
    changes = data.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    if store is None:
        for required in ("base_url", "client_id", "client_secret"):
            if required not in changes:
                camel = ElasticPathFields.model_fields[required].alias or required
                raise StoreSettingsInvalid(
                    f"elasticPath.{camel}", "required for a new Elastic Path channel"
                )
        store = ElasticPathStore(channel_id=channel.id, observes=list(DEFAULT_OBSERVES))
        session.add(store)
    if "client_secret" in changes:
        store.client_secret_sealed = _sealed(session, "clientSecret", changes.pop("client_secret"))
    if "webhook_secret" in changes:
        store.webhook_secret_sealed = _sealed(
            session, "webhookSecret", changes.pop("webhook_secret")
        )
    if "base_url" in changes:
        changes["base_url"] = str(changes["base_url"]).rstrip("/")
    if any(changes.get(name, getattr(store, name)) != getattr(store, name) for name in _STORE):
        store.store_id = None  # another store (or client): its events name another store id
    for name, value in changes.items():
        setattr(store, name, value)
    session.flush()
    del creating  # same rules either way; the registry's signature carries it for others


channels.register_settings_writer(ParentChannel.elastic_path, "elastic_path", save_settings)


def webhook_path(channel_id: int) -> str:
    return f"/webhooks/elasticpath/{channel_id}"


def find_store(session: Session, channel_id: int) -> ElasticPathStore | None:
    return session.scalar(select(ElasticPathStore).where(ElasticPathStore.channel_id == channel_id))


def get_store(session: Session, channel_id: int) -> ElasticPathStore:
    store = session.scalar(
        select(ElasticPathStore).where(ElasticPathStore.channel_id == channel_id)
    )
    if store is None:
        raise NotFound("Elastic Path channel", channel_id)
    return store


def client_for(store: ElasticPathStore, **options: Any) -> ElasticPathClient:
    """A client for the store; without `http`, a guarded one with the settings' policy."""
    if store.client_secret_sealed is None:
        raise StoreSettingsInvalid("elasticPath.clientSecret", "no client secret is stored")
    settings = _settings_of(store)
    if "http" not in options:
        options["policy"] = AddressPolicy.from_settings(settings)
    secret = unseal(store.client_secret_sealed, key=settings.secret_key)
    return ElasticPathClient(store.base_url, store.client_id, secret, **options)


def _settings_of(store: ElasticPathStore) -> Settings:
    session = object_session(store)
    assert session is not None, "a store read in a session"
    return settings_of(session)


@contextmanager
def refused_as_invalid() -> Iterator[None]:
    """A forbidden store address is the channel's configuration at fault, not a passing error:
    say so (a 422-style problem on `elasticPath.baseUrl`) instead of retrying."""
    try:
        yield
    except TargetRefused as exc:
        raise StoreSettingsInvalid("elasticPath.baseUrl", str(exc)) from exc


# --- order events in -----------------------------------------------------------------------


def check_secret(store: ElasticPathStore | None, presented: str) -> None:
    """Constant-time comparison with the stored webhook secret; no secret stored = no entry."""
    expected = (
        unseal(store.webhook_secret_sealed, key=_settings_of(store).secret_key)
        if store and store.webhook_secret_sealed
        else ""
    )
    # compare even when nothing is expected, so timing says nothing about which case it was
    matches = hmac.compare_digest(expected.encode(), presented.encode())
    if not (expected and presented and matches):
        raise Unauthorized("Missing or wrong Elastic Path secret key")


def presented_secret(header: str | None, body: Any) -> str:
    if header:
        return header
    if isinstance(body, dict) and isinstance(body.get("configuration"), dict):
        value = body["configuration"].get("secret_key")
        return value if isinstance(value, str) else ""
    return ""


class Received(StrEnum):
    queued = "queued"
    duplicate = "duplicate"
    ignored = "ignored"


def check_header_secret(session: Session, *, channel_id: int, header: str) -> None:
    """The secret sent in the header against the channel's store (`Unauthorized` if wrong)."""
    check_secret(_store_of(session, channel_id), header)


def _store_of(session: Session, channel_id: int) -> ElasticPathStore | None:
    return session.scalar(select(ElasticPathStore).where(ElasticPathStore.channel_id == channel_id))


def receive_event(session: Session, *, channel_id: int, header: str | None, raw: bytes) -> Received:
    """One delivery, guarded like any API body: authenticated before its body is parsed when
    the secret comes in the header (only the legacy in-body secret needs the body parsed, which
    the depth guard precedes), then checked (`webhook_input`), de-duplicated on the event id and
    queued. An event from another store than the one this channel's events come from is
    ignored and logged."""
    store = _store_of(session, channel_id)
    if header:
        check_secret(store, header)
    body = webhook_input.checked_body(raw)
    if not header:
        check_secret(store, presented_secret(None, body))
    assert store is not None  # check_secret refuses a channel without a store
    sender = webhook_input.store_id_of(body)
    if sender is not None and store.store_id is None:
        store.store_id = sender
        log.info("Elastic Path channel %s: events come from store %s", channel_id, sender)
    elif sender is not None and sender != store.store_id:
        log.warning(
            "Elastic Path channel %s ignored event %r: it names store %r, the channel's events "
            "come from store %r",
            channel_id,
            str(body.get("id"))[:128],
            sender[:64],
            store.store_id,
        )
        return Received.ignored
    return Received.queued if _accept_event(session, channel_id, body) else Received.duplicate


def _accept_event(session: Session, channel_id: int, body: Any) -> bool:
    """De-duplicate on the event id and queue the work; False for a repeat."""
    try:
        event = mapping.parse_event(body)
    except mapping.BadEvent as exc:
        field, _, message = str(exc).partition(": ")
        raise InvalidStoreEvent(field if message else "body", message or str(exc)) from exc
    inserted = insert_ignoring_conflict(
        session,
        ElasticPathEvent,
        {
            "channel_id": channel_id,
            "event_id": event.id,
            "triggered_by": event.triggered_by[:64],
            "order_id": event.order_id,
            "received_at": utcnow(),
        },
        ["channel_id", "event_id"],
    )
    if not inserted:
        return False  # a repeated delivery (EP delivers at least once)
    if event.triggered_by not in mapping.ORDER_EVENTS or event.order_id is None:
        return True  # recorded (so a repeat is recognised), nothing to do
    item = {
        "externalId": event.order_id,
        "eventId": event.id,
        "triggeredBy": event.triggered_by,
        "order": event.order,  # the secret-bearing `configuration` is not kept
    }
    inbound.accept(session, KINDS[EVENT_JOB], channel_id, [item], webhook_path(channel_id))
    return True


def _order_record(session: Session, channel_id: int, order_id: str) -> ElasticPathOrder:
    insert_ignoring_conflict(
        session,
        ElasticPathOrder,
        {"channel_id": channel_id, "order_id": order_id, "pushed": {}},
        ["channel_id", "order_id"],
    )
    return session.scalars(
        select(ElasticPathOrder)
        .where(ElasticPathOrder.channel_id == channel_id, ElasticPathOrder.order_id == order_id)
        .with_for_update()
    ).one()


def apply_event(session: Session, channel_id: int, item: dict[str, Any]) -> Applied:
    """Upsert the sale for one order event, unless a newer state of the order was applied."""
    store = get_store(session, channel_id)
    order_id = str(item["externalId"])
    order = item.get("order")
    if not isinstance(order, dict):  # only `{type, id}` came: read the order itself
        client = client_for(store)
        try:
            with refused_as_invalid():
                order = client.get_order(order_id)
        finally:
            client.close()
    record = _order_record(session, channel_id, order_id)
    stamp = mapping.updated_at(order)
    if (
        record.store_updated_at is not None
        and stamp is not None
        and stamp < record.store_updated_at
    ):
        return Applied(external_id=order_id, skipped=True)  # stale: a newer state is applied
    data = order.get("data") or {}
    record.store_updated_at = stamp or record.store_updated_at
    record.status, record.payment, record.shipping = (
        data.get("status"),
        data.get("payment"),
        data.get("shipping"),
    )
    body = mapping.manual_sale(order, list(store.shipping_skus or []))
    if not body["line_items"]:
        raise OrderWithoutItems(
            "lineItems", "the order has no items to sell (only shipping or discounts)"
        )
    sale, changed = upsert_manual_sale(
        session,
        channel=channels.get_channel(session, channel_id),
        data=ManualSale.model_validate(body),
        actor="elasticpath",
    )
    record.sale_id = sale.id
    sync_order(session, store=store, sale=sale, record=record)
    return Applied(external_id=order_id, skipped=not changed)


def record_key(channel_id: int, item: dict[str, Any]) -> str | None:
    order_id = item.get("externalId")
    return f"elasticpath:{channel_id}:{order_id}" if order_id else None


def order_known(session: Session, channel_id: int, item: dict[str, Any]) -> bool:
    return (
        session.scalar(
            select(ElasticPathOrder.id).where(
                ElasticPathOrder.channel_id == channel_id,
                ElasticPathOrder.order_id == str(item.get("externalId")),
            )
        )
        is not None
    )


# --- what the store hears back -------------------------------------------------------------


def _store_items(sale: Sale, order_id: str) -> dict[str, SaleItem]:
    items: dict[str, SaleItem] = {}
    for item in sale.items:
        item_id = mapping.item_id_of(item.external_id, order_id)
        if item_id is not None:
            items[item_id] = item
    return items


def _status(done: int, total: int, full: str, partial: str, none: str) -> str:
    return full if total and done >= total else partial if done else none


ORDER_FLAGS = ("partially_fulfilled", "partially_cancelled")
"""Custom fields of the store's order flow (written as its entry, not by the order update)."""


def order_fields(sale_items: list[SaleItem], paid: bool) -> dict[str, Any]:
    """The order's state per the Onport integration's rules.

    All shipped → `shipping: fulfilled` (only once paid); all cancelled → `status: cancelled`;
    shipped and the rest cancelled, nothing pending → fulfilled with `partially_cancelled`;
    anything still pending → only the `partially_*` flags.
    """
    ordered = sum(i.quantity for i in sale_items)
    shipped = sum(i.quantity_shipped for i in sale_items)
    cancelled = sum(i.quantity_cancelled for i in sale_items)
    pending = ordered - shipped - cancelled
    fields: dict[str, Any] = {
        "partially_fulfilled": shipped > 0 and pending > 0,
        "partially_cancelled": 0 < cancelled < ordered,
    }
    if ordered and pending <= 0:
        if shipped and paid:
            fields["shipping"] = "fulfilled"
        elif not shipped:
            fields["status"] = "cancelled"
    return fields


def sync_order(
    session: Session, *, store: ElasticPathStore, sale: Sale, record: ElasticPathOrder
) -> int:
    """Queue the calls that bring the store's order up to date; returns how many."""
    if record.status == "cancelled":
        return 0  # the store cancelled it: nothing more to tell it
    pushed = dict(record.pushed or {})
    items = _store_items(sale, record.order_id)
    queued = 0
    order_path = f"/v2/flows/orders/entries/{record.order_id}/relationships"

    sent_fulfillments = set(pushed.get("fulfillments", []))
    for fulfillment in sale.fulfillments:
        if fulfillment.id in sent_fulfillments:
            continue
        entries = []
        for line in fulfillment.items:
            sale_item = session.get(SaleItem, line.sale_item_id)
            item_id = (
                mapping.item_id_of(sale_item.external_id, record.order_id) if sale_item else None
            )
            if sale_item is None or item_id is None:
                continue
            entries.append(
                {
                    "key": f"fulfilment:{fulfillment.id}:{item_id}",
                    "orderitem_id": item_id,
                    "fulfilled_quantity": line.quantity,
                    "fulfilled_sku": sale_item.sku,
                    "total_quantity": sale_item.quantity,
                    "tracking_url": fulfillment.tracking_url,
                    "label_url": None,
                    "tracking_number": fulfillment.tracking_number,
                    "instance_id": fulfillment.reference,
                    "fulfilment_id": str(fulfillment.id),
                }
            )
        sent_fulfillments.add(fulfillment.id)
        if entries:
            queued += _queue(
                session,
                store,
                sale,
                "elasticpath.entries",
                {
                    "flow": "fulfilment_items",
                    "entries": entries,
                    "relationship": f"{order_path}/fulfilments",
                },
            )
    pushed["fulfillments"] = sorted(sent_fulfillments)

    sent_cancelled: dict[str, int] = dict(pushed.get("cancelled", {}))
    cancellations = []
    for item_id, item in items.items():
        newly = item.quantity_cancelled - sent_cancelled.get(item_id, 0)
        if newly > 0:
            cancellations.append(
                {
                    "key": f"cancellation:{sale.id}:{item_id}:{item.quantity_cancelled}",
                    "orderitem_id": item_id,
                    "cancelled_quantity": newly,
                    "total_quantity": item.quantity,
                    "instance_id": sale.reference,
                    "sale_return_id": None,
                    "refund_amount": None,
                }
            )
            sent_cancelled[item_id] = item.quantity_cancelled
    if cancellations:
        queued += _queue(
            session,
            store,
            sale,
            "elasticpath.entries",
            {
                "flow": "cancelled_items",
                "entries": cancellations,
                "relationship": f"{order_path}/cancellations",
            },
        )
    pushed["cancelled"] = sent_cancelled

    sent_items: dict[str, list[int]] = dict(pushed.get("items", {}))
    for item_id, item in items.items():
        state = [item.quantity_shipped, item.quantity_cancelled]
        if sent_items.get(item_id, [0, 0]) == state:
            continue
        sent_items[item_id] = state
        fields = {
            "type": "entry",
            "id": item_id,
            "fulfilled_quantity": item.quantity_shipped,
            "fulfilment_status": _status(
                item.quantity_shipped,
                item.quantity - item.quantity_cancelled,
                "fulfilled",
                "partially_fulfilled",
                "unfulfilled",
            ),
            "cancelled_quantity": item.quantity_cancelled,
            "cancellation_status": _status(
                item.quantity_cancelled, item.quantity, "cancelled", "partially_cancelled", "none"
            ),
        }
        queued += _queue(
            session,
            store,
            sale,
            "elasticpath.item",
            {
                "method": "PUT",
                "path": f"/v2/flows/order_items/entries/{item_id}",
                "json": {"data": fields},
            },
            coalesce=f"elasticpath.item:{store.channel_id}:{item_id}",
        )
    pushed["items"] = sent_items

    # a new order is neither partially fulfilled nor cancelled: nothing to say until that changes
    told: dict[str, Any] = {"partially_fulfilled": False, "partially_cancelled": False}
    told.update(pushed.get("order", {}))
    wanted = order_fields(list(items.values()), paid=record.payment == "paid")
    if record.shipping == "fulfilled":
        wanted.pop("shipping", None)  # the store got there itself
    flags = {key: wanted[key] for key in ORDER_FLAGS}
    if any(told.get(key) != value for key, value in flags.items()):
        # custom fields of the order's flow: the order update takes only a state change
        queued += _queue(
            session,
            store,
            sale,
            "elasticpath.order",
            {
                "method": "PUT",
                "path": f"/v2/flows/orders/entries/{record.order_id}",
                "json": {"data": {"type": "entry", "id": record.order_id, **flags}},
            },
            coalesce=f"elasticpath.order-fields:{store.channel_id}:{record.order_id}",
        )
        told.update(flags)
    change = {key: value for key, value in wanted.items() if key not in ORDER_FLAGS}
    if any(told.get(key) != value for key, value in change.items()):
        # one of the request's shapes (OrdersFulfilledData, OrdersCancelData): type + one field
        queued += _queue(
            session,
            store,
            sale,
            "elasticpath.order",
            {
                "method": "PUT",
                "path": f"/v2/orders/{record.order_id}",
                "json": {"data": {"type": "order", **change}},
            },
            coalesce=f"elasticpath.order:{store.channel_id}:{record.order_id}",
        )
        told.update(change)
    pushed["order"] = told
    record.pushed = pushed
    return queued


def _queue(
    session: Session,
    store: ElasticPathStore,
    sale: Sale,
    event: str,
    body: dict[str, Any],
    coalesce: str | None = None,
) -> int:
    outbox.record(
        session,
        event=event,
        url=store.base_url,
        body=body,
        subject_type="sale",
        subject_id=sale.id,
        channel_id=store.channel_id,
        coalesce_key=coalesce,
        transport=TRANSPORT,
    )
    return 1


# --- the store's integration (our webhook) -------------------------------------------------


def setup_integration(
    session: Session, *, channel_id: int, public_url: str, client: ElasticPathClient | None = None
) -> dict[str, Any]:
    """Create or update the store's webhook integration pointing at this channel's endpoint.

    Generates and stores a webhook secret when none is set. Returns the integration.
    """
    store = get_store(session, channel_id)
    if store.webhook_secret_sealed is None:
        store.webhook_secret_sealed = _sealed(session, "webhookSecret", secrets.token_urlsafe(32))
    url = public_url.rstrip("/") + store.webhook_path
    fields = {
        "name": f"Dropwire channel {channel_id}",
        "description": "Order events for the Dropwire dropship hub",
        "enabled": True,
        "integration_type": "webhook",
        "observes": list(store.observes or DEFAULT_OBSERVES),
        "configuration": {
            "url": url,
            "secret_key": unseal(store.webhook_secret_sealed, key=settings_of(session).secret_key),
        },
    }
    own = client is None
    client = client or client_for(store)
    try:
        with refused_as_invalid():
            integration_id = store.integration_id
            if integration_id is None:
                for existing in client.list_integrations():
                    if (existing.get("configuration") or {}).get("url") == url:
                        integration_id = str(existing["id"])
                        break
            integration = None
            if integration_id is not None:
                try:
                    integration = client.update_integration(integration_id, fields)
                except ElasticPathError as exc:
                    if exc.status != 404:
                        raise
                    # the store no longer has it (deleted in Commerce Manager): create it again
            if integration is None:
                integration = client.create_integration(fields)
    finally:
        if own:
            client.close()
    store.integration_id = str(integration["id"])
    session.flush()
    return integration
