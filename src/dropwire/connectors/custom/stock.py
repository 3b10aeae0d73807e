"""Stock out to custom channels: each changed quantity POSTed to the channel's inventory
endpoint, recorded before the commit that changed stock.

At most one push per channel variant is pending (coalesced), always carrying the newest quantity.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import ChannelVariant
from dropwire.catalog.schemas import ChannelVariantRead
from dropwire.channels.connectors import Changed
from dropwire.channels.models import CustomChannel
from dropwire.channels.schemas import ChannelRead
from dropwire.delivery import outbox
from dropwire.delivery.kinds import EventKind

INVENTORY_EVENT = EventKind("inventory", timeout=5.0)
INVENTORY = INVENTORY_EVENT.name


def enabled_custom_channels(session: Session, *, channel_ids: set[int]) -> dict[int, CustomChannel]:
    rows = session.scalars(
        select(CustomChannel).where(
            CustomChannel.channel_id.in_(channel_ids), CustomChannel.enabled
        )
    )
    return {custom.channel_id: custom for custom in rows}


def _json(model: Any) -> dict[str, Any]:
    result: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return result


def push_stock(session: Session, changed: Changed) -> Sequence[tuple[ChannelVariant, int]]:
    """The custom channels' part of `changed`, each to its channel's inventory endpoint."""
    customs = enabled_custom_channels(session, channel_ids={cv.channel_id for cv, _ in changed})
    pushed: list[tuple[ChannelVariant, int]] = []
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
                **_json(ChannelVariantRead.model_validate(channel_variant)),
                "channel": _json(ChannelRead.model_validate(channel)),
            },
            "inventory": {"available": quantity},
        }
        outbox.record(
            session,
            event=INVENTORY,
            url=custom.inventory_endpoint,
            body=body,
            subject_type="channel_variant",
            subject_id=channel_variant.id,
            channel_id=channel.id,
            coalesce_key=f"inventory:{channel_variant.id}",
            hash_header=custom.webhook_hash,
        )
        pushed.append((channel_variant, quantity))
    return pushed
