"""What quantity each channel should show for a variant, and which channel variants changed.

`inventorySync` decides: `all` counts every location (in-house warehouses and connected vendor
feeds); `feeds` only speaks for variants stocked by at least one vendor feed (others are left to
the store); `none` never speaks. Per location, buffers are held back and nothing goes below zero.
"""

from collections import defaultdict
from collections.abc import Iterable
from functools import cache

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dropwire.catalog.models import ChannelVariant, ChannelVariantStatus
from dropwire.channels.models import Channel, InventorySync
from dropwire.core.expressions import among, among_bound
from dropwire.core.time import utcnow
from dropwire.inventory.models import InventoryLevel, Location, LocationKind

_SILENT_STATUSES = (ChannelVariantStatus.ignore,)


def _quantity(sync: InventorySync, levels: list[tuple[InventoryLevel, LocationKind]]) -> int | None:
    if sync == InventorySync.none:
        return None
    if sync == InventorySync.feeds and not any(kind == LocationKind.feed for _, kind in levels):
        return None
    return sum(max(0, level.available - level.buffer) for level, _ in levels)


def _levels_by_variant(
    session: Session, variant_ids: Iterable[int]
) -> dict[int, list[tuple[InventoryLevel, LocationKind]]]:
    rows = session.execute(
        select(InventoryLevel, Location.kind)
        .join(Location, Location.id == InventoryLevel.location_id)
        .where(among(session, column=InventoryLevel.variant_id, values=set(variant_ids)))
    ).all()
    grouped: dict[int, list[tuple[InventoryLevel, LocationKind]]] = defaultdict(list)
    for level, kind in rows:
        grouped[level.variant_id].append((level, LocationKind(kind)))
    return grouped


def channel_quantity(session: Session, *, channel: Channel, variant_id: int) -> int | None:
    """The quantity `channel` should show for the variant, or None when it must not be pushed."""
    levels = _levels_by_variant(session, [variant_id]).get(variant_id, [])
    return _quantity(InventorySync(channel.inventory_sync), levels)


@cache
def _listings(dialect: str) -> Select[ChannelVariant, str]:
    """The channel variants (not ignored) of the variants bound as `variant_ids`, with their
    channel's inventory sync: run before every commit that changed stock."""
    return (
        select(ChannelVariant, Channel.inventory_sync)
        .join(Channel, Channel.id == ChannelVariant.channel_id)
        .where(
            among_bound(ChannelVariant.variant_id, "variant_ids", dialect),
            ChannelVariant.status.not_in(_SILENT_STATUSES),
        )
        .order_by(ChannelVariant.id)
    )


def changed_channel_quantities(
    session: Session, *, variant_ids: Iterable[int]
) -> list[tuple[ChannelVariant, int]]:
    """Channel variants of these variants whose channel quantity differs from the last pushed."""
    ids = set(variant_ids)
    if not ids:
        return []
    statement = _listings(session.get_bind().dialect.name)
    rows = session.execute(statement, {"variant_ids": list(ids)}).all()
    if not rows:  # listed on no channel: no stock to read
        return []
    levels = _levels_by_variant(session, {cv.variant_id for cv, _ in rows})
    changed: list[tuple[ChannelVariant, int]] = []
    for channel_variant, sync in rows:
        quantity = _quantity(InventorySync(sync), levels.get(channel_variant.variant_id, []))
        if quantity is not None and quantity != channel_variant.pushed_quantity:
            changed.append((channel_variant, quantity))
    return changed


def record_pushed(channel_variant: ChannelVariant, quantity: int) -> None:
    """Remember the value handed to the channel, so the next change is measured against it."""
    channel_variant.pushed_quantity = quantity
    channel_variant.pushed_at = utcnow()
