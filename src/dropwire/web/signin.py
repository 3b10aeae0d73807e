"""Sign-in and sign-out pages.

The sign-in form has no session yet, so its CSRF token is a double-submit pair: a random value in
a SameSite cookie and the same value in the form; a forged cross-site post has only one of them.
"""

import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dropwire.auth.throttle import SignInThrottle
from dropwire.core.settings import Settings
from dropwire.http.deps import DbSession
from dropwire.web.pages import (
    SECURITY_HEADERS,
    SESSION_COOKIE,
    AnyVisitor,
    CheckedForm,
    WebRoute,
    error_page,
    render,
    safe_next,
)
from dropwire.web.sessions import sign_in, sign_out, visitor_for

router = APIRouter(route_class=WebRoute)
LOGIN_CSRF_COOKIE = "dw_signin"


def _secure(request: Request) -> bool:
    """Cookies are `Secure` when the visitor reached us over TLS (directly or via a proxy)."""
    return request.url.scheme == "https"


def _form(
    request: Request,
    *,
    email: str = "",
    error: str | None = None,
    status: int = 200,
    next_path: str = "/",
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "sign_in.html", login_csrf=token, email=email, error=error, next_path=next_path
    )
    response.status_code = status
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/sign-in",
        max_age=3600,
    )
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, session: DbSession, next: str = "/") -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and visitor_for(session, token=token) is not None:
        return RedirectResponse(safe_next(next, "/"), status_code=303)
    return _form(request, next_path=safe_next(next, "/"))


@router.post("/sign-in")
def sign_in_submit(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return error_page(
            request, 403, "This sign-in form has expired or came from another site; reload it."
        )
    settings: Settings = request.app.state.settings
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    ip = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(email, ip)
    if wait:
        response = _form(
            request,
            email=email,
            error=f"Too many failed sign-ins. Try again in {wait} seconds.",
            status=429,
            next_path=safe_next(next, "/"),
        )
        response.headers["Retry-After"] = str(wait)
        return response
    token = sign_in(
        session,
        email=email,
        password=password,
        lifetime=timedelta(hours=settings.web_session_hours),
        ip=ip,
        user_agent=request.headers.get("user-agent"),
    )
    if token is None:
        throttle.failed(email, ip)
        return _form(
            request,
            email=email,
            error="Wrong email or password.",
            status=401,
            next_path=safe_next(next, "/"),
        )
    visitor = visitor_for(session, token=token)
    landing = "/" if visitor is None or visitor.is_admin else "/vendor"
    target = safe_next(next, landing)
    if visitor is not None and not visitor.is_admin and not target.startswith("/vendor"):
        target = "/vendor"
    signed_in = RedirectResponse(target, status_code=303)
    signed_in.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=int(settings.web_session_hours * 3600),
    )
    signed_in.delete_cookie(LOGIN_CSRF_COOKIE, path="/sign-in")
    signed_in.headers.update(SECURITY_HEADERS)
    return signed_in


@router.post("/sign-out")
def sign_out_submit(
    request: Request, session: DbSession, _visitor: AnyVisitor, _form: CheckedForm
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sign_out(session, token=token)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
