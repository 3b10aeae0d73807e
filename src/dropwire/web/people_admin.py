"""The merchant's people and API tokens: who signs in (admins and vendor users, their last
sign-in), inviting a vendor's person or an admin (the people domain's invitation, emailed or
shown once), deactivating someone; API tokens listed by prefix, made (the token shown on this
page once, then never again) and revoked, by the services `/api/users.json` calls."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from dropwire.auth.models import ApiUser
from dropwire.auth.schemas import ApiUserCreate
from dropwire.auth.scope import one_visible, visible_to
from dropwire.auth.service import create_token, revoke_api_user
from dropwire.auth.users import set_active
from dropwire.core.errors import DomainError
from dropwire.core.schemas import Id
from dropwire.http.deps import DbSession, PathId
from dropwire.people.schemas import InvitationRequest
from dropwire.people.service import Invitation, invite
from dropwire.vendors.service import get as get_vendor
from dropwire.web import forms, queries
from dropwire.web.listings import PEOPLE, TOKENS, list_page
from dropwire.web.pages import (
    AdminVisitor,
    CheckedForm,
    VendorVisitor,
    WebRoute,
    perform,
    render,
    set_flash,
)
from dropwire.web.sessions import Visitor, sign_out_everywhere

router = APIRouter(route_class=WebRoute)


class PersonInvite(InvitationRequest):
    """The invitation's body (`POST /api/dropship-providers/{id}/invite.json`) and the vendor it
    is for, which the API takes from the path; none invites an admin (the dashboard only)."""

    dropship_provider_id: Id | None = Field(
        default=None, description="Empty: an admin, who runs the whole dashboard"
    )


ROLES = [("api", "Admin: the whole account"), ("dropship_provider", "A vendor's own")]


def _vendors(session: Session) -> forms.Choices:
    return {"dropship_provider_id": [(str(v.id), v.name) for v in queries.vendor_names(session)]}


# --- people ----------------------------------------------------------------------------------


def _users_page(
    request: Request,
    session: Session,
    visitor: Visitor,
    form: forms.Form,
    *,
    link: str | None = None,
) -> HTMLResponse:
    response = render(
        request,
        "users.html",
        table=list_page(request, session, visitor=visitor, listing=PEOPLE),
        form=form,
        action="/users/invite",
        submit="Send the invitation",
        back="/users",
        link=link,
    )
    if form.has_errors:
        response.status_code = 422
    return response


def _invite_form(session: Session) -> forms.Form:
    return _as_admin_when_blank(forms.blank_form(PersonInvite, choices=_vendors(session)))


def _as_admin_when_blank(form: forms.Form) -> forms.Form:
    vendor = form.field("dropshipProviderId")
    if vendor is not None:
        vendor.blank = "none: an admin"
    return form


@router.get("/users")
def users(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    return _users_page(request, session, visitor, _invite_form(session))


@router.post("/users/invite")
def invite_person(
    request: Request, session: DbSession, visitor: AdminVisitor, posted: CheckedForm
) -> Response:
    """Email a one-time link; with no SMTP server, show it here once to pass on by hand."""

    def send(data: PersonInvite, _form: forms.Form) -> Invitation:
        vendor_id = data.dropship_provider_id
        vendor = get_vendor(session, vendor_id=vendor_id) if vendor_id is not None else None
        return invite(session, vendor=vendor, email=data.email, name=data.name)

    invitation, form = forms.submit(
        session, schema=PersonInvite, posted=posted, save=send, choices=_vendors(session)
    )
    if invitation is None:
        return _users_page(request, session, visitor, _as_admin_when_blank(form))
    if invitation.link is not None:
        return _users_page(request, session, visitor, _invite_form(session), link=invitation.link)
    response = RedirectResponse("/users", status_code=303)
    set_flash(response, "ok", f"Invitation emailed to {invitation.user.email}.")
    return response


def _activity(
    session: Session, user_id: int, visitor: Visitor, *, active: bool
) -> RedirectResponse:
    def act() -> str:
        user = set_active(session, user_id=user_id, active=active, by_user_id=visitor.user_id)
        if not active:
            sign_out_everywhere(session, user_id=user.id)
        return f"{user.email} {'can sign in again' if active else 'can no longer sign in'}."

    return perform(session, action=act, back="/users")


@router.post("/users/{user_id}/deactivate")
def deactivate(
    user_id: PathId, session: DbSession, visitor: AdminVisitor, _form: CheckedForm
) -> RedirectResponse:
    return _activity(session, user_id, visitor, active=False)


@router.post("/users/{user_id}/reactivate")
def reactivate(
    user_id: PathId, session: DbSession, visitor: AdminVisitor, _form: CheckedForm
) -> RedirectResponse:
    return _activity(session, user_id, visitor, active=True)


# --- API tokens: the merchant's (any scope) and a vendor's own, in its portal ----------------


def _token_options(session: Session, visitor: Visitor) -> tuple[tuple[str, ...], forms.Choices]:
    """Admins pick the scope; a vendor's person makes tokens of its own vendor only (the
    service forces it whatever is posted), so its form has no scope to pick."""
    if visitor.is_admin:
        return (), {"role": ROLES, **_vendors(session)}
    return ("role", "dropship_provider_id"), {}


def _token_form(session: Session, visitor: Visitor) -> forms.Form:
    skip, choices = _token_options(session, visitor)
    return forms.blank_form(ApiUserCreate, values={"role": "api"}, skip=skip, choices=choices)


def _tokens_page(
    request: Request,
    session: Session,
    visitor: Visitor,
    form: forms.Form,
    *,
    created: tuple[ApiUser, str] | None = None,
) -> HTMLResponse:
    base = "/tokens" if visitor.is_admin else "/vendor/tokens"
    response = render(
        request,
        "tokens.html",
        table=list_page(request, session, visitor=visitor, listing=TOKENS),
        form=form,
        base=base,
        action=f"{base}/new",
        submit="Make the token",
        back=base,
        created=created,
    )
    if form.has_errors:
        response.status_code = 422
    return response


def _make(request: Request, session: Session, visitor: Visitor, posted: FormData) -> Response:
    skip, choices = _token_options(session, visitor)
    data, form = forms.parse(ApiUserCreate, posted, skip=skip, choices=choices)
    if isinstance(data, ApiUserCreate):
        try:
            made = create_token(session, data=data, principal=visitor.principal)
        except DomainError as exc:
            session.rollback()
            forms.show_refusal(form, exc)
        else:
            session.flush()
            # the token, this once: the page is the answer to the form, never stored or
            # redirected to (a flash cookie would keep it in the browser)
            return _tokens_page(
                request, session, visitor, _token_form(session, visitor), created=made
            )
    return _tokens_page(request, session, visitor, form)


def _revoke(session: Session, visitor: Visitor, api_user_id: int, back: str) -> RedirectResponse:
    def act() -> str:
        statement = visible_to(select(ApiUser), visitor.principal, ApiUser.dropship_provider_id)
        one_visible(
            session,
            statement=statement.where(ApiUser.id == api_user_id),
            what="Token",
            record_id=api_user_id,
        )
        user = revoke_api_user(session, api_user_id=api_user_id)
        return f"Token {user.token_prefix}… of {user.name} is revoked."

    return perform(session, action=act, back=back)


@router.get("/tokens")
def tokens(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    return _tokens_page(request, session, visitor, _token_form(session, visitor))


@router.post("/tokens/new")
def new_token(
    request: Request, session: DbSession, visitor: AdminVisitor, posted: CheckedForm
) -> Response:
    return _make(request, session, visitor, posted)


@router.post("/tokens/{api_user_id}/revoke")
def revoke_token(
    api_user_id: PathId, session: DbSession, visitor: AdminVisitor, _form: CheckedForm
) -> RedirectResponse:
    return _revoke(session, visitor, api_user_id, "/tokens")


@router.get("/vendor/tokens")
def vendor_tokens(request: Request, session: DbSession, visitor: VendorVisitor) -> HTMLResponse:
    return _tokens_page(request, session, visitor, _token_form(session, visitor))


@router.post("/vendor/tokens/new")
def new_vendor_token(
    request: Request, session: DbSession, visitor: VendorVisitor, posted: CheckedForm
) -> Response:
    return _make(request, session, visitor, posted)


@router.post("/vendor/tokens/{api_user_id}/revoke")
def revoke_vendor_token(
    api_user_id: PathId, session: DbSession, visitor: VendorVisitor, _form: CheckedForm
) -> RedirectResponse:
    return _revoke(session, visitor, api_user_id, "/vendor/tokens")
