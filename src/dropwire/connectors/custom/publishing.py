"""Products out to custom channels: a connected variant that is new or changed is sent to every
enabled channel's publishing endpoint, written before the commit that changed it.

The channel variant link is made here; a channel that answers synchronously with the listing it
created connects the link when that answer arrives (`_connect`), an asynchronous one later
through the acknowledge endpoint.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import ChannelVariant, ChannelVariantStatus, Variant
from dropwire.catalog.service import channel_link, variant_reads
from dropwire.channels.models import CustomChannel, PublishingAcknowledgement
from dropwire.delivery import outbox
from dropwire.delivery.kinds import EventKind
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
from dropwire.vendors.models import DropshipProvider


def _connect(session: Session, channel_variant_id: int, reply: Any) -> None:
    """A synchronous publishing reply names the listing it created: connect the channel variant."""
    link = session.get(ChannelVariant, channel_variant_id)
    if link is None or not isinstance(reply, dict) or not reply.get("externalId"):
        return
    link.external_id = str(reply["externalId"])
    for key, attribute in (
        ("externalGroupId", "external_group_id"),
        ("externalSku", "external_sku"),
    ):
        if reply.get(key):
            setattr(link, attribute, str(reply[key]))
    link.status = ChannelVariantStatus.connected


PUBLISHING_EVENT = EventKind("publishing", on_delivered=_connect)
PUBLISHING = PUBLISHING_EVENT.name


def _first_vendor(session: Session, variant_id: int) -> DropshipProvider | None:
    return session.scalar(
        select(DropshipProvider)
        .join(InventoryFeed, InventoryFeed.dropship_provider_id == DropshipProvider.id)
        .join(InventoryFeedVariant, InventoryFeedVariant.inventory_feed_id == InventoryFeed.id)
        .where(InventoryFeedVariant.variant_id == variant_id)
        .order_by(DropshipProvider.priority, DropshipProvider.id)
        .limit(1)
    )


def publish_products(session: Session, variant_ids: set[int]) -> None:
    customs = session.scalars(
        select(CustomChannel).where(
            CustomChannel.enabled, CustomChannel.publishing_endpoint.is_not(None)
        )
    ).all()
    if not customs:
        return
    variants = list(session.scalars(select(Variant).where(Variant.id.in_(variant_ids))))
    for read, variant in zip(variant_reads(session, variants=variants), variants, strict=True):
        vendor = _first_vendor(session, variant.id)
        body = {
            "variant": read.model_dump(mode="json", by_alias=True),
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
            link = channel_link(session, channel_id=custom.channel_id, variant_id=variant.id)
            if custom.publishing_acknowledgement == PublishingAcknowledgement.async_:
                link.status = ChannelVariantStatus.acknowledging
            session.flush()
            outbox.record(
                session,
                event=PUBLISHING,
                url=custom.publishing_endpoint or "",
                body=body,
                subject_type="channel_variant",
                subject_id=link.id,
                channel_id=custom.channel_id,
                coalesce_key=f"publishing:{link.id}",
                hash_header=custom.webhook_hash,
            )
