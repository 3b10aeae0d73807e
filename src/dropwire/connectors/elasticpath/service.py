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
from dropwire.channels.connectors import StoreSettings
from dropwire.channels.models import Channel
from dropwire.connectors.elasticpath import mapping, order_states, webhook_input
from dropwire.connectors.elasticpath.client import ElasticPathClient, ElasticPathError
from dropwire.connectors.elasticpath.errors import (
    InvalidStoreEvent,
    OrderWithoutItems,
    StoreSettingsInvalid,
)
from dropwire.connectors.elasticpath.models import (
    DEFAULT_OBSERVES,
    FETCH_ORDER,
    TRANSPORT,
    ElasticPathEvent,
    ElasticPathOrder,
    ElasticPathStore,
)
from dropwire.connectors.elasticpath.schemas import ElasticPathFields, ElasticPathRead
from dropwire.core.db import Database, settings_of
from dropwire.core.encryption import EncryptionUnavailable, seal, unseal
from dropwire.core.errors import NotFound, Unauthorized
from dropwire.core.inserts import insert_ignoring_conflict
from dropwire.core.outbound import AddressPolicy, TargetRefused
from dropwire.core.settings import Settings
from dropwire.core.time import utcnow
from dropwire.core.wiring import wired
from dropwire.delivery import outbox
from dropwire.inbound import service as inbound
from dropwire.inbound.registry import Applied, InboundKinds
from dropwire.sales.schemas import ManualSale
from dropwire.sales.service import upsert_manual_sale

EVENT_JOB = "elasticpath.order_event"
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


def read_settings(session: Session, channel: Channel) -> ElasticPathRead | None:
    """What a channel read shows of its store (`elasticPath`; secrets only as set or not)."""
    store = find_store(session, channel_id=channel.id)
    return None if store is None else ElasticPathRead.model_validate(store)


STORE_SETTINGS = StoreSettings(
    "elastic_path", ElasticPathFields, save_settings, read_settings, shown=ElasticPathRead
)


def webhook_path(channel_id: int) -> str:
    return f"/webhooks/elasticpath/{channel_id}"


def find_store(session: Session, *, channel_id: int) -> ElasticPathStore | None:
    return session.scalar(select(ElasticPathStore).where(ElasticPathStore.channel_id == channel_id))


def get_store(session: Session, *, channel_id: int) -> ElasticPathStore:
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
        model=ElasticPathEvent,
        values={
            "channel_id": channel_id,
            "event_id": event.id,
            "triggered_by": event.triggered_by[:64],
            "order_id": event.order_id,
            "received_at": utcnow(),
        },
        conflict_columns=["channel_id", "event_id"],
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
    queue_event(session, channel_id=channel_id, item=item)
    return True


def queue_event(session: Session, *, channel_id: int, item: dict[str, Any]) -> None:
    """Queue an order event's job (ordered behind the order's earlier events)."""
    kind = wired(session, kind=InboundKinds)[EVENT_JOB]
    inbound.accept(
        session, kind=kind, owner_id=channel_id, items=[item], endpoint=webhook_path(channel_id)
    )


def _read_order_after_commit(
    session: Session, store: ElasticPathStore, item: dict[str, Any]
) -> None:
    """The event named only the order: the relay reads it from the store after this commits and
    queues the event again with it (`transport._fetch_order`); no call inside a transaction."""
    outbox.record(
        session,
        event=FETCH_ORDER,
        url=store.base_url,
        body={"item": {key: value for key, value in item.items() if key != "order"}},
        subject_type="elasticpath_order",
        subject_id=store.channel_id,
        channel_id=store.channel_id,
        transport=TRANSPORT,
    )


def _order_record(session: Session, channel_id: int, order_id: str) -> ElasticPathOrder:
    insert_ignoring_conflict(
        session,
        model=ElasticPathOrder,
        values={"channel_id": channel_id, "order_id": order_id, "pushed": {}},
        conflict_columns=["channel_id", "order_id"],
    )
    return session.scalars(
        select(ElasticPathOrder)
        .where(ElasticPathOrder.channel_id == channel_id, ElasticPathOrder.order_id == order_id)
        .with_for_update()
    ).one()


def apply_event(session: Session, channel_id: int, item: dict[str, Any]) -> Applied:
    """Upsert the sale for one order event, unless a newer state of the order was applied."""
    store = get_store(session, channel_id=channel_id)
    order_id = str(item["externalId"])
    order = item.get("order")
    if not isinstance(order, dict):  # only `{type, id}` came: the order is read after commit
        _read_order_after_commit(session, store, item)
        return Applied(external_id=order_id, note="the order is read from the store first")
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
        channel=channels.get_channel(session, channel_id=channel_id),
        data=ManualSale.model_validate(body),
        actor="elasticpath",
    )
    record.sale_id = sale.id
    order_states.sync_order(session, store=store, sale=sale, record=record)
    return Applied(external_id=order_id, skipped=not changed)


def record_key(channel_id: int, item: dict[str, Any]) -> str | None:
    order_id = item.get("externalId")
    return f"elasticpath:{channel_id}:{order_id}" if order_id else None


def order_known(session: Session, *, channel_id: int, item: dict[str, Any]) -> bool:
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


# --- the store's integration (our webhook) -------------------------------------------------


def setup_integration(
    database: Database,
    *,
    channel_id: int,
    public_url: str,
    client: ElasticPathClient | None = None,
) -> dict[str, Any]:
    """Create or update the store's webhook integration pointing at this channel's endpoint.

    Generates and stores a webhook secret when none is set. Returns the integration. The store
    is called between two short transactions, never inside one: the first reads the settings
    (and keeps a new secret), the second records the integration's id.
    """
    with database.transaction() as session:
        store = get_store(session, channel_id=channel_id)
        if store.webhook_secret_sealed is None:
            store.webhook_secret_sealed = _sealed(
                session, "webhookSecret", secrets.token_urlsafe(32)
            )
        url = public_url.rstrip("/") + store.webhook_path
        fields = {
            "name": f"Dropwire channel {channel_id}",
            "description": "Order events for the Dropwire dropship hub",
            "enabled": True,
            "integration_type": "webhook",
            "observes": list(store.observes or DEFAULT_OBSERVES),
            "configuration": {
                "url": url,
                "secret_key": unseal(
                    store.webhook_secret_sealed, key=settings_of(session).secret_key
                ),
            },
        }
        known_id = store.integration_id
        own = client is None
        client = client or client_for(store)
    try:
        integration = _put_integration(client, known_id, url, fields)
    finally:
        if own:
            client.close()
    with database.transaction() as session:
        get_store(session, channel_id=channel_id).integration_id = str(integration["id"])
    return integration


def _put_integration(
    client: ElasticPathClient, known_id: str | None, url: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Update the integration (the one we made, else one delivering to `url`), or create it."""
    with refused_as_invalid():
        integration_id = known_id
        if integration_id is None:
            for existing in client.list_integrations():
                if (existing.get("configuration") or {}).get("url") == url:
                    integration_id = str(existing["id"])
                    break
        if integration_id is not None:
            try:
                return client.update_integration(integration_id, fields)
            except ElasticPathError as exc:
                if exc.status != 404:
                    raise
                # the store no longer has it (deleted in Commerce Manager): create it again
        return client.create_integration(fields)
