"""What a channel tells us about its catalog: product imports, and which vendor SKUs back a SKU.

Acknowledging links a channel SKU to vendors' feed variants (several vendors may supply one SKU);
disconnecting undoes it. Every batch item is applied on its own: one bad item fails alone.
"""

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.errors import UnknownVariant
from dropwire.catalog.models import ChannelVariant, ChannelVariantStatus, Product, Variant
from dropwire.catalog.schemas import VariantOption
from dropwire.catalog.service import channel_link, find_variant_by_sku, sku_key
from dropwire.channels.errors import BatchTooLarge, VendorLacksSku
from dropwire.channels.models import Channel
from dropwire.core.errors import DomainError, UnknownReference
from dropwire.core.schemas import ApiInput, ApiModel, Id, Money, NumberAsText, requires_one_of
from dropwire.feeds import connecting as feeds
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
from dropwire.feeds.upsert import feed_sku_key
from dropwire.vendors.models import DropshipProvider

MAX_BATCH = 50
Item = TypeVar("Item")


class ConnectorVariant(ApiInput):
    """A store's variant as the channel imports it."""

    sku: Annotated[str, NumberAsText, Field(min_length=1, max_length=255)]
    name: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    barcode: Annotated[str, NumberAsText, Field(max_length=64)] | None = None
    price: Money | None = None
    cost_price: Money | None = None
    external_id: Annotated[str, NumberAsText, Field(max_length=255)] | None = None
    external_group_id: Annotated[str, NumberAsText, Field(max_length=255)] | None = None
    product_name: Annotated[str, Field(max_length=255)] | None = None
    options: list[VariantOption] | None = Field(default=None, max_length=50)
    tags: list[Annotated[str, Field(max_length=255)]] | None = None
    images: list[Annotated[str, Field(max_length=2048)]] | None = None


class VendorSkuRef(ApiInput):
    model_config = ConfigDict(
        json_schema_extra=requires_one_of("dropshipProviderId", "dropshipProviderExternalId")
    )

    vendor_sku: Annotated[str, NumberAsText, Field(min_length=1, max_length=255)]
    dropship_provider_external_id: (
        Annotated[str, NumberAsText, Field(min_length=1, max_length=255)] | None
    ) = None  # a vendor's externalId is never empty, so "" names none
    dropship_provider_id: Id | None = None

    @model_validator(mode="after")
    def _vendor_named(self) -> "VendorSkuRef":
        if self.dropship_provider_id is None and self.dropship_provider_external_id is None:
            raise ValueError("give dropshipProviderId or dropshipProviderExternalId")
        return self


class SkuLink(ApiInput):
    sku: Annotated[str, NumberAsText, Field(min_length=1, max_length=255)]
    vendor_skus: list[VendorSkuRef] = Field(min_length=1, max_length=50)


class ItemResult(ApiModel):
    index: int
    sku: str | None = None
    status: str  # "success" | "error"
    message: str | None = None
    variant_id: int | None = None
    channel_variant_id: int | None = None
    feed_variant_ids: list[int] = []


def each_item(
    session: Session, *, items: Sequence[Item], apply: Callable[[Item], ItemResult]
) -> list[ItemResult]:
    """Apply items one by one in savepoints: a failing item leaves no trace and others go on."""
    results = []
    for index, item in enumerate(items):
        try:
            with session.begin_nested():
                result = apply(item)
            result.index = index
        except DomainError as exc:
            result = ItemResult(
                index=index, sku=getattr(item, "sku", None), status="error", message=exc.message
            )
        results.append(result)
    return results


def check_batch_size(items: Sequence[Any]) -> None:
    if len(items) > MAX_BATCH:
        raise BatchTooLarge("body", f"at most {MAX_BATCH} items per batch; got {len(items)}")


# --- product import ------------------------------------------------------------------------


def import_variant(session: Session, *, channel: Channel, item: ConnectorVariant) -> ItemResult:
    variant = find_variant_by_sku(session, sku=item.sku)
    created = variant is None
    if variant is None:
        product = _product_for(session, item)
        variant = Variant(
            product_id=product.id,
            sku=item.sku,
            sku_key=sku_key(item.sku),
            name=item.name or item.sku,
        )
        session.add(variant)
    for field in ("name", "barcode", "price", "cost_price", "tags", "images"):
        value = getattr(item, field)
        if value is not None and getattr(variant, field) != value:
            setattr(variant, field, value)
    if item.options is not None:
        variant.options = [o.model_dump(exclude_none=True) for o in item.options]
    session.flush()
    link = channel_link(session, channel_id=channel.id, variant_id=variant.id)
    link.external_id = item.external_id or link.external_id
    link.external_group_id = item.external_group_id or link.external_group_id
    link.external_sku = item.sku
    link.status = ChannelVariantStatus.connected
    session.flush()
    connected: list[int] = []
    if created and channel.connect_to_feed:
        connected = _connect_matching_feed_variants(session, variant)
    return ItemResult(
        index=0,
        sku=item.sku,
        status="success",
        variant_id=variant.id,
        channel_variant_id=link.id,
        feed_variant_ids=connected,
    )


