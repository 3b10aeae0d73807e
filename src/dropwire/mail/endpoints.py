from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.http.deps import AdminPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, paginate, respond
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.mail import composing, service
from dropwire.mail.models import EmailMessage, EmailTemplate
from dropwire.mail.rendering import Parts
from dropwire.mail.schemas import (
    EmailMessageDetail,
    EmailMessageRead,
    EmailTemplateRead,
    EmailTemplateWrite,
    RenderedEmail,
)

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Email"])
Listing = Annotated[ListQuery, Depends(list_query)]

MESSAGE_FILTERS = fields_of(
    EmailMessage, "id", "event", "purchase_id", "dropship_provider_id", "created_at"
)


@router.get("/email-messages.json", response_model=list[EmailMessageRead])
def list_messages(session: DbSession, _: AdminPrincipal, response: Response, query: Listing) -> Any:
    rows = paginate(
        session,
        stmt=select(EmailMessage),
        query=query,
        fields=MESSAGE_FILTERS,
        response=response,
        default_order=[EmailMessage.id.desc()],
    )
    composing.shown(session, messages=rows)  # those not sent yet, as they would go now
    read = [EmailMessageRead.model_validate(row) for row in rows]
    return respond(session, query=query, response=response, items=read, read=EmailMessageRead)


@router.get("/email-messages/{message_id}.json", response_model=EmailMessageDetail)
def get_message(message_id: PathId, session: DbSession, _: AdminPrincipal) -> EmailMessage:
    return service.get_message(session, message_id=message_id)


def _read(event: str, parts: Parts, own: EmailTemplate | None) -> EmailTemplateRead:
    return EmailTemplateRead(
        event=event,
        description=service.default_of(event).description,
        subject=parts.subject,
        html=parts.html,
        text=parts.text,
        custom=own is not None,
        updated_at=own.updated_at if own else None,
    )


@router.get("/email-templates.json", response_model=list[EmailTemplateRead])
def list_templates(session: DbSession, _: AdminPrincipal) -> list[EmailTemplateRead]:
    return [
        _read(default.event, parts, own) for default, parts, own in service.all_templates(session)
    ]


@router.get("/email-templates/{event}.json", response_model=EmailTemplateRead)
def get_template(event: str, session: DbSession, _: AdminPrincipal) -> EmailTemplateRead:
    parts, own = service.template_of(session, event=event)
    return _read(event, parts, own)


@router.put("/email-templates/{event}.json", response_model=EmailTemplateRead)
def put_template(
    event: str, data: EmailTemplateWrite, session: DbSession, _: AdminPrincipal
) -> EmailTemplateRead:
    """Refused with 422 naming the part (`subject`, `html`, `text`) that fails to render."""
    service.save_template(
        session, event=event, subject=data.subject, html=data.html, text=data.text
    )
    parts, own = service.template_of(session, event=event)
    return _read(event, parts, own)


@router.delete("/email-templates/{event}.json", status_code=204)
def reset_template(event: str, session: DbSession, _: AdminPrincipal) -> Response:
    """Back to the built-in template."""
    service.reset_template(session, event=event)
    return Response(status_code=204)


@router.post("/email-templates/{event}/preview.json", response_model=RenderedEmail)
def preview_template(
    event: str, session: DbSession, _: AdminPrincipal, data: EmailTemplateWrite | None = None
) -> RenderedEmail:
    """The event's sample rendered with the parts sent (the saved ones where left out)."""
    body = data or EmailTemplateWrite()
    parts = service.preview(
        session, event=event, subject=body.subject, html=body.html, text=body.text
    )
    return RenderedEmail(subject=parts.subject, html=parts.html, text=parts.text)
