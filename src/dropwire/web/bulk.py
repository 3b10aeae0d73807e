"""Bulk actions on list pages: the rows ticked on a page, each handed to the one service the API
and the single-row forms call, each in its own savepoint. A refusal (the service's typed error)
rolls back that row alone; the others commit together. The flash on the list names every row:
done, or refused with the error's message."""

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from dropwire.core.errors import DomainError, Invalid
from dropwire.delivery import service as delivery_service
from dropwire.delivery.models import DeliveryState
from dropwire.http.deps import DbSession
from dropwire.jobs import service as jobs_service
from dropwire.jobs.models import JobState
from dropwire.sales import service as sales_service
from dropwire.sales.models import CancelReason
from dropwire.sales.schemas import CancelRequest
from dropwire.web.formatting import label
from dropwire.web.pages import AdminVisitor, CheckedForm, WebRoute, problem_text, set_flash
from dropwire.web.sessions import Visitor

MAX_ROWS = 250
RETRYABLE_DELIVERIES = frozenset({DeliveryState.dead, DeliveryState.failed, DeliveryState.disabled})
RETRYABLE_JOBS = frozenset({JobState.dead, JobState.failed})
router = APIRouter(route_class=WebRoute)


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def picked_ids(form: FormData) -> list[int]:
    """The ticked rows' ids, in page order, each once."""
    ids: list[int] = []
    for value in form.getlist("ids"):
        if not isinstance(value, str) or not value.isdigit() or len(value) > 10:
            raise Invalid("ids", "each selected row is named by its id")
        if int(value) not in ids:
            ids.append(int(value))
    if not ids:
        raise Invalid("ids", "Select at least one row first.")
    if len(ids) > MAX_ROWS:
        raise Invalid("ids", f"Select at most {MAX_ROWS} rows at a time.")
    return ids


def each(
    session: Session, *, ids: list[int], act: Callable[[int], str], name: Callable[[int], str]
) -> Outcome:
    """Run `act` on every id in a savepoint of its own; `act` answers the row's name."""
    outcome = Outcome()
    for row_id in ids:
        try:
            with session.begin_nested():
                outcome.done.append(act(row_id))
        except (DomainError, ValidationError) as exc:
            outcome.refused.append(f"{name(row_id)}: refused — {problem_text(exc)}")
    return outcome


def _answer(request: Request, fallback: str, outcome: Outcome, doing: str) -> RedirectResponse:
    response = RedirectResponse(_back(request, fallback), status_code=303)
    done = f"{doing}: {', '.join(outcome.done)}." if outcome.done else f"Nothing {doing.lower()}."
    summary = f"{len(outcome.done)} done, {len(outcome.refused)} refused. {done}"
    set_flash(response, "error" if outcome.refused else "ok", summary, outcome.refused)
    return response


def _refusal(request: Request, fallback: str, exc: DomainError) -> RedirectResponse:
    response = RedirectResponse(_back(request, fallback), status_code=303)
    set_flash(response, "error", exc.message)
    return response


def _back(request: Request, fallback: str) -> str:
    """The list page the form was on (same site only), so its filters and page survive."""
    referer = request.headers.get("referer", "")
    base = str(request.base_url).rstrip("/")
    if referer.startswith(base + fallback):
        rest = referer[len(base) :]
        if rest == fallback or rest.startswith((fallback + "?", fallback + "#")):
            return rest
    return fallback


def _run(
    request: Request,
    session: Session,
    form: FormData,
    fallback: str,
    doing: str,
    act: Callable[[int], str],
    name: Callable[[int], str],
) -> RedirectResponse:
    try:
        ids = picked_ids(form)
    except Invalid as exc:
        return _refusal(request, fallback, exc)
    return _answer(request, fallback, each(session, ids=ids, act=act, name=name), doing)


@router.post("/sales/bulk/cancel")
def cancel_sales(
    request: Request, session: DbSession, visitor: AdminVisitor, form: CheckedForm
) -> RedirectResponse:
    """`POST /api/sales/{id}/cancel.json` with no lines named, for each sale: every open unit."""

    def act(sale_id: int) -> str:
        sale = sales_service.get_sale(session, sale_id=sale_id)
        request_ = CancelRequest(cancel_reason=CancelReason.other)
        sales_service.cancel(session, sale=sale, request=request_, actor=visitor.email)
        return sale.reference

    def name(sale_id: int) -> str:
        return _sale_name(session, sale_id)

    return _run(request, session, form, "/sales", "Cancelled", act, name)


@router.post("/purchases/bulk/send")
def send_purchases(
    request: Request, session: DbSession, visitor: AdminVisitor, form: CheckedForm
) -> RedirectResponse:
    """`PUT /api/purchases/{id}/send.json` for each purchase order."""

    def act(purchase_id: int) -> str:
        purchase = sales_service.get_purchase(
            session, purchase_id=purchase_id, principal=visitor.principal
        )
        if purchase.dropship_provider_id is None:
            raise Invalid("ids", "an in-house order has no vendor to send it to")
        sales_service.send_purchase(session, purchase=purchase)
        return purchase.external_reference

    def name(purchase_id: int) -> str:
        return _purchase_name(session, purchase_id, visitor)

    return _run(request, session, form, "/purchases", "Sent again", act, name)


@router.post("/deliveries/bulk/retry")
def retry_deliveries(
    request: Request, session: DbSession, _: AdminVisitor, form: CheckedForm
) -> RedirectResponse:
    """The delivery page's Retry, for each delivery."""

    def act(delivery_id: int) -> str:
        delivery = delivery_service.get_delivery(session, delivery_id=delivery_id)
        if delivery.state not in RETRYABLE_DELIVERIES:  # as the page offers Retry
            raise Invalid("ids", f"it is {label(delivery.state).lower()}, nothing to retry")
        delivery_service.retry(session, delivery=delivery)
        return f"#{delivery_id}"

    return _run(
        request, session, form, "/deliveries", "Sent again now", act, lambda i: f"Delivery #{i}"
    )


@router.post("/jobs/bulk/retry")
def retry_jobs(
    request: Request, session: DbSession, _: AdminVisitor, form: CheckedForm
) -> RedirectResponse:
    """The jobs page's Retry, for each job."""

    def act(job_id: int) -> str:
        job = jobs_service.get(session, job_id=job_id)
        if job.state not in RETRYABLE_JOBS:  # as the page offers Retry: never a running job
            raise Invalid("ids", f"it is {label(job.state).lower()}, nothing to retry")
        jobs_service.retry(session, job=job)
        return str(job_id)

    return _run(request, session, form, "/jobs", "Queued again", act, lambda i: f"Job {i}")


def _sale_name(session: Session, sale_id: int) -> str:
    try:
        return f"Sale {sales_service.get_sale(session, sale_id=sale_id).reference}"
    except DomainError:
        return f"Sale #{sale_id}"


def _purchase_name(session: Session, purchase_id: int, visitor: Visitor) -> str:
    try:
        purchase = sales_service.get_purchase(
            session, purchase_id=purchase_id, principal=visitor.principal
        )
    except DomainError:
        return f"Purchase order #{purchase_id}"
    return f"Purchase order {purchase.external_reference}"
