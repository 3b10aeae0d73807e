"""What every page shares: templates, the signed-in visitor, CSRF-checked forms, flash messages.

Pages call the domain services like the API does; a domain error becomes an HTML page (reads) or a
flash message on the page the form came from (actions), never a rule of its own.
"""

import base64
import json
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from dropwire.apilog.redaction import masked_url
from dropwire.core.errors import DomainError, Forbidden, Invalid, NotFound
from dropwire.core.schemas import unstorable_character
from dropwire.http.deps import DbSession
from dropwire.http.errors import status_of
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.sales.schemas import LineQuantity, ShipRequest
from dropwire.web.formatting import FILTERS
from dropwire.web.queries import FEED_ITEMS_COUNTED
from dropwire.web.sessions import Visitor, visitor_for

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


def _shown(value: Any) -> Any:
    """Every value a template prints: a URL's credentials masked (a feed's FTP password, a
    receiver's token), wherever the URL sits, by the same function the API and the logs use."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return masked_url(value)
    return value


TEMPLATES.env.finalize = _shown
TEMPLATES.env.filters.update(FILTERS)
TEMPLATES.env.globals["FEED_ITEMS_COUNTED"] = FEED_ITEMS_COUNTED
SESSION_COOKIE = "dw_session"
FLASH_COOKIE = "dw_flash"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Redirect(Exception):
    """Leave this page for another (e.g. not signed in → the sign-in page)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {403: "Not allowed", 404: "Not found", 429: "Too many attempts"}
    visitor = getattr(request.state, "visitor", None)
    response = TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {
            "title": titles.get(status, "Something is wrong"),
            "message": message,
            "status": status,
            "visitor": visitor,
            "csrf_token": visitor.csrf_token if visitor else "",
            "path": request.url.path,
        },
        status_code=status,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


class WebRoute(UnitOfWorkRoute):
    """A page: the API's unit of work (committed before the answer), errors answered in HTML."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # forced, not defaulted: APIRouter always passes include_in_schema (True), and a page in
        # the API's OpenAPI schema is an operation API clients (and schemathesis) would call
        kwargs["include_in_schema"] = False
        kwargs.setdefault("response_class", HTMLResponse)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            for name, value in request.query_params.multi_items():
                if (problem := unstorable_character(value)) is not None:
                    # no search or filter holds one, and PostgreSQL refuses NUL in a query
                    return error_page(request, 422, f"The address's {name} has a {problem}.")
            try:
                return await handler(request)
            except Redirect as exc:
                return RedirectResponse(exc.location, status_code=303)
            except DomainError as exc:
                return error_page(request, status_of(exc), exc.message)
            except RequestValidationError as exc:
                fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
                return error_page(request, 422, f"Invalid values for: {fields}")

        return run


def _visitor(request: Request, session: DbSession) -> Visitor:
    token = request.cookies.get(SESSION_COOKIE)
    visitor = visitor_for(session, token=token) if token else None
    if visitor is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Redirect(f"/sign-in?next={quote(target, safe='')}")
    request.state.visitor = visitor
    return visitor


def _admin(visitor: Annotated[Visitor, Depends(_visitor)]) -> Visitor:
    if not visitor.is_admin:
        raise NotFound("Page")  # vendor users see nothing outside /vendor
    return visitor


def _vendor(visitor: Annotated[Visitor, Depends(_visitor)]) -> Visitor:
    if visitor.is_admin:
        raise Redirect("/")
    return visitor


AnyVisitor = Annotated[Visitor, Depends(_visitor)]
AdminVisitor = Annotated[Visitor, Depends(_admin)]
VendorVisitor = Annotated[Visitor, Depends(_vendor)]


async def _checked_form(request: Request, visitor: AnyVisitor) -> FormData:
    """The posted form, only when it carries this session's CSRF token."""
    form = await request.form()
    presented = form.get("csrf_token")
    if not visitor.csrf_matches(presented if isinstance(presented, str) else None):
        raise Forbidden(
            "This form was not sent from a page of this site (its security token is missing or "
            "stale). Reload the page and try again."
        )
    return form


