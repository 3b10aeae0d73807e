"""The merchant's variant forms: add a variant (to a product, or as a new product named after
it) and edit one, with the API's variant schemas and the catalog service the API calls."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dropwire.catalog.models import Variant
from dropwire.catalog.schemas import VariantCreate, VariantUpdate
from dropwire.catalog.service import create_variant, get_variant, update_variant
from dropwire.core.errors import DomainError
from dropwire.http.deps import DbSession, PathId
from dropwire.web import forms
from dropwire.web.pages import AdminVisitor, CheckedForm, WebRoute, render, set_flash

router = APIRouter(route_class=WebRoute)

PRODUCT_HELP = "The product (listing) it belongs to, by id; empty: a new product of its name"


def _page(
    request: Request, form: forms.Form, *, heading: str, action: str, back: str
) -> HTMLResponse:
    product = form.field("productId")
    if product is not None:
        product.help = PRODUCT_HELP
    response = render(
        request,
        "edit.html",
        form=form,
        heading=heading,
        action=action,
        back=back,
        crumb="Inventory",
        submit="Save",
    )
    if form.has_errors:
        response.status_code = 422
    return response


@router.get("/inventory/new")
def new_variant(request: Request, _: AdminVisitor) -> HTMLResponse:
    product = request.query_params.get("product", "")
    form = forms.blank_form(
        VariantCreate, values=forms.column_defaults(Variant) | {"product_id": product}
    )
    return _page(request, form, heading="Add a variant", action="/inventory/new", back="/inventory")


@router.post("/inventory/new")
def create_variant_page(
    request: Request, session: DbSession, _: AdminVisitor, posted: CheckedForm
) -> Response:
    data, form = forms.parse(VariantCreate, posted)
    if isinstance(data, VariantCreate):
        try:
            variant = create_variant(session, data=data)
        except DomainError as exc:
            session.rollback()
            forms.show_refusal(form, exc)
        else:
            return _saved(f"/inventory/{variant.id}", f"Variant {variant.sku} added.")
    return _page(request, form, heading="Add a variant", action="/inventory/new", back="/inventory")


def _values(variant: Variant) -> dict[str, Any]:
    return {name: getattr(variant, name, None) for name in VariantUpdate.model_fields}


@router.get("/inventory/{variant_id}/edit")
def edit_variant(
    variant_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    variant = get_variant(session, variant_id=variant_id)
    form = forms.blank_form(VariantUpdate, values=_values(variant))
    return _page(
        request,
        form,
        heading=f"Edit {variant.sku}",
        action=f"/inventory/{variant.id}/edit",
        back=f"/inventory/{variant.id}",
    )


@router.post("/inventory/{variant_id}/edit")
def update_variant_page(
    variant_id: PathId, request: Request, session: DbSession, _: AdminVisitor, posted: CheckedForm
) -> Response:
    variant = get_variant(session, variant_id=variant_id)
    heading = f"Edit {variant.sku}"
    data, form = forms.parse(VariantUpdate, posted)
    if isinstance(data, VariantUpdate):
        try:
            update_variant(session, variant=variant, data=forms.cleared(data, form))
        except DomainError as exc:
            session.rollback()
            forms.show_refusal(form, exc)
        else:
            return _saved(f"/inventory/{variant_id}", f"Variant {variant.sku} saved.")
    return _page(
        request,
        form,
        heading=heading,
        action=f"/inventory/{variant_id}/edit",
        back=f"/inventory/{variant_id}",
    )


def _saved(location: str, message: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    set_flash(response, "ok", message)
    return response
