from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, Self, cast

from pydantic import (
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    create_model,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel
from sqlalchemy.orm import object_session

from dropwire.channels.connectors import ChannelConnector, store_settings
from dropwire.channels.models import Channel, InventorySync, PublishingAcknowledgement
from dropwire.core.schemas import ApiInput, CompanyRecord, ExternalId, HttpUrl, Id, Name
from dropwire.core.wiring import wiring_of


class ChannelFields(ApiInput):
    """A channel body. The parents a channel may have and each connector's settings block
    are the wired connectors' (`channels.connectors.StoreSettings`): the
    bodies the API accepts are these composed with them (`channel_bodies`)."""

    parent_channel: Annotated[str, Field(min_length=1, max_length=16)] | None = None
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


class ChannelCreate(ChannelFields):
    name: Name


class ChannelUpdate(ChannelFields):
    clearable = frozenset({"warehouse_id", "external_id", "currency"})

    name: Name | None = None


class ChannelRead(CompanyRecord):
    id: int
    name: str
    parent_channel: str
    inventory_sync: InventorySync
    automatically_cancel_sales: bool
    connect_to_feed: bool
    warehouse_id: int | None
    external_id: str | None
    currency: str | None
    created_at: datetime
    updated_at: datetime

    # Each wired connector's settings block (its read shape, or null) by field name, read
    # through the connector when the channel is read from the database. The schema declares
    # the blocks on the composed read (`channel_bodies`); this is what fills them.
    _store_settings: dict[str, BaseModel | None] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _with_store_settings(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        read = handler(data)
        session = object_session(data) if isinstance(data, Channel) else None
        if session is not None:
            assert isinstance(data, Channel)
            read._store_settings = {
                block.field: block.read(session, data)
                for _parent, block in store_settings(wiring_of(session))
            }
        return read

    # No return annotation: pydantic would describe the read as that type (any object); left
    # out, its schema is its fields' (the composed read declares the blocks: `channel_bodies`).
    @model_serializer(mode="wrap")
    def _show_store_settings(  # type: ignore[no-untyped-def]
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ):
        shown: dict[str, Any] = handler(self)
        by_alias = info.by_alias is not False
        for name, block in self._store_settings.items():
            shown[to_camel(name) if by_alias else name] = (
                None if block is None else block.model_dump(mode=info.mode, by_alias=by_alias)
            )
        return shown


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


@dataclass(frozen=True)
class ChannelBodies:
    """The channel bodies the API accepts, composed with the wired connectors: `parentChannel`
    one of theirs, and each one's settings block (`StoreSettings.fields`); and the read it
    answers, with each one's block as read (`StoreSettings.shown`)."""

    create: type[ChannelCreate]
    update: type[ChannelUpdate]
    read: type[ChannelRead]


@cache
def channel_bodies(connectors: tuple[ChannelConnector, ...]) -> ChannelBodies:
    parents = cast(Any, Literal)[tuple(connector.parent for connector in connectors)]
    fields: dict[str, Any] = {"parent_channel": (parents | None, None)}
    shown: dict[str, Any] = {}
    for connector in connectors:
        if connector.settings is not None:
            fields[connector.settings.field] = (connector.settings.fields | None, None)
            shown[connector.settings.field] = (connector.settings.shown | None, None)
    return ChannelBodies(
        create=create_model("ChannelCreate", __base__=ChannelCreate, **fields),
        update=create_model("ChannelUpdate", __base__=ChannelUpdate, **fields),
        read=create_model("ChannelRead", __base__=ChannelRead, **shown),
    )
