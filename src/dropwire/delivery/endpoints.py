from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.core.settings import Settings
from dropwire.delivery import service
from dropwire.delivery.models import Delivery, WebhookEndpoint
from dropwire.delivery.schemas import DeliveryRead, EndpointRead
from dropwire.http.deps import AdminPrincipal, DbSession, PathId, get_settings
from dropwire.http.listing import ListQuery, fields_of, list_query, paginate, respond
from dropwire.http.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Webhook deliveries"])
Listing = Annotated[ListQuery, Depends(list_query)]

DELIVERY_FILTERS = fields_of(
    Delivery,
    "id",
    "event",
    "state",
    "channel_id",
    "dropship_provider_id",
    "subject_type",
    "subject_id",
    "endpoint_id",
    "attempts",
    "created_at",
    "delivered_at",
)
ENDPOINT_FILTERS = fields_of(WebhookEndpoint, "id", "owner_type", "owner_id", "url", "disabled_at")


AppSettings = Annotated[Settings, Depends(get_settings)]


def _shown(delivery: Delivery, settings: Settings) -> DeliveryRead:
    return DeliveryRead.model_validate(delivery).shown(settings.api_log_body_bytes)


@router.get("/webhook-deliveries.json", response_model=list[DeliveryRead])
def list_deliveries(
    session: DbSession, _: AdminPrincipal, settings: AppSettings, response: Response, query: Listing
) -> Any:
    deliveries = paginate(
        session,
        stmt=select(Delivery),
        query=query,
        fields=DELIVERY_FILTERS,
        response=response,
        default_order=[Delivery.id],
    )
    shown = [_shown(delivery, settings) for delivery in deliveries]
    return respond(session, query=query, response=response, items=shown, read=DeliveryRead)


@router.get("/webhook-deliveries/{delivery_id}.json", response_model=DeliveryRead)
def get_delivery(
    delivery_id: PathId, session: DbSession, _: AdminPrincipal, settings: AppSettings
) -> DeliveryRead:
    return _shown(service.get_delivery(session, delivery_id=delivery_id), settings)


@router.post("/webhook-deliveries/{delivery_id}/retry.json", response_model=DeliveryRead)
def retry_delivery(
    delivery_id: PathId, session: DbSession, _: AdminPrincipal, settings: AppSettings
) -> DeliveryRead:
    return _shown(
        service.retry(session, delivery=service.get_delivery(session, delivery_id=delivery_id)),
        settings,
    )


@router.get("/webhook-endpoints.json", response_model=list[EndpointRead])
def list_endpoints(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    stmt = select(WebhookEndpoint)
    rows = paginate(
        session,
        stmt=stmt,
        query=query,
        fields=ENDPOINT_FILTERS,
        response=response,
        default_order=[WebhookEndpoint.id],
    )
    return respond(session, query=query, response=response, items=rows, read=EndpointRead)


@router.post("/webhook-endpoints/{endpoint_id}/enable.json", response_model=EndpointRead)
def enable_endpoint(endpoint_id: PathId, session: DbSession, _: AdminPrincipal) -> WebhookEndpoint:
    return service.enable(session, endpoint=service.get_endpoint(session, endpoint_id=endpoint_id))


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret.json", response_model=EndpointRead)
def rotate_endpoint_secret(
    endpoint_id: PathId, session: DbSession, _: AdminPrincipal
) -> WebhookEndpoint:
    return service.rotate_secret(
        session, endpoint=service.get_endpoint(session, endpoint_id=endpoint_id)
    )
