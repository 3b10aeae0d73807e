"""Warehouses: in-house locations, one of which is always the default."""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.core.errors import NotFound, UnknownReference
from dropwire.inventory.errors import DefaultWarehouseRequired, WarehouseExternalIdTaken
from dropwire.inventory.models import Warehouse
from dropwire.inventory.schemas import WarehouseCreate, WarehouseUpdate

DEFAULT_WAREHOUSE_NAME = "Main warehouse"


def ensure_default_warehouse(session: Session) -> Warehouse:
    """The default warehouse, created on first need so a new installation has one."""
    warehouse = session.scalar(select(Warehouse).where(Warehouse.is_default.is_(True)))
    if warehouse is None:
        warehouse = Warehouse(name=DEFAULT_WAREHOUSE_NAME, is_default=True)
        session.add(warehouse)
        session.flush()
    return warehouse


def get(session: Session, *, warehouse_id: int) -> Warehouse:
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound("Warehouse", warehouse_id)
    return warehouse


def _make_default(session: Session, warehouse: Warehouse) -> None:
    session.execute(update(Warehouse).where(Warehouse.id != warehouse.id).values(is_default=False))
    session.flush()
    warehouse.is_default = True


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise WarehouseExternalIdTaken("externalId is already used by another warehouse") from exc


def create(session: Session, *, data: WarehouseCreate) -> Warehouse:
    fields: dict[str, Any] = data.model_dump(exclude_none=True, exclude={"is_default"})
    warehouse = Warehouse(**fields)
    session.add(warehouse)
    _flush(session)
    if data.is_default:
        _make_default(session, warehouse)
        _flush(session)
    return warehouse


def update_warehouse(session: Session, *, warehouse: Warehouse, data: WarehouseUpdate) -> Warehouse:
    changes: dict[str, Any] = data.changes()
    wants_default = changes.pop("is_default", None)
    if wants_default is False and warehouse.is_default:
        raise DefaultWarehouseRequired("isDefault", "make another warehouse the default instead")
    for name, value in changes.items():
        if name == "name" and value is None:
            continue
        setattr(warehouse, name, value)
    _flush(session)
    if wants_default:
        _make_default(session, warehouse)
        _flush(session)
    return warehouse


def get_or_invalid(session: Session, *, warehouse_id: int) -> Warehouse:
    """A warehouse named in a request body: a missing one is the body's fault (422), not a 404."""
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise UnknownReference("warehouseId", f"warehouse {warehouse_id} does not exist")
    return warehouse
