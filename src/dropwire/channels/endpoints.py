from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.channels import service
from dropwire.channels.connectors import ChannelConnector
from dropwire.channels.models import Channel, CustomChannel
from dropwire.channels.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    CustomChannelCreate,
    CustomChannelRead,
    CustomChannelUpdate,
    channel_bodies,
)
from dropwire.http.deps import AdminPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, Relation, fields_of, list_query, paginate, respond
from dropwire.http.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Channels"])

CHANNEL_FILTERS = fields_of(
    Channel,
    "id",
    "name",
    "parent_channel",
    "inventory_sync",
    "warehouse_id",
    "external_id",
    "created_at",
)
CUSTOM_CHANNEL_FILTERS = fields_of(
    CustomChannel, "id", "channel_id", "name", "enabled", "created_at"
)
CHANNEL_RELATIONS = {
    "CustomChannel": Relation(
        "customChannel", CustomChannelRead, CustomChannel, remote="channel_id"
    ),
}
CUSTOM_CHANNEL_RELATIONS = {
    "Channel": Relation("channel", ChannelRead, Channel, local="channel_id"),
}


@router.get("/custom-channels.json", response_model=list[CustomChannelRead])
def list_custom_channels(
    session: DbSession,
    _: AdminPrincipal,
    response: Response,
    query: Annotated[ListQuery, Depends(list_query)],
) -> Any:
    rows = paginate(
        session,
        stmt=select(CustomChannel),
        query=query,
        fields=CUSTOM_CHANNEL_FILTERS,
        response=response,
        default_order=[CustomChannel.id],
    )
    return respond(
        session,
        query=query,
        response=response,
        items=rows,
        read=CustomChannelRead,
        relations=CUSTOM_CHANNEL_RELATIONS,
    )


@router.post("/custom-channels.json", response_model=CustomChannelRead, status_code=201)
def create_custom_channel(
    data: CustomChannelCreate, session: DbSession, _: AdminPrincipal
) -> CustomChannel:
    return service.create_custom_channel(session, data=data)


@router.get("/custom-channels/{custom_channel_id}.json", response_model=CustomChannelRead)
def get_custom_channel(
    custom_channel_id: PathId, session: DbSession, _: AdminPrincipal
) -> CustomChannel:
    return service.get_custom_channel(session, custom_channel_id=custom_channel_id)


@router.put("/custom-channels/{custom_channel_id}.json", response_model=CustomChannelRead)
def update_custom_channel(
    custom_channel_id: PathId, data: CustomChannelUpdate, session: DbSession, _: AdminPrincipal
) -> CustomChannel:
    custom = service.get_custom_channel(session, custom_channel_id=custom_channel_id)
    return service.update_custom_channel(session, custom=custom, data=data)


@router.post(
    "/custom-channels/{custom_channel_id}/rotate-hash.json", response_model=CustomChannelRead
)
def rotate_custom_channel_hash(
    custom_channel_id: PathId, session: DbSession, _: AdminPrincipal
) -> CustomChannel:
    return service.rotate_webhook_hash(
        session, custom=service.get_custom_channel(session, custom_channel_id=custom_channel_id)
    )


def composed_router(connectors: tuple[ChannelConnector, ...]) -> APIRouter:
    """Reading, creating and updating channels: their bodies and reads carry the wired
    connectors' parents and settings blocks (`schemas.channel_bodies`), so `create_app` builds
    these routes from its wiring."""
    bodies = channel_bodies(connectors)
    composed = APIRouter(route_class=UnitOfWorkRoute, tags=["Channels"])

    def list_channels(
        session: DbSession,
        _: AdminPrincipal,
        response: Response,
        query: Annotated[ListQuery, Depends(list_query)],
    ) -> Any:
        rows = paginate(
            session,
            stmt=select(Channel),
            query=query,
            fields=CHANNEL_FILTERS,
            response=response,
            default_order=[Channel.id],
        )
        return respond(
            session,
            query=query,
            response=response,
            items=rows,
            read=bodies.read,
            relations=CHANNEL_RELATIONS,
        )

    def get_channel(channel_id: PathId, session: DbSession, _: AdminPrincipal) -> Channel:
        return service.get_channel(session, channel_id=channel_id)

    def create_channel(data: ChannelCreate, session: DbSession, _: AdminPrincipal) -> Channel:
        return service.create_channel(session, data=data)

    def update_channel(
        channel_id: PathId, data: ChannelUpdate, session: DbSession, _: AdminPrincipal
    ) -> Channel:
        return service.update_channel(
            session, channel=service.get_channel(session, channel_id=channel_id), data=data
        )

    create_channel.__annotations__["data"] = bodies.create  # the composed body
    update_channel.__annotations__["data"] = bodies.update
    read = bodies.read
    composed.get("/channels.json", response_model=list[read])(list_channels)  # type: ignore[valid-type]
    composed.get("/channels/{channel_id}.json", response_model=read)(get_channel)
    composed.post("/channels.json", response_model=read, status_code=201)(create_channel)
    composed.put("/channels/{channel_id}.json", response_model=read)(update_channel)
    return composed
