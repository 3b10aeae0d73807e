"""The outbox: deliveries are written in the transaction of the change that causes them.

Inventory, publishing and sales record what changed in `session.info`; just before the
transaction commits, `before_commit` turns that into deliveries. Nothing is sent here: the relay
sends after commit. Inventory deliveries are coalesced: at most one pending per channel variant,
always carrying the newest quantity.
"""

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from dropwire.catalog.models import ChannelVariant, ChannelVariantStatus, Variant
from dropwire.catalog.schemas import ChannelVariantRead
from dropwire.catalog.service import PUBLISH_KEY
from dropwire.channels.models import CustomChannel, PublishingAcknowledgement
from dropwire.channels.schemas import ChannelRead
from dropwire.core.db import call_after_commit
from dropwire.delivery.models import (
    Delivery,
    DeliveryState,
    EndpointOwner,
    EventKind,
    WebhookEndpoint,
)
from dropwire.delivery.signing import new_secret
from dropwire.delivery.transports import WEBHOOK
from dropwire.inventory.channels import changed_channel_quantities, record_pushed
from dropwire.inventory.locking import insert_ignoring_conflict
from dropwire.inventory.service import TOUCHED_KEY
from dropwire.jobs.wakeup import notify
from dropwire.sales import events as sales_events
from dropwire.sales.models import Fulfillment, Purchase
from dropwire.sales.payloads import fulfillment_body, purchase_body
from dropwire.vendors.models import DropshipProvider


def dump(model: Any) -> dict[str, Any]:
    result: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return result


def endpoint_for(
    session: Session, owner_type: EndpointOwner, owner_id: int, url: str
) -> WebhookEndpoint:
    """The owner's endpoint for `url` (created with its own secret on first use)."""
    key = (
        WebhookEndpoint.owner_type == owner_type,
        WebhookEndpoint.owner_id == owner_id,
        WebhookEndpoint.url == url,
    )
    endpoint = session.scalar(select(WebhookEndpoint).where(*key))
    if endpoint is None:
        values = {"owner_type": owner_type, "owner_id": owner_id, "url": url}
        insert_ignoring_conflict(
            session, WebhookEndpoint, {**values, "secret": new_secret()}, list(values)
        )
        endpoint = session.scalars(select(WebhookEndpoint).where(*key)).one()
    return endpoint


def emit(
    session: Session,
    *,
    event: EventKind | str,
    url: str,
    body: dict[str, Any],
    subject_type: str,
    subject_id: int,
    channel_id: int | None = None,
    dropship_provider_id: int | None = None,
    coalesce_key: str | None = None,
    hash_header: str | None = None,
    transport: str = WEBHOOK,
) -> Delivery:
    """Write (or, with a coalesce key, refresh the pending) delivery in the caller's transaction.

    `transport` names who sends it: the relay's signed webhook POST, or a registered transport.
    The endpoint (and so the signing secret) belongs to the vendor when `dropship_provider_id`
    is given, else to the channel.
    """
    if dropship_provider_id is not None:
        owner: tuple[EndpointOwner, int] = (EndpointOwner.vendor, dropship_provider_id)
    elif channel_id is not None:
        owner = (EndpointOwner.channel, channel_id)
    else:
        raise ValueError("a delivery needs an owner: a channel or a dropship provider")
    call_after_commit(session, "delivery.wake", notify)  # senders look as soon as it commits
    if coalesce_key is not None:
        pending = session.scalar(
            select(Delivery)
            .where(Delivery.coalesce_key == coalesce_key, Delivery.state == DeliveryState.pending)
            .order_by(Delivery.id.desc())
            .limit(1)
            .with_for_update()
        )
        if pending is not None:
            if pending.body != body:
                pending.body = body
                pending.version += 1
            return pending
    endpoint = endpoint_for(session, *owner, url)
    delivery = Delivery(
        event=event,
        endpoint_id=endpoint.id,
        url=url,
        channel_id=channel_id,
        dropship_provider_id=dropship_provider_id,
        subject_type=subject_type,
        subject_id=subject_id,
        coalesce_key=coalesce_key,
        body=body,
        hash_header=hash_header,
        transport=transport,
    )
    session.add(delivery)
    session.flush()
    return delivery


# --- inventory -----------------------------------------------------------------------------


def _custom_channels(session: Session, channel_ids: set[int]) -> dict[int, CustomChannel]:
    rows = session.scalars(
        select(CustomChannel).where(
            CustomChannel.channel_id.in_(channel_ids), CustomChannel.enabled
        )
    )
    return {custom.channel_id: custom for custom in rows}


