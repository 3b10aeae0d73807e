"""Events in from custom channels: the async twins of the channel-catalog endpoints (products,
acknowledge, disconnect), and how a custom channel's hash finds its channel."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import Variant
from dropwire.channels import catalog_sync
from dropwire.channels.models import Channel, CustomChannel
from dropwire.channels.service import custom_channel_by_hash, get_channel
from dropwire.inbound.registry import Applied, HashOwner, InboundKind, Owner, external_id_of
from dropwire.inbound.service import same_secret


def _import_product(session: Session, channel_id: int, item: dict[str, Any]) -> Applied:
    data = catalog_sync.ConnectorVariant.model_validate(item)
    catalog_sync.import_variant(
        session, channel=get_channel(session, channel_id=channel_id), item=data
    )
    return Applied(external_id=data.sku)


def _sku_exists(session: Session, _channel_id: int, item: dict[str, Any]) -> bool:
    return session.scalar(select(Variant.id).where(Variant.sku == item.get("sku"))) is not None


def _acknowledge(session: Session, channel_id: int, item: dict[str, Any]) -> Applied:
    data = catalog_sync.SkuLink.model_validate(item)
    catalog_sync.acknowledge(
        session, channel=get_channel(session, channel_id=channel_id), item=data, actor="inbound"
    )
    return Applied(external_id=data.sku)


def _disconnect(session: Session, channel_id: int, item: dict[str, Any]) -> Applied:
    data = catalog_sync.SkuLink.model_validate(item)
    catalog_sync.disconnect(
        session, channel=get_channel(session, channel_id=channel_id), item=data, actor="inbound"
    )
    return Applied(external_id=data.sku)


def _sku_key(owner_id: int, item: dict[str, Any]) -> str | None:
    sku = external_id_of(item, "sku")
    return f"channel-sku:{owner_id}:{sku}" if sku else None


def _never_creates(_session: Session, _owner_id: int, _item: dict[str, Any]) -> bool:
    return False


PRODUCTS = InboundKind(
    name="inbound.products",
    owner=Owner.custom_channel,
    apply=_import_product,
    record_key=_sku_key,
    creates=lambda session, channel_id, item: not _sku_exists(session, channel_id, item),
)
ACKNOWLEDGE = InboundKind(
    name="inbound.acknowledge",
    owner=Owner.custom_channel,
    apply=_acknowledge,
    record_key=_sku_key,
    creates=_never_creates,
)
DISCONNECT = InboundKind(
    name="inbound.disconnect",
    owner=Owner.custom_channel,
    apply=_disconnect,
    record_key=_sku_key,
    creates=_never_creates,
)


def _channel_by_hash(session: Session, presented: str) -> tuple[int, int | None] | None:
    custom = custom_channel_by_hash(session, presented=presented)
    if custom is None or not same_secret(custom.webhook_hash, presented):
        return None
    return custom.channel_id, custom.channel_id


CHANNEL_HASHES = HashOwner(
    Owner.custom_channel,
    _channel_by_hash,
    watched=(
        (CustomChannel, ("webhook_hash_digest", "enabled")),
        (Channel, ()),  # deleting a channel deletes its custom channel (ON DELETE CASCADE)
    ),
)
