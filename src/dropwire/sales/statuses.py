"""Purchase statuses: merchant-defined labels a vendor puts on its purchase orders.

A new installation starts with Onport's usual three (the migration seeds them); an admin may
rename, add or remove them. Removing one clears it from the purchase orders that carried it.
"""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.core.errors import NotFound, UnknownReference
from dropwire.sales.errors import PurchaseStatusNameTaken
from dropwire.sales.models import PurchaseStatus, PurchaseStatusLevel
from dropwire.sales.schemas import PurchaseStatusCreate, PurchaseStatusUpdate

DEFAULTS = (
    ("Unacknowledged", PurchaseStatusLevel.warning),
    ("Acknowledged", PurchaseStatusLevel.default),
    ("Rejected", PurchaseStatusLevel.danger),
)


def seed_defaults(session: Session) -> None:
    """The default statuses, when there are none at all (the migration's seed, for tests)."""
    if session.scalar(select(func.count()).select_from(PurchaseStatus)):
        return
    for position, (name, level) in enumerate(DEFAULTS):
        session.add(PurchaseStatus(name=name, level=level, position=position))
    session.flush()


def get(session: Session, *, status_id: int) -> PurchaseStatus:
    status = session.get(PurchaseStatus, status_id)
    if status is None:
        raise NotFound("Purchase status", status_id)
    return status


def check_exists(session: Session, *, status_id: int | None) -> None:
    """A status named in a request body: a missing one is the body's fault (422)."""
    if status_id is not None and session.get(PurchaseStatus, status_id) is None:
        raise UnknownReference("purchaseStatusId", f"purchase status {status_id} does not exist")


def by_name(session: Session, *, name: str, field: str) -> PurchaseStatus:
    """The status called `name` (any case), else a 422 naming `field`."""
    found = session.scalar(
        select(PurchaseStatus).where(func.lower(PurchaseStatus.name) == name.strip().lower())
    )
    if found is None:
        raise UnknownReference(field, f"no purchase status is called '{name}'")
    return found


def _flush(session: Session, name: str | None) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise PurchaseStatusNameTaken(f"a purchase status named '{name}' exists", "name") from exc


def create(session: Session, *, data: PurchaseStatusCreate) -> PurchaseStatus:
    status = PurchaseStatus(**data.model_dump(exclude_none=True))
    session.add(status)
    _flush(session, data.name)
    return status


def update(
    session: Session, *, status: PurchaseStatus, data: PurchaseStatusUpdate
) -> PurchaseStatus:
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is not None:  # every column is required: null leaves it as is
            setattr(status, name, value)
    _flush(session, status.name)
    return status


def delete(session: Session, *, status: PurchaseStatus) -> None:
    session.delete(status)
    session.flush()