def emit_inventory_changes(session: Session, variant_ids: set[int]) -> int:
    changed = changed_channel_quantities(session, variant_ids)
    if not changed:
        return 0
    customs = _custom_channels(session, {cv.channel_id for cv, _ in changed})
    sent = 0
    for channel_variant, quantity in changed:
        custom = customs.get(channel_variant.channel_id)
        if custom is None or not custom.inventory_endpoint:
            continue  # nowhere to send it: no delivery
        channel = custom.channel
        variant = channel_variant.variant
        body = {
            "variant": {
                "id": variant.id,
                "sku": variant.sku,
                "inventoryPolicy": variant.inventory_policy,
            },
            "channelVariant": {
                **dump(ChannelVariantRead.model_validate(channel_variant)),
                "channel": dump(ChannelRead.model_validate(channel)),
            },
            "inventory": {"available": quantity},
        }
        emit(
            session,
            event=EventKind.inventory,
            url=custom.inventory_endpoint,
            body=body,
            subject_type="channel_variant",
            subject_id=channel_variant.id,
            channel_id=channel.id,
            coalesce_key=f"inventory:{channel_variant.id}",
            hash_header=custom.webhook_hash,
        )
        record_pushed(channel_variant, quantity)
        sent += 1
    return sent


# --- publishing ----------------------------------------------------------------------------


def emit_publishing(session: Session, variant_ids: set[int]) -> None:
    from dropwire.catalog.service import variant_reads
    from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant

    customs = session.scalars(
        select(CustomChannel).where(
            CustomChannel.enabled, CustomChannel.publishing_endpoint.is_not(None)
        )
    ).all()
    if not customs:
        return
    variants = list(session.scalars(select(Variant).where(Variant.id.in_(variant_ids))))
    for read, variant in zip(variant_reads(session, variants), variants, strict=True):
        vendor = session.scalar(
            select(DropshipProvider)
            .join(InventoryFeed, InventoryFeed.dropship_provider_id == DropshipProvider.id)
            .join(InventoryFeedVariant, InventoryFeedVariant.inventory_feed_id == InventoryFeed.id)
            .where(InventoryFeedVariant.variant_id == variant.id)
            .order_by(DropshipProvider.priority, DropshipProvider.id)
            .limit(1)
        )
        body = {
            "variant": dump(read),
            "product": {
                "id": variant.product.id,
                "name": variant.product.name,
                "handle": variant.product.handle,
            },
            "vendor": {"id": vendor.id, "name": vendor.name, "externalId": vendor.external_id}
            if vendor
            else None,
        }
        for custom in customs:
            link = session.scalar(
                select(ChannelVariant).where(
                    ChannelVariant.channel_id == custom.channel_id,
                    ChannelVariant.variant_id == variant.id,
                )
            )
            if link is None:
                link = ChannelVariant(channel_id=custom.channel_id, variant_id=variant.id)
                session.add(link)
            if custom.publishing_acknowledgement == PublishingAcknowledgement.async_:
                link.status = ChannelVariantStatus.acknowledging
            session.flush()
            emit(
                session,
                event=EventKind.publishing,
                url=custom.publishing_endpoint or "",
                body=body,
                subject_type="channel_variant",
                subject_id=link.id,
                channel_id=custom.channel_id,
                coalesce_key=f"publishing:{link.id}",
                hash_header=custom.webhook_hash,
            )


# --- purchase orders and fulfillments ------------------------------------------------------


def emit_sales_events(session: Session, recorded: list[sales_events.SalesEvent]) -> None:
    for item in recorded:
        if item.subject == "purchase":
            purchase = session.get(Purchase, item.id)
            if purchase is None:
                continue
            session.refresh(purchase)
            vendor_id = item.vendor_id or purchase.dropship_provider_id
            vendor = session.get(DropshipProvider, vendor_id) if vendor_id else None
            if vendor is None or not vendor.order_endpoint:
                continue
            emit(
                session,
                event=EventKind(f"purchase.{item.event}"),
                url=vendor.order_endpoint,
                body=purchase_body(purchase, item.event),
                subject_type="purchase",
                subject_id=purchase.id,
                dropship_provider_id=vendor.id,
                channel_id=purchase.sale.channel_id,
                coalesce_key=None,
                hash_header=vendor.webhook_secret,
            )
        else:
            fulfillment = session.get(Fulfillment, item.id)
            if fulfillment is None:
                continue
            purchase = session.get(Purchase, fulfillment.purchase_id)
            assert purchase is not None
            customs = _custom_channels(session, {purchase.sale.channel_id})
            custom = customs.get(purchase.sale.channel_id)
            if custom is None or not custom.fulfillment_endpoint:
                continue
            emit(
                session,
                event=EventKind.fulfillment,
                url=custom.fulfillment_endpoint,
                body=fulfillment_body(fulfillment, purchase),
                subject_type="fulfillment",
                subject_id=fulfillment.id,
                channel_id=purchase.sale.channel_id,
                hash_header=custom.webhook_hash,
            )


# --- wiring: every committing session writes its deliveries --------------------------------


@event.listens_for(Session, "before_commit")
def _write_deliveries(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the events wait for the real commit
    touched: set[int] | None = session.info.pop(TOUCHED_KEY, None)
    recorded: list[sales_events.SalesEvent] | None = session.info.pop(sales_events.EVENTS_KEY, None)
    published: set[int] | None = session.info.pop(PUBLISH_KEY, None)
    if recorded:
        emit_sales_events(session, recorded)
    if published:
        emit_publishing(session, published)
    if touched:
        emit_inventory_changes(session, touched)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint rolled back: what the outer transaction recorded still stands
    for key in (TOUCHED_KEY, sales_events.EVENTS_KEY, PUBLISH_KEY):
        session.info.pop(key, None)