CheckedForm = Annotated[FormData, Depends(_checked_form)]


def text_field(form: FormData, name: str, *, required: bool = False) -> str | None:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise Invalid(name, f"{name.replace('_', ' ')} is required")
    return text or None


def int_field(form: FormData, name: str) -> int:
    text = text_field(form, name, required=True) or ""
    try:
        return int(text)
    except ValueError:
        raise Invalid(name, f"{name.replace('_', ' ')} must be a whole number") from None


def quantities_by_line(form: FormData, prefix: str) -> list[LineQuantity]:
    """The form's `<prefix><line id>` numbers above 0, as the API's `[{id, quantity}]`.

    Whether each line has that many units is the service's rule (it names the line).
    """
    lines = []
    for key, value in form.multi_items():
        if not key.startswith(prefix) or not isinstance(value, str) or not value.strip():
            continue
        quantity = int_field(form, key)
        line_id = key.removeprefix(prefix)
        if quantity < 0 or not line_id.isdigit():
            raise Invalid(key, "quantities are whole numbers, 0 or more")
        if quantity:
            lines.append(LineQuantity(id=int(line_id), quantity=quantity))
    return lines


def ship_request(form: FormData) -> ShipRequest:
    """A shipment form (portal or dashboard) as the API's ship.json body."""
    lines = quantities_by_line(form, "ship_")
    if not lines:
        raise Invalid("purchaseItems", "Enter how many units of at least one line you shipped.")
    return ShipRequest(
        tracking_company=text_field(form, "carrier", required=True),
        tracking_number=text_field(form, "tracking_number", required=True),
        tracking_url=text_field(form, "tracking_url"),
        purchase_items=lines,
    )


FLASH_DETAIL_BYTES = 2400
"""What a flash's detail lines may take (the cookie holds them, base64: browsers keep 4 KB)."""


def set_flash(response: Response, kind: str, message: str, details: Sequence[str] = ()) -> None:
    """A message for the next page; `details` (one line per item of a bulk action) are kept
    while they fit, the rest summed up in a last line."""
    kept: list[str] = []
    used = 0
    for index, line in enumerate(details):
        line = line[:300]
        if used + len(line.encode()) > FLASH_DETAIL_BYTES:
            kept.append(f"… and {len(details) - index} more.")
            break
        kept.append(line)
        used += len(line.encode()) + 4
    data = [kind, message[:500], kept] if kept else [kind, message[:500]]
    value = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
    response.set_cookie(FLASH_COOKIE, value, httponly=True, samesite="lax", max_age=60)


def _take_flash(request: Request) -> tuple[str, str, list[str]] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        kind, message, *rest = json.loads(base64.urlsafe_b64decode(raw.encode()))
        details = [str(line) for line in rest[0]] if rest else []
    except (ValueError, TypeError):
        return None
    return str(kind), str(message), details


def render(request: Request, template: str, **context: Any) -> HTMLResponse:
    flash = _take_flash(request)
    visitor = getattr(request.state, "visitor", None)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "visitor": visitor,
            "csrf_token": visitor.csrf_token if visitor else "",
            "flash": flash,
            "path": request.url.path,
            **context,
        },
    )
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE)
    response.headers.update(SECURITY_HEADERS)
    return response


def problem_text(exc: DomainError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(e.get("msg", "invalid")) for e in exc.errors())
    details = [p.message for p in exc.errors if p.message != exc.message]
    return exc.message + (f" ({'; '.join(details)})" if details else "")


def perform(session: Session, *, action: Callable[[], str], back: str) -> RedirectResponse:
    """Run a form's service call; success or the domain's refusal is flashed on `back`.

    The route commits a success before the redirect leaves; a refusal is rolled back here, so
    nothing half-done commits.
    """
    try:
        kind, message = "ok", action()
    except (DomainError, ValidationError) as exc:
        session.rollback()
        kind, message = "error", problem_text(exc)
    response = RedirectResponse(back, status_code=303)
    set_flash(response, kind, message)
    return response


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return fallback
