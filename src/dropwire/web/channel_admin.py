"""The merchant's channel forms: add a store (Elastic Path, or a custom store that Dropwire calls
at its endpoints) and edit it. The form is the API's channel body: the channel's own fields, then
the block of settings its connector declares (`channels.connectors.StoreSettings`), drawn from
that block's schema, its secret fields write-only; a custom store's endpoints are its custom
channel (`/api/custom-channels`), saved in the same transaction."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from dropwire.channels import service as channels
from dropwire.channels.connectors import ChannelConnector
from dropwire.channels.models import CUSTOM, Channel, CustomChannel
from dropwire.channels.schemas import (
    ChannelCreate,
    ChannelUpdate,
    CustomChannelCreate,
    CustomChannelFields,
    CustomChannelUpdate,
    channel_bodies,
)
from dropwire.core.errors import DomainError, NotFound
from dropwire.core.wiring import wiring_of
from dropwire.http.deps import DbSession, PathId
from dropwire.inventory.models import Warehouse
from dropwire.web import forms
from dropwire.web.formatting import label
from dropwire.web.pages import AdminVisitor, CheckedForm, WebRoute, perform, set_flash

router = APIRouter(route_class=WebRoute)

CUSTOM_BLOCK = "customChannel"  # the custom store's endpoints, under this prefix on the form


@dataclass(frozen=True)
class Block:
    """A connector's settings block on the channel form."""

    field: str  # the channel body's field (snake name): `elastic_path`
    prefix: str  # as the API names it: `elasticPath`
    schema: type[BaseModel]
    secret_fields: tuple[str, ...]
    read: Callable[[Session, Channel], BaseModel | None]

    def stored(self, session: Session, channel: Channel | None) -> BaseModel | None:
        return None if channel is None else self.read(session, channel)


def _connector(session: Session, parent: str) -> ChannelConnector | None:
    return next((c for c in wiring_of(session).every(ChannelConnector) if c.parent == parent), None)


def _block(session: Session, parent: str) -> Block | None:
    connector = _connector(session, parent)
    if connector is None or connector.settings is None:
        return None
    settings = connector.settings
    return Block(
        settings.field,
        to_camel(settings.field),
        settings.fields,
        connector.secret_fields,
        settings.read,
    )


def _body(session: Session, *, creating: bool) -> type[ChannelCreate] | type[ChannelUpdate]:
    """The API's channel body, with the wired connectors' blocks (`channel_bodies`)."""
    bodies = channel_bodies(wiring_of(session).every(ChannelConnector))
    return bodies.create if creating else bodies.update


def _block_fields(session: Session) -> set[str]:
    return {c.settings.field for c in wiring_of(session).every(ChannelConnector) if c.settings}


def _parents(session: Session) -> list[str]:
    return sorted(
        (c.parent for c in wiring_of(session).every(ChannelConnector)), key=lambda p: label(p)
    )


def _choices(session: Session) -> forms.Choices:
    rows = session.execute(select(Warehouse.id, Warehouse.name).order_by(Warehouse.name))
    return {"warehouse_id": [(str(id_), name) for id_, name in rows]}


def _parent_of(request: Request, session: Session) -> str:
    parent = request.query_params.get("parent") or CUSTOM
    if _connector(session, parent) is None:
        raise NotFound("Kind of channel")
    return parent


# --- the form: the channel, its connector's block, a custom store's endpoints ----------------


def _blank(session: Session, parent: str, channel: Channel | None) -> forms.Form:
    schema = _body(session, creating=channel is None)
    skip = {"parent_channel"} | _block_fields(session)
    values = (
        forms.column_defaults(Channel)
        if channel is None
        else {name: getattr(channel, name, None) for name in schema.model_fields}
    )
    form = forms.blank_form(schema, values=values, skip=skip, choices=_choices(session))
    block = _block(session, parent)
    if block is not None:
        stored = block.stored(session, channel)
        form += forms.blank_form(
            block.schema,
            values=_attributes(stored, block.schema),
            secrets=_secrets(stored, block),
            prefix=block.prefix,
        )
    if parent == CUSTOM:
        custom = channel.custom_channel if channel is not None else None
        form += forms.blank_form(
            CustomChannelFields,
            values=(
                _attributes(custom, CustomChannelFields)
                if custom is not None
                else forms.column_defaults(CustomChannel)
            ),
            prefix=CUSTOM_BLOCK,
        )
    return form


def _attributes(stored: Any, schema: type[BaseModel]) -> dict[str, Any]:
    if stored is None:
        return {}
    return {name: getattr(stored, name, None) for name in schema.model_fields}


def _secrets(stored: Any, block: Block) -> dict[str, bool]:
    return {name: bool(getattr(stored, f"{name}_set", False)) for name in block.secret_fields}


@dataclass
class Posted:
    form: forms.Form
    channel: BaseModel | None  # ChannelCreate | ChannelUpdate, with the connector's block
    custom: CustomChannelFields | None


