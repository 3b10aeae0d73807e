from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from dropwire.channels.models import InventorySync, ParentChannel, PublishingAcknowledgement
from dropwire.core.schemas import ApiInput, ApiModel, CompanyRecord, ExternalId, HttpUrl, Id, Name


class StockMode(StrEnum):
    transactions = "transactions"  # classic inventory: increment/decrement by the difference
    locations = "locations"  # multi-location inventory: `set` at one location


Sku = Annotated[str, Field(min_length=1, max_length=255)]
OrderEvent = Annotated[str, Field(pattern=r"^order\.[a-z_]+$")]


class ElasticPathFields(ApiInput):
    """An Elastic Path store's settings (`parentChannel: elasticPath`); secrets are write-only."""

    base_url: HttpUrl | None = Field(
        default=None, description="https://useast.api.elasticpath.com, euwest, or custom"
    )
    client_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    client_secret: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    webhook_secret: Annotated[str, Field(min_length=8, max_length=1000)] | None = None
    shipping_skus: list[Sku] | None = Field(default=None, max_length=50)
    inventory: StockMode | None = None
    location: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, description="Multi-location inventory: the location slug to set"
    )
    observes: list[OrderEvent] | None = Field(default=None, max_length=20)
    publish_products: bool | None = Field(
        default=None, description="Create/update PCM products (by SKU) for published variants"
    )


class ElasticPathRead(ApiModel):
    base_url: str
    client_id: str
    client_secret_set: bool
    webhook_secret_set: bool
    shipping_skus: list[str]
    inventory: StockMode
    location: str | None
    observes: list[str]
    publish_products: bool
    integration_id: str | None
    webhook_path: str = Field(description="Where the store's integration delivers order events")


class ChannelFields(ApiInput):
    parent_channel: ParentChannel | None = None
    inventory_sync: InventorySync | None = Field(
        default=None, description="all | feeds | none: which quantities Dropwire pushes"
    )
    automatically_cancel_sales: bool | None = None
    connect_to_feed: bool | None = None
    warehouse_id: Id | None = None
    external_id: ExternalId | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = Field(
        default=None, description="ISO 4217 currency of its sales"
    )
    elastic_path: ElasticPathFields | None = None


class ChannelCreate(ChannelFields):
    name: Name


class ChannelUpdate(ChannelFields):
    clearable = frozenset({"warehouse_id", "external_id", "currency"})

    name: Name | None = None


class ChannelRead(CompanyRecord):
    id: int
    name: str
    parent_channel: ParentChannel
    inventory_sync: InventorySync
    automatically_cancel_sales: bool
    connect_to_feed: bool
    warehouse_id: int | None
    external_id: str | None
    currency: str | None
    elastic_path: ElasticPathRead | None = None
    created_at: datetime
    updated_at: datetime


class CustomChannelFields(ApiInput):
    enabled: bool | None = None
    inventory_endpoint: HttpUrl | None = None
    publishing_endpoint: HttpUrl | None = None
    fulfillment_endpoint: HttpUrl | None = None
    price_endpoint: HttpUrl | None = None
    publishing_acknowledgement: PublishingAcknowledgement | None = None


class CustomChannelCreate(CustomChannelFields):
    name: Name
    channel_id: Id | None = Field(
        default=None, description="Omit to create a custom channel of the same name"
    )


class CustomChannelUpdate(CustomChannelFields):
    clearable = frozenset(
        {"inventory_endpoint", "publishing_endpoint", "fulfillment_endpoint", "price_endpoint"}
    )

    name: Name | None = None


class CustomChannelRead(CompanyRecord):
    id: int
    channel_id: int
    name: str
    enabled: bool
    inventory_endpoint: str | None
    publishing_endpoint: str | None
    fulfillment_endpoint: str | None
    price_endpoint: str | None
    publishing_acknowledgement: PublishingAcknowledgement
    webhook_hash: str = Field(
        description="Read-only: the secret this store sends as jetti-webhook-hash"
    )
    created_at: datetime
    updated_at: datetime
