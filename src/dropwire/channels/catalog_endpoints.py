"""The channel's catalog calls: product imports and acknowledging/disconnecting vendor SKUs."""

from typing import Annotated, Protocol

from fastapi import APIRouter, Body
from sqlalchemy.orm import Session

from dropwire.catalog.service import channel_variant_id
from dropwire.channels import catalog_sync as sync
from dropwire.channels.models import Channel
from dropwire.channels.service import get_channel
from dropwire.http.deps import AdminPrincipal, DbSession, PathId
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.inventory.adjustments import set_level
from dropwire.inventory.schemas import ChannelSetLevel, InventoryAdjustmentRead

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Channels"])

Variants = Annotated[list[sync.ConnectorVariant], Body()]
Links = Annotated[list[sync.SkuLink], Body()]


class LinkChange(Protocol):
    def __call__(
        self, session: Session, *, channel: Channel, item: sync.SkuLink, actor: str | None
    ) -> sync.ItemResult: ...


def _batch(
    session: Session,
    channel_id: PathId,
    items: list[sync.SkuLink],
    actor: str,
    apply: LinkChange,
) -> list[sync.ItemResult]:
    sync.check_batch_size(items)
    channel = get_channel(session, channel_id=channel_id)
    return sync.each_item(
        session,
        items=items,
        apply=lambda item: apply(session, channel=channel, item=item, actor=actor),
    )


@router.post(
    "/channels/{channel_id}/import-connector-variant-batches.json",
    response_model=list[sync.ItemResult],
)
@router.post(
    "/channels/{channel_id}/import-connector-variant-batch.json",
    response_model=list[sync.ItemResult],
    include_in_schema=False,
)
def import_connector_variants(
    channel_id: PathId, items: Variants, session: DbSession, _: AdminPrincipal
) -> list[sync.ItemResult]:
    """Upsert the channel's variants by SKU; results per item."""
    sync.check_batch_size(items)
    channel = get_channel(session, channel_id=channel_id)
    return sync.each_item(
        session,
        items=items,
        apply=lambda item: sync.import_variant(session, channel=channel, item=item),
    )


@router.put(
    "/channels/{channel_id}/acknowledge-inventory-feed-variants.json",
    response_model=sync.ItemResult,
)
def acknowledge_feed_variants(
    channel_id: PathId, item: sync.SkuLink, session: DbSession, principal: AdminPrincipal
) -> sync.ItemResult:
    return sync.acknowledge(
        session,
        channel=get_channel(session, channel_id=channel_id),
        item=item,
        actor=principal.name,
    )


@router.put(
    "/channels/{channel_id}/acknowledge-variant-batches.json", response_model=list[sync.ItemResult]
)
def acknowledge_variant_batches(
    channel_id: PathId, items: Links, session: DbSession, principal: AdminPrincipal
) -> list[sync.ItemResult]:
    return _batch(session, channel_id, items, principal.name, sync.acknowledge)


@router.put(
    "/channels/{channel_id}/disconnect-inventory-feed-variants.json", response_model=sync.ItemResult
)
def disconnect_feed_variants(
    channel_id: PathId, item: sync.SkuLink, session: DbSession, principal: AdminPrincipal
) -> sync.ItemResult:
    return sync.disconnect(
        session,
        channel=get_channel(session, channel_id=channel_id),
        item=item,
        actor=principal.name,
    )


@router.put(
    "/channels/{channel_id}/disconnect-inventory-feed-variant-batches.json",
    response_model=list[sync.ItemResult],
)
@router.put(
    "/channels/{channel_id}/disconnect-variant-batches.json",
    response_model=list[sync.ItemResult],
    include_in_schema=False,
)
def disconnect_variant_batches(
    channel_id: PathId, items: Links, session: DbSession, principal: AdminPrincipal
) -> list[sync.ItemResult]:
    return _batch(session, channel_id, items, principal.name, sync.disconnect)


@router.put("/channels/{channel_id}/set-variant-level.json", response_model=InventoryAdjustmentRead)
def set_channel_variant_level(
    channel_id: PathId, data: ChannelSetLevel, session: DbSession, principal: AdminPrincipal
) -> InventoryAdjustmentRead:
    """Set-level by the channel's own id of the variant (its listing), or by SKU."""
    get_channel(session, channel_id=channel_id)
    variant_id = channel_variant_id(
        session, channel_id=channel_id, external_id=data.external_id, sku=data.sku
    )
    return set_level(session, variant_id=variant_id, data=data, actor=principal.name)
