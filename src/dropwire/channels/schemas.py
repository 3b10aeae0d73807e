from datetime import datetime

from pydantic import Field

from dropwire.channels.models import InventorySync, ParentChannel, PublishingAcknowledgement
from dropwire.core.schemas import ApiInput, CompanyRecord, ExternalId, HttpUrl, Name


class ChannelFields(ApiInput):
    parent_channel: ParentChannel | None = None
    inventory_sync: InventorySync | None = Field(
        default=None, description="all | feeds | none: which quantities Dropwire pushes"
    )
    automatically_cancel_sales: bool | None = None
    connect_to_feed: bool | None = None
    warehouse_id: int | None = Field(default=None, ge=1)
    external_id: ExternalId | None = None


class ChannelCreate(ChannelFields):
    name: Name


class ChannelUpdate(ChannelFields):
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
    channel_id: int | None = Field(
        default=None, ge=1, description="Omit to create a custom channel of the same name"
    )


class CustomChannelUpdate(CustomChannelFields):
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
