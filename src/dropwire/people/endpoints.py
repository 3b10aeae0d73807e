"""Inviting a vendor's person (`/api`) and asking for a password reset (`/auth`, no token)."""

from fastapi import APIRouter, Request

from dropwire.http.deps import AdminPrincipal, DbSession, PathId
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.people import service
from dropwire.people.schemas import (
    Accepted,
    ForgotPasswordRequest,
    InvitationRead,
    InvitationRequest,
)
from dropwire.people.throttle import ResetThrottle
from dropwire.vendors import service as vendors

api_router = APIRouter(route_class=UnitOfWorkRoute, tags=["People"])
auth_router = APIRouter(route_class=UnitOfWorkRoute, tags=["Auth"])


@api_router.post(
    "/dropship-providers/{vendor_id}/invite.json", response_model=InvitationRead, status_code=201
)
def invite(
    vendor_id: PathId, data: InvitationRequest, session: DbSession, _: AdminPrincipal
) -> InvitationRead:
    """Email a one-time link (72 h) with which the person sets a password and lands in the
    vendor portal."""
    vendor = vendors.get(session, vendor_id=vendor_id)
    invitation = service.invite(session, vendor=vendor, email=data.email, name=data.name)
    return InvitationRead(
        user_id=invitation.user.id,
        email=invitation.user.email,
        dropship_provider_id=vendor.id,
        expires_at=invitation.expires_at,
        email_message_id=invitation.message.id,
        link=invitation.link,
    )


@auth_router.post("/auth/forgot-password", response_model=Accepted, status_code=202)
def forgot_password(data: ForgotPasswordRequest, request: Request, session: DbSession) -> Accepted:
    """Always 202: whether the address belongs to anyone is nobody's business. Requests are
    limited per address and per client; one over a limit is answered alike and sends nothing.
    The request is only queued: who the address belongs to is looked up by the worker."""
    throttle: ResetThrottle = request.app.state.reset_throttle
    if throttle.allow(data.email, request.client.host if request.client else "unknown"):
        service.ask_for_reset(session, email=data.email)
    return Accepted(detail="If the address belongs to someone, a link is on its way")
