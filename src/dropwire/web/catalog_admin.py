"""The merchant's catalog forms: add a variant (to a product, or as a new product named after
it) and edit one, with the API's variant schemas and the catalog service the API calls; add a
product (then its first variant) and edit what its listing says (name, handle, type,
description), with the catalog's product schemas and service."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dropwire.catalog.models import Product, Variant
from dropwire.catalog.schemas import ProductCreate, ProductUpdate, VariantCreate, VariantUpdate
from dropwire.catalog.service import (
    create_product,
    create_variant,
    get_product,
    get_variant,
    update_product,
    update_variant,
)
from dropwire.http.deps import DbSession, PathId
from dropwire.web import forms
from dropwire.web.listings import int_param
from dropwire.web.pages import AdminVisitor, CheckedForm, WebRoute, set_flash

router = APIRouter(route_class=WebRoute)

PRODUCT_HELP = "The product (listing) it belongs to, by id; empty: a new product of its name"


def _page(
    request: Request,
    form: forms.Form,
    *,
    heading: str,
    action: str,
    back: str,
    crumb: str = "Inventory",
) -> HTMLResponse:
    product = form.field("productId")
    if product is not None:
        product.help = PRODUCT_HELP
    return forms.edit_page(request, form, heading=heading, action=action, back=back, crumb=crumb)


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
    variant, form = forms.submit(
        session,
        schema=VariantCreate,
        posted=posted,
        save=lambda data, _form: create_variant(session, data=data),
    )
    if variant is not None:
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
    saved, form = forms.submit(
        session,
        schema=VariantUpdate,
        posted=posted,
        save=lambda data, form: update_variant(
            session, variant=variant, data=forms.cleared(data, form)
        ),
    )
    if saved is not None:
        return _saved(f"/inventory/{variant_id}", f"Variant {saved.sku} saved.")
    return _page(
        request,
        form,
        heading=heading,
        action=f"/inventory/{variant_id}/edit",
        back=f"/inventory/{variant_id}",
    )


# --- products ----------------------------------------------------------------------------


@router.get("/products/new")
def new_product(request: Request, _: AdminVisitor) -> HTMLResponse:
    form = forms.blank_form(ProductCreate)
    return _page(request, form, heading="Add a product", action="/products/new", back="/inventory")


@router.post("/products/new")
def create_product_page(
    request: Request, session: DbSession, _: AdminVisitor, posted: CheckedForm
) -> Response:
    """A product, then the form of its first variant."""
    product, form = forms.submit(
        session,
        schema=ProductCreate,
        posted=posted,
        save=lambda data, _form: create_product(session, data=data),
    )
    if product is not None:
        return _saved(
            f"/inventory/new?product={product.id}",
            f"Product {product.name} added: now add its first variant.",
        )
    return _page(request, form, heading="Add a product", action="/products/new", back="/inventory")


def _product_back(request: Request, product: Product) -> tuple[str, str]:
    """Where the edit came from and returns to: the variant page it was opened from (one of
    the product's, `?variant=`), else the inventory; and the form's own address."""
    variant_id = int_param(request.query_params, "variant")
    mine = {variant.id for variant in product.variants}
    back = f"/inventory/{variant_id}" if variant_id in mine else "/inventory"
    action = f"/products/{product.id}/edit"
    return back, f"{action}?variant={variant_id}" if variant_id in mine else action


@router.get("/products/{product_id}/edit")
def edit_product(
    product_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    product = get_product(session, product_id=product_id)
    values = {name: getattr(product, name) for name in ProductUpdate.model_fields}
    back, action = _product_back(request, product)
    form = forms.blank_form(ProductUpdate, values=values)
    return _page(request, form, heading=f"Edit product {product.name}", action=action, back=back)


@router.post("/products/{product_id}/edit")
def update_product_page(
    product_id: PathId, request: Request, session: DbSession, _: AdminVisitor, posted: CheckedForm
) -> Response:
    product = get_product(session, product_id=product_id)
    heading = f"Edit product {product.name}"
    back, action = _product_back(request, product)
    saved, form = forms.submit(
        session,
        schema=ProductUpdate,
        posted=posted,
        save=lambda data, form: update_product(
            session, product=product, data=forms.cleared(data, form)
        ),
    )
    if saved is not None:
        return _saved(back, f"Product {saved.name} saved.")
    return _page(request, form, heading=heading, action=action, back=back)


def _saved(location: str, message: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    set_flash(response, "ok", message)
    return response
