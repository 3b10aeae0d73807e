"""Dropship providers (vendors): the partial-create with defaults, updates, removal."""

from typing import Any

from sqlalchemy import ColumnElement, Select, column, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.auth.scope import one_visible, visible_to
from dropwire.auth.service import Principal
from dropwire.core.errors import UnknownReference
from dropwire.customfields.models import CustomFieldDropshipProvider
from dropwire.vendors.errors import VendorExternalIdTaken, VendorInUse
from dropwire.vendors.models import DropshipProvider
from dropwire.vendors.schemas import DropshipProviderCreate, DropshipProviderUpdate


def _ensure_external_id_free(session: Session, external_id: str | None, own_id: int | None) -> None:
    if external_id is None:
        return
    other = session.scalar(
        select(DropshipProvider.id).where(DropshipProvider.external_id == external_id)
    )
    if other is not None and other != own_id:
        raise VendorExternalIdTaken(f"externalId '{external_id}' is already taken")


# Payment methods belong to payments/, which sits above vendors: named here by table only.
_PAYMENT_METHODS = table("payment_methods", column("id"))


def _check_payment_method(session: Session, method_id: int | None) -> None:
    if (
        method_id is not None
        and session.scalar(select(_PAYMENT_METHODS.c.id).where(_PAYMENT_METHODS.c.id == method_id))
        is None
    ):
        raise UnknownReference("paymentMethodId", f"payment method {method_id} does not exist")


def create(session: Session, *, data: DropshipProviderCreate) -> DropshipProvider:
    _ensure_external_id_free(session, data.external_id, None)
    _check_payment_method(session, data.payment_method_id)
    vendor = DropshipProvider(**data.model_dump(exclude_none=True))
    session.add(vendor)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create took the externalId first
        raise VendorExternalIdTaken("externalId is already taken") from exc
    return vendor


def vendors_visible(principal: Principal | None) -> Select[DropshipProvider]:
    """A vendor-scoped caller only ever finds its own vendor."""
    return visible_to(select(DropshipProvider), principal, DropshipProvider.id)


def vendor_itself(vendor_id: int) -> ColumnElement[bool]:
    """What a vendor token sees of vendors another record includes: itself."""
    return DropshipProvider.id == vendor_id


def vendor_custom_fields(vendor_id: int) -> ColumnElement[bool]:
    """A vendor token sees its own custom-field values."""
    return CustomFieldDropshipProvider.dropship_provider_id == vendor_id


def get(
    session: Session, *, vendor_id: int, principal: Principal | None = None
) -> DropshipProvider:
    statement = vendors_visible(principal).where(DropshipProvider.id == vendor_id)
    return one_visible(session, statement=statement, what="Dropship provider", record_id=vendor_id)


def get_by_external_id(session: Session, *, external_id: str) -> DropshipProvider | None:
    return session.scalar(
        select(DropshipProvider).where(DropshipProvider.external_id == external_id)
    )


REQUIRED = frozenset(
    {
        "name",
        "status",
        "priority",
        "country_filter",
        "order_splitting",
        "commission_method",
        "commission_rate",
        "commission_rate_type",
        "commission_rate_base",
        "commission_rate_shipping",
        "commission_rate_discount_split",
        "apply_return_penalty",
        "payment_trigger",
        "payment_schedule",
        "payment_delay_days",
    }
)


def update(
    session: Session, *, vendor: DropshipProvider, data: DropshipProviderUpdate
) -> DropshipProvider:
    changes: dict[str, Any] = data.changes()
    if "external_id" in changes:
        _ensure_external_id_free(session, changes["external_id"], vendor.id)
    _check_payment_method(session, changes.get("payment_method_id"))
    for name, value in changes.items():
        if value is None and name in REQUIRED:
            continue  # required columns: null means "leave as is"
        empty_list = name in ("countries", "notification_emails") and value is None
        setattr(vendor, name, [] if empty_list else value)
    session.flush()
    return vendor


def delete(session: Session, *, vendor: DropshipProvider) -> None:
    session.delete(vendor)
    try:
        session.flush()
    except IntegrityError as exc:
        raise VendorInUse(
            "This vendor still has records (feeds or purchase orders) that use it"
        ) from exc
