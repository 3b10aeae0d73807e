"""The mail log (each email as it was rendered, with its fate) and the template editor with a
preview; the purchase-order documents for the dashboard and the vendor portal; sending a
purchase order again. Forms call the same services as the API."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from dropwire.core.db import settings_of
from dropwire.core.errors import DomainError
from dropwire.documents.purchase_order import packing_slip_pdf, purchase_order_pdf
from dropwire.http.deps import DbSession, PathId
from dropwire.mail import composing
from dropwire.mail import service as mail_service
from dropwire.mail.models import withhold_links
from dropwire.mail.rendering import Parts
from dropwire.people.schemas import InvitationRequest
from dropwire.people.service import invite
from dropwire.sales import service as sales
from dropwire.vendors.models import DropshipProvider
from dropwire.vendors.service import get as get_vendor
from dropwire.web.listings import MAIL, list_page
from dropwire.web.pages import (
    SECURITY_HEADERS,
    AdminVisitor,
    CheckedForm,
    VendorVisitor,
    WebRoute,
    perform,
    render,
    set_flash,
    text_field,
)
from dropwire.web.sessions import Visitor

router = APIRouter(route_class=WebRoute)

# Pages that show a rendered email allow its inline styles (mail clients need them inlined);
# the email itself sits in a sandboxed frame, so it runs nothing.
_SHOWS_EMAIL = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    ),
}


def _showing_email(response: HTMLResponse) -> HTMLResponse:
    response.headers.update(_SHOWS_EMAIL)
    return response


@router.get("/mail")
def mail_log(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    page = list_page(request, session, visitor=visitor, listing=MAIL)
    page.rows = [row[0] for row in page.rows]  # the messages, each with its delivery
    composing.shown(session, messages=page.rows)  # those not sent yet, as they would go now
    return render(request, "mail_log.html", table=page)


@router.get("/mail/templates")
def mail_templates(request: Request, session: DbSession, _: AdminVisitor) -> HTMLResponse:
    return render(request, "mail_templates.html", templates=mail_service.all_templates(session))


def _editor(
    request: Request,
    event: str,
    parts: Parts,
    *,
    custom: bool,
    preview: Parts | None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    response = render(
        request,
        "mail_template.html",
        event=event,
        description=mail_service.default_of(event).description,
        parts=parts,
        custom=custom,
        preview=preview,
        error=error,
    )
    response.status_code = status
    return _showing_email(response)


@router.get("/mail/templates/{event}")
def mail_template(event: str, request: Request, session: DbSession, _: AdminVisitor) -> Response:
    parts, own = mail_service.template_of(session, event=event)
    preview = mail_service.preview(session, event=event)
    return _editor(request, event, parts, custom=own is not None, preview=preview)


@router.post("/mail/templates/{event}")
def edit_mail_template(
    event: str, request: Request, session: DbSession, _: AdminVisitor, form: CheckedForm
) -> Response:
    """`action` preview renders the posted parts; save keeps them; reset returns to the
    built-in template."""
    action = text_field(form, "action") or "preview"
    if action == "reset":
        return perform(
            session,
            action=lambda: _reset(session, event),
            back=f"/mail/templates/{event}",
        )
    posted = Parts(
        str(form.get("subject") or ""), str(form.get("html") or ""), str(form.get("text") or "")
    )
    _current, own = mail_service.template_of(session, event=event)
    try:
        preview = mail_service.preview(
            session, event=event, subject=posted.subject, html=posted.html, text=posted.text
        )
        if action == "save":
            mail_service.save_template(
                session, event=event, subject=posted.subject, html=posted.html, text=posted.text
            )
            response = RedirectResponse(f"/mail/templates/{event}", status_code=303)
            set_flash(response, "ok", "Template saved; the next email of this kind uses it.")
            return response
    except DomainError as exc:
        session.rollback()
        return _editor(
            request,
            event,
            posted,
            custom=own is not None,
            preview=None,
            error=exc.message,
            status=422,
        )
    return _editor(request, event, posted, custom=own is not None, preview=preview)


def _reset(session: DbSession, event: str) -> str:
    mail_service.reset_template(session, event=event)
    return "Back to the built-in template."


@router.get("/mail/{message_id}")
def mail_message(
    message_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    message = mail_service.get_message(session, message_id=message_id)
    response = render(
        request,
        "mail_message.html",
        message=message,
        html=withhold_links(message.html or ""),
        text=withhold_links(message.text or ""),
    )
    return _showing_email(response)


def _document(session: DbSession, visitor: Visitor, purchase_id: int, slip: bool) -> Response:
    purchase = sales.get_purchase(session, purchase_id=purchase_id, principal=visitor.principal)
    vendor = session.get(DropshipProvider, purchase.dropship_provider_id or 0)
    made = sales.purchase_document(purchase, vendor, settings_of(session))
    content = packing_slip_pdf(made) if slip else purchase_order_pdf(made)
    name = f"{made.reference}-packing-slip.pdf" if slip else f"{made.reference}.pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"', **SECURITY_HEADERS},
    )


@router.get("/purchases/{purchase_id}/document.pdf")
def admin_document(purchase_id: PathId, session: DbSession, visitor: AdminVisitor) -> Response:
    return _document(session, visitor, purchase_id, slip=False)


@router.get("/purchases/{purchase_id}/packing-slip.pdf")
def admin_packing_slip(purchase_id: PathId, session: DbSession, visitor: AdminVisitor) -> Response:
    return _document(session, visitor, purchase_id, slip=True)


@router.get("/vendor/purchases/{purchase_id}/document.pdf")
def vendor_document(purchase_id: PathId, session: DbSession, visitor: VendorVisitor) -> Response:
    return _document(session, visitor, purchase_id, slip=False)


@router.get("/vendor/purchases/{purchase_id}/packing-slip.pdf")
def vendor_packing_slip(
    purchase_id: PathId, session: DbSession, visitor: VendorVisitor
) -> Response:
    return _document(session, visitor, purchase_id, slip=True)


@router.get("/vendors/{vendor_id}/invite")
def invite_page(
    vendor_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    return render(
        request, "invite.html", vendor=get_vendor(session, vendor_id=vendor_id), link=None
    )


@router.post("/vendors/{vendor_id}/invite")
def invite_person(
    vendor_id: PathId, request: Request, session: DbSession, _: AdminVisitor, form: CheckedForm
) -> Response:
    """Email a one-time link; with no SMTP server, show it here to pass on by hand."""
    vendor = get_vendor(session, vendor_id=vendor_id)
    try:
        address = InvitationRequest(email=text_field(form, "email") or "").email
        invitation = invite(session, vendor=vendor, email=address)
    except (DomainError, ValidationError) as exc:
        session.rollback()
        response = RedirectResponse(f"/vendors/{vendor_id}/invite", status_code=303)
        set_flash(response, "error", getattr(exc, "message", None) or "Enter one email address.")
        return response
    if invitation.link is not None:
        return render(request, "invite.html", vendor=vendor, link=invitation.link)
    response = RedirectResponse("/vendors", status_code=303)
    set_flash(response, "ok", f"Invitation emailed to {invitation.user.email}.")
    return response


@router.post("/purchases/{purchase_id}/send")
def resend_purchase(
    purchase_id: PathId, session: DbSession, visitor: AdminVisitor, _form: CheckedForm
) -> Response:
    def act() -> str:
        purchase = sales.get_purchase(session, purchase_id=purchase_id, principal=visitor.principal)
        sales.send_purchase(session, purchase=purchase)
        return f"Purchase order {purchase.external_reference} is being sent again."

    return perform(session, action=act, back=f"/purchases/{purchase_id}")
