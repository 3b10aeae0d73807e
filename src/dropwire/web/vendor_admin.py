"""The merchant's vendor pages: add a vendor, edit it, and see it whole (its feeds, its purchase
orders waiting and late, the people who sign in for it, its balance, invoices and payments).
Forms take the API's own schemas and call the vendors service the API calls."""

from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.auth.models import User
from dropwire.core.errors import DomainError
from dropwire.core.time import utcnow
from dropwire.http.deps import DbSession, PathId
from dropwire.payments import service as payments
from dropwire.sales.models import Purchase
from dropwire.vendors import service as vendors
from dropwire.vendors.models import DropshipProvider
from dropwire.vendors.schemas import DropshipProviderCreate, DropshipProviderUpdate
from dropwire.web import forms, money_pages, queries
from dropwire.web.pages import AdminVisitor, CheckedForm, WebRoute, render, set_flash

router = APIRouter(route_class=WebRoute)

LATE_AFTER = timedelta(days=2)
"""A purchase order still open this long after it was made is late."""

INVOICES_SHOWN = 20

HIDDEN = frozenset({"webhook_secret"})  # a secret: set through the API, never shown on a page


_edit_page = partial(forms.edit_page, crumb="Vendors")


@router.get("/vendors/new")
def new_vendor(request: Request, _: AdminVisitor) -> HTMLResponse:
    form = forms.blank_form(
        DropshipProviderCreate, values=forms.column_defaults(DropshipProvider), skip=HIDDEN
    )
    return _edit_page(request, form, heading="Add a vendor", action="/vendors/new", back="/vendors")


@router.post("/vendors/new")
def create_vendor(
    request: Request, session: DbSession, _: AdminVisitor, posted: CheckedForm
) -> Response:
    data, form = forms.parse(DropshipProviderCreate, posted, skip=HIDDEN)
    if isinstance(data, DropshipProviderCreate):
        try:
            vendor = vendors.create(session, data=data)
        except DomainError as exc:
            session.rollback()
            forms.show_refusal(form, exc)
        else:
            return _saved(f"/vendors/{vendor.id}", f"Vendor {vendor.name} added.")
    return _edit_page(request, form, heading="Add a vendor", action="/vendors/new", back="/vendors")


@router.get("/vendors/{vendor_id}")
def vendor_detail(
    vendor_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    vendor = vendors.get(session, vendor_id=vendor_id)
    return render(
        request,
        "vendor_detail.html",
        vendor=vendor,
        feeds=list(session.execute(queries.feeds(vendor.id).order_by(queries.FEED_SORT["name"]))),
        waiting=_waiting(session, vendor.id),
        late_after=LATE_AFTER,
        now=utcnow(),
        users=list(
            session.scalars(
                select(User).where(User.dropship_provider_id == vendor.id).order_by(User.email)
            )
        ),
        balances=payments.balances(session, vendor_id=vendor.id),
        invoices=list(session.scalars(money_pages.invoices(vendor.id).limit(INVOICES_SHOWN))),
        payments=list(session.execute(money_pages.payments(vendor_id=vendor.id).limit(20))),
        invoices_shown=INVOICES_SHOWN,
    )


def _waiting(session: Session, vendor_id: int) -> list[Any]:
    return list(
        session.execute(
            queries.purchases(vendor_id=vendor_id, status=None, waiting_only=True)
            .order_by(Purchase.created_at)
            .limit(50)
        )
    )


@router.get("/vendors/{vendor_id}/edit")
def edit_vendor(
    vendor_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    vendor = vendors.get(session, vendor_id=vendor_id)
    form = forms.blank_form(DropshipProviderUpdate, values=_values(vendor), skip=HIDDEN)
    return _edit_page(
        request,
        form,
        heading=f"Edit {vendor.name}",
        action=f"/vendors/{vendor.id}/edit",
        back=f"/vendors/{vendor.id}",
    )


@router.post("/vendors/{vendor_id}/edit")
def update_vendor(
    vendor_id: PathId, request: Request, session: DbSession, _: AdminVisitor, posted: CheckedForm
) -> Response:
    vendor = vendors.get(session, vendor_id=vendor_id)
    data, form = forms.parse(DropshipProviderUpdate, posted, skip=HIDDEN)
    if isinstance(data, DropshipProviderUpdate):
        try:
            vendors.update(session, vendor=vendor, data=forms.cleared(data, form))
        except DomainError as exc:
            session.rollback()
            forms.show_refusal(form, exc)
        else:
            return _saved(f"/vendors/{vendor.id}", f"Vendor {vendor.name} saved.")
    return _edit_page(
        request,
        form,
        heading=f"Edit {vendor.name}",
        action=f"/vendors/{vendor.id}/edit",
        back=f"/vendors/{vendor.id}",
    )


def _values(vendor: DropshipProvider) -> dict[str, Any]:
    return {name: getattr(vendor, name, None) for name in DropshipProviderUpdate.model_fields}


def _saved(location: str, message: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    set_flash(response, "ok", message)
    return response
