"""Pages for people without a session: choose a password from a one-time link (an invitation
or a reset), and ask for a reset link. Their forms carry a double-submit CSRF pair, as the
sign-in form does."""

import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dropwire.core.errors import DomainError
from dropwire.core.settings import Settings
from dropwire.http.deps import DbSession
from dropwire.people import links
from dropwire.people.service import ask_for_reset
from dropwire.people.throttle import ResetThrottle
from dropwire.web.pages import SECURITY_HEADERS, SESSION_COOKIE, WebRoute, error_page, render
from dropwire.web.sessions import sign_in

router = APIRouter(route_class=WebRoute)
PASSWORD_CSRF_COOKIE = "dw_password"


def _page(request: Request, template: str, *, status: int = 200, **context: object) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, template, form_csrf=token, **context)
    response.status_code = status
    response.set_cookie(
        PASSWORD_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/password",
        max_age=3600,
    )
    return response


def _forged(request: Request, presented: str) -> HTMLResponse | None:
    expected = request.cookies.get(PASSWORD_CSRF_COOKIE, "")
    if expected and hmac.compare_digest(expected.encode(), presented.encode()):
        return None
    return error_page(request, 403, "This form has expired or came from another site; reload it.")


@router.get(links.SET_PASSWORD_PATH)
def set_password_page(request: Request, session: DbSession, token: str = "") -> Response:
    found = links.usable(session, token=token)
    if found is None:
        return _page(request, "password_set.html", status=410, token="", email="", expired=True)
    _link, user = found
    return _page(request, "password_set.html", token=token, email=user.email, expired=False)


@router.post(links.SET_PASSWORD_PATH)
def set_password_submit(
    request: Request,
    session: DbSession,
    token: Annotated[str, Form(max_length=128)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    forged = _forged(request, csrf_token)
    if forged is not None:
        return forged
    found = links.usable(session, token=token)
    email = found[1].email if found else ""
    if password != confirm:
        return _page(
            request,
            "password_set.html",
            status=422,
            token=token,
            email=email,
            expired=False,
            error="The two passwords differ.",
        )
    try:
        user = links.redeem(session, token=token, password=password)
    except DomainError as exc:
        session.rollback()
        return _page(
            request,
            "password_set.html",
            status=422,
            token=token,
            email=email,
            expired=found is None,
            error=exc.message,
        )
    settings: Settings = request.app.state.settings
    web_token = sign_in(
        session,
        email=user.email,
        password=password,
        lifetime=timedelta(hours=settings.web_session_hours),
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    landing = "/vendor" if user.dropship_provider_id is not None else "/"
    response = RedirectResponse(landing, status_code=303)
    if web_token is not None:
        response.set_cookie(
            SESSION_COOKIE,
            web_token,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            max_age=int(settings.web_session_hours * 3600),
        )
    response.delete_cookie(PASSWORD_CSRF_COOKIE, path="/password")
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return _page(request, "password_forgot.html", sent=False)


@router.post("/password/forgot")
def forgot_submit(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    forged = _forged(request, csrf_token)
    if forged is not None:
        return forged
    throttle: ResetThrottle = request.app.state.reset_throttle
    if throttle.allow(email, request.client.host if request.client else "unknown"):
        ask_for_reset(session, email=email)
    return _page(request, "password_forgot.html", status=202, sent=True)
