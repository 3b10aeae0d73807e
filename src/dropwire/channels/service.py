"""Channels and custom channels."""

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.auth.service import digest
from dropwire.channels.connectors import StoreSettings, store_settings
from dropwire.channels.errors import CustomChannelExists, SettingNotForChannel
from dropwire.channels.models import CUSTOM, Channel, CustomChannel
from dropwire.channels.schemas import (
    ChannelCreate,
    ChannelFields,
    ChannelUpdate,
    CustomChannelCreate,
    CustomChannelUpdate,
)
from dropwire.core.errors import NotFound, UnknownReference
from dropwire.core.wiring import wiring_of
from dropwire.inventory.models import Warehouse

_REQUIRED = frozenset(
    {
        "name",
        "parent_channel",
        "inventory_sync",
        "automatically_cancel_sales",
        "connect_to_feed",
        "enabled",
        "publishing_acknowledgement",
    }
)


def _store_settings(session: Session) -> list[tuple[str, StoreSettings]]:
    """The settings block of each wired connector that has one (`channels.connectors`)."""
    return store_settings(wiring_of(session))


def _save_parent_settings(
    session: Session, channel: Channel, data: ChannelFields, creating: bool
) -> None:
    for parent, store in _store_settings(session):
        field, writer = store.field, store.save
        value = getattr(data, field, None)
        if channel.parent_channel == parent:
            writer(
                session, channel=channel, data=value, creating=creating
            )  # None: keep, or complain if missing
        elif value is not None:
            camel = type(data).model_fields[field].alias or field
            raise SettingNotForChannel(camel, f"only for channels with parentChannel {parent}")


def _apply(target: Any, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        if value is None and name in _REQUIRED:
            continue  # null on a required field means "leave as is"
        setattr(target, name, value)


def _check_warehouse(session: Session, warehouse_id: int | None) -> None:
    if warehouse_id is not None and session.get(Warehouse, warehouse_id) is None:
        raise UnknownReference("warehouseId", f"warehouse {warehouse_id} does not exist")


def get_channel(session: Session, *, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("Channel", channel_id)
    return channel


def create_channel(session: Session, *, data: ChannelCreate) -> Channel:
    _check_warehouse(session, data.warehouse_id)
    fields = _settings_fields(session)
    channel = Channel(**data.model_dump(exclude_none=True, exclude=fields))
    session.add(channel)
    session.flush()
    _save_parent_settings(session, channel, data, creating=True)
    return channel


def _settings_fields(session: Session) -> set[str]:
    return {settings.field for _parent, settings in _store_settings(session)}


def update_channel(session: Session, *, channel: Channel, data: ChannelUpdate) -> Channel:
    changes = data.changes(exclude=_settings_fields(session))
    _check_warehouse(session, changes.get("warehouse_id"))
    _apply(channel, changes)
    session.flush()
    _save_parent_settings(session, channel, data, creating=False)
    return channel


def new_webhook_hash() -> tuple[str, str]:
    value = secrets.token_hex(20)
    return value, digest(value)


def get_custom_channel(session: Session, *, custom_channel_id: int) -> CustomChannel:
    custom = session.get(CustomChannel, custom_channel_id)
    if custom is None:
        raise NotFound("Custom channel", custom_channel_id)
    return custom


def custom_channel_by_hash(session: Session, *, presented: str) -> CustomChannel | None:
    """The custom channel whose hash is `presented`, found by digest (never by the value)."""
    return session.scalar(
        select(CustomChannel).where(CustomChannel.webhook_hash_digest == digest(presented))
    )


def create_custom_channel(session: Session, *, data: CustomChannelCreate) -> CustomChannel:
    if data.channel_id is None:
        channel = Channel(name=data.name, parent_channel=CUSTOM)
        session.add(channel)
        session.flush()
    else:
        channel = session.get(Channel, data.channel_id) or _missing_channel(data.channel_id)
        if channel.custom_channel is not None:
            raise CustomChannelExists(
                f"channel {channel.id} already has a custom channel", "channelId"
            )
    value, value_digest = new_webhook_hash()
    fields = data.model_dump(exclude_none=True, exclude={"channel_id"})
    custom = CustomChannel(
        channel_id=channel.id, webhook_hash=value, webhook_hash_digest=value_digest, **fields
    )
    session.add(custom)
    session.flush()
    return custom


def _missing_channel(channel_id: int) -> Channel:
    raise UnknownReference("channelId", f"channel {channel_id} does not exist")


def update_custom_channel(
    session: Session, *, custom: CustomChannel, data: CustomChannelUpdate
) -> CustomChannel:
    _apply(custom, data.changes())
    session.flush()
    return custom


def rotate_webhook_hash(session: Session, *, custom: CustomChannel) -> CustomChannel:
    custom.webhook_hash, custom.webhook_hash_digest = new_webhook_hash()
    session.flush()
    return custom