def _parse(session: Session, parent: str, posted: FormData, channel: Channel | None) -> Posted:
    schema = _body(session, creating=channel is None)
    skip = {"parent_channel"} | _block_fields(session)
    data, form = forms.parse(schema, posted, skip=skip, choices=_choices(session))
    if data is not None and channel is not None:
        data = forms.cleared(data, form)
    update: dict[str, Any] = {"parent_channel": parent} if channel is None else {}
    complete = data is not None
    block = _block(session, parent)
    if block is not None:
        stored = block.stored(session, channel)
        settings, block_form = forms.parse(
            block.schema, posted, secrets=_secrets(stored, block), prefix=block.prefix
        )
        form += block_form
        if settings is None:
            complete = False
        elif channel is None:
            update[block.field] = settings  # what is left empty takes the store's defaults
        else:
            update[block.field] = forms.cleared(settings, block_form, prefix=block.prefix)
    custom: CustomChannelFields | None = None
    if parent == CUSTOM:
        parsed, custom_form = forms.parse(
            CustomChannelUpdate if channel is not None else CustomChannelFields,
            posted,
            skip={"name"},
            prefix=CUSTOM_BLOCK,
        )
        form += custom_form
        if not isinstance(parsed, CustomChannelFields):
            complete = False
        else:
            custom = (
                parsed
                if channel is None
                else forms.cleared(parsed, custom_form, prefix=CUSTOM_BLOCK)
            )
    if not complete or data is None:
        return Posted(form, None, None)
    return Posted(form, data.model_copy(update=update), custom)


def _save_custom(session: Session, channel: Channel, custom: CustomChannelFields | None) -> None:
    if custom is None:
        return
    if channel.custom_channel is None:
        fields = custom.model_dump(by_alias=True, exclude_none=True)
        channels.create_custom_channel(
            session,
            data=CustomChannelCreate.model_validate(
                {**fields, "name": channel.name, "channelId": channel.id}
            ),
        )
    else:
        assert isinstance(custom, CustomChannelUpdate)
        update = custom.model_copy(update={"name": channel.name})
        channels.update_custom_channel(session, custom=channel.custom_channel, data=update)


_page = partial(forms.edit_page, crumb="Channels")


def _heading(parent: str) -> str:
    return f"Add {'an' if label(parent)[0] in 'AEIOU' else 'a'} {label(parent)} channel"


@router.get("/channels/new")
def new_channel(request: Request, session: DbSession, _: AdminVisitor) -> HTMLResponse:
    parent = _parent_of(request, session)
    return _page(
        request,
        _blank(session, parent, None),
        heading=_heading(parent),
        action=f"/channels/new?parent={parent}",
        back="/channels",
    )


@router.post("/channels/new")
def create_channel(
    request: Request, session: DbSession, _: AdminVisitor, posted: CheckedForm
) -> Response:
    parent = _parent_of(request, session)
    result = _parse(session, parent, posted, None)
    if isinstance(result.channel, ChannelCreate):
        try:
            channel = channels.create_channel(session, data=result.channel)
            _save_custom(session, channel, result.custom)
        except DomainError as exc:
            session.rollback()
            forms.show_refusal(result.form, exc)
        else:
            return _saved(f"/channels#channel-{channel.id}", f"Channel {channel.name} added.")
    return _page(
        request,
        result.form,
        heading=_heading(parent),
        action=f"/channels/new?parent={parent}",
        back="/channels",
    )


@router.get("/channels/{channel_id}/edit")
def edit_channel(
    channel_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    channel = channels.get_channel(session, channel_id=channel_id)
    return _page(
        request,
        _blank(session, channel.parent_channel, channel),
        heading=f"Edit {channel.name}",
        action=f"/channels/{channel.id}/edit",
        back=f"/channels#channel-{channel.id}",
    )


@router.post("/channels/{channel_id}/edit")
def update_channel(
    channel_id: PathId, request: Request, session: DbSession, _: AdminVisitor, posted: CheckedForm
) -> Response:
    channel = channels.get_channel(session, channel_id=channel_id)
    name = channel.name
    result = _parse(session, channel.parent_channel, posted, channel)
    if isinstance(result.channel, ChannelUpdate):
        try:
            channels.update_channel(session, channel=channel, data=result.channel)
            _save_custom(session, channel, result.custom)
        except DomainError as exc:
            session.rollback()
            forms.show_refusal(result.form, exc)
        else:
            return _saved(f"/channels#channel-{channel.id}", f"Channel {channel.name} saved.")
    return _page(
        request,
        result.form,
        heading=f"Edit {name}",
        action=f"/channels/{channel_id}/edit",
        back=f"/channels#channel-{channel_id}",
    )


@router.post("/custom-channels/{custom_channel_id}/rotate-hash")
def rotate_hash(
    custom_channel_id: PathId, session: DbSession, _: AdminVisitor, _form: CheckedForm
) -> RedirectResponse:
    """A new webhook hash (`rotate-hash.json`'s service): the old one stops working at once,
    so the page shows the new one to give to the store."""

    def act() -> str:
        custom = channels.get_custom_channel(session, custom_channel_id=custom_channel_id)
        channels.rotate_webhook_hash(session, custom=custom)
        return (
            f"The webhook hash of {custom.name} is new: the old one no longer works. "
            "Give the store the new one."
        )

    back = f"/channels?reveal={custom_channel_id}#custom-{custom_channel_id}"
    return perform(session, action=act, back=back)


def new_channel_links(session: Session) -> list[tuple[str, str]]:
    """The "add a channel" links of the channels page, one per wired connector."""
    return [(f"/channels/new?parent={p}", _heading(p)) for p in _parents(session)]


def _saved(location: str, message: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    set_flash(response, "ok", message)
    return response