def _product_for(session: Session, item: ConnectorVariant) -> Product:
    if item.external_group_id:
        existing = session.scalar(
            select(Product).where(Product.external_group_id == item.external_group_id)
        )
        if existing is not None:
            return existing
    product = Product(
        name=item.product_name or item.name or item.sku, external_group_id=item.external_group_id
    )
    session.add(product)
    session.flush()
    return product


def _connect_matching_feed_variants(session: Session, variant: Variant) -> list[int]:
    """A new store variant looks for unconnected feed items with its SKU (in auto-connect feeds)."""
    candidates = session.scalars(
        select(InventoryFeedVariant)
        .join(InventoryFeed, InventoryFeed.id == InventoryFeedVariant.inventory_feed_id)
        .where(
            InventoryFeedVariant.variant_id.is_(None),
            InventoryFeed.automatically_connect.is_(True),
            InventoryFeedVariant.vendor_sku_key.in_({variant.sku, variant.sku.lower()}),
        )
        .order_by(InventoryFeedVariant.id)
    )
    connected = []
    for feed_variant in candidates:
        if feed_variant.vendor_sku_key == feed_sku_key(feed_variant.feed, variant.sku):
            feeds.connect(session, feed_variant=feed_variant, variant_id=variant.id)
            connected.append(feed_variant.id)
    return connected


# --- acknowledge / disconnect --------------------------------------------------------------


def _vendor(session: Session, ref: VendorSkuRef) -> DropshipProvider:
    if ref.dropship_provider_id is not None:
        vendor = session.get(DropshipProvider, ref.dropship_provider_id)
    else:
        vendor = session.scalar(
            select(DropshipProvider).where(
                DropshipProvider.external_id == ref.dropship_provider_external_id
            )
        )
    if vendor is None:
        named = ref.dropship_provider_id or ref.dropship_provider_external_id
        raise UnknownReference("vendorSkus", f"dropship provider {named} does not exist")
    return vendor


def _feed_variants_for(session: Session, ref: VendorSkuRef) -> list[InventoryFeedVariant]:
    vendor = _vendor(session, ref)
    found = list(
        session.scalars(
            select(InventoryFeedVariant)
            .join(InventoryFeed, InventoryFeed.id == InventoryFeedVariant.inventory_feed_id)
            .where(
                InventoryFeed.dropship_provider_id == vendor.id,
                (InventoryFeedVariant.vendor_sku == ref.vendor_sku)
                | (
                    InventoryFeed.case_insensitive_skus.is_(True)
                    & (InventoryFeedVariant.vendor_sku_key == ref.vendor_sku.lower())
                ),
            )
            .order_by(InventoryFeedVariant.id)
        )
    )
    if not found:
        raise VendorLacksSku(
            "vendorSkus", f"vendor {vendor.id} has no feed item with SKU '{ref.vendor_sku}'"
        )
    return found


def _channel_variant(
    session: Session, channel: Channel, sku: str
) -> tuple[Variant, ChannelVariant]:
    variant = find_variant_by_sku(session, sku=sku)
    if variant is None:
        raise UnknownVariant("sku", f"no variant with SKU '{sku}'")
    link = channel_link(session, channel_id=channel.id, variant_id=variant.id)
    if link.id is None:
        link.external_sku = sku
        session.flush()
    return variant, link


def acknowledge(
    session: Session, *, channel: Channel, item: SkuLink, actor: str | None
) -> ItemResult:
    variant, link = _channel_variant(session, channel, item.sku)
    connected = []
    for ref in item.vendor_skus:
        for feed_variant in _feed_variants_for(session, ref):
            feeds.connect(session, feed_variant=feed_variant, variant_id=variant.id, actor=actor)
            connected.append(feed_variant.id)
    link.status = ChannelVariantStatus.connected
    session.flush()
    return ItemResult(
        index=0,
        sku=item.sku,
        status="success",
        variant_id=variant.id,
        channel_variant_id=link.id,
        feed_variant_ids=connected,
    )


def disconnect(
    session: Session, *, channel: Channel, item: SkuLink, actor: str | None
) -> ItemResult:
    variant, link = _channel_variant(session, channel, item.sku)
    released = []
    for ref in item.vendor_skus:
        for feed_variant in _feed_variants_for(session, ref):
            if feed_variant.variant_id == variant.id:
                feeds.disconnect(session, feed_variant=feed_variant, actor=actor)
                released.append(feed_variant.id)
    return ItemResult(
        index=0,
        sku=item.sku,
        status="success",
        variant_id=variant.id,
        channel_variant_id=link.id,
        feed_variant_ids=released,
    )
