from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.http.deps import AdminPrincipal, DbSession
from dropwire.http.listing import ListQuery, fields_of, list_query, paginate, respond
from dropwire.http.routing import OneHopRoute
from dropwire.inventory import detail, warehouses
from dropwire.inventory.locations import location_for_warehouse
from dropwire.inventory.models import InventoryMovement, MovementCause, Warehouse
from dropwire.inventory.schemas import (
    InventoryAdjustmentCreate,
    InventoryAdjustmentRead,
    InventoryMovementRead,
    VariantInventoryRead,
    WarehouseCreate,
    WarehouseRead,
    WarehouseUpdate,
)
from dropwire.inventory.service import adjust_stocked

router = APIRouter(route_class=OneHopRoute, tags=["Inventory"])

WAREHOUSE_FILTERS = fields_of(Warehouse, "id", "name", "external_id", "is_default", "country")
MOVEMENT_FILTERS = fields_of(
    InventoryMovement,
    "id",
    "variant_id",
    "location_id",
    "cause",
    "reference_type",
    "reference_id",
    "actor",
    "created_at",
)
Listing = Annotated[ListQuery, Depends(list_query)]


@router.get("/warehouses.json", response_model=list[WarehouseRead])
def list_warehouses(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    rows = paginate(session, select(Warehouse), query, WAREHOUSE_FILTERS, response, [Warehouse.id])
    return respond(session, query, response, rows, WarehouseRead)


@router.post("/warehouses.json", response_model=WarehouseRead, status_code=201)
def create_warehouse(data: WarehouseCreate, session: DbSession, _: AdminPrincipal) -> Warehouse:
    return warehouses.create(session, data)


@router.get("/warehouses/{warehouse_id}.json", response_model=WarehouseRead)
def get_warehouse(warehouse_id: int, session: DbSession, _: AdminPrincipal) -> Warehouse:
    return warehouses.get(session, warehouse_id)


@router.put("/warehouses/{warehouse_id}.json", response_model=WarehouseRead)
def update_warehouse(
    warehouse_id: int, data: WarehouseUpdate, session: DbSession, _: AdminPrincipal
) -> Warehouse:
    return warehouses.update_warehouse(session, warehouses.get(session, warehouse_id), data)


@router.post("/inventory-adjustments.json", response_model=InventoryAdjustmentRead, status_code=201)
def create_inventory_adjustment(
    data: InventoryAdjustmentCreate, session: DbSession, principal: AdminPrincipal
) -> InventoryAdjustmentRead:
    """Change STOCKED at a warehouse (available follows); never available directly."""
    warehouse = (
        warehouses.get_or_invalid(session, data.warehouse_id)
        if data.warehouse_id is not None
        else warehouses.ensure_default_warehouse(session)
    )
    location = location_for_warehouse(session, warehouse.id)
    change = adjust_stocked(
        session,
        variant_id=data.variant_id,
        location_id=location.id,
        delta=data.quantity,
        set_to=data.set_stocked,
        cause=MovementCause.adjustment,
        reason=data.reason,
        actor=principal.name,
    )
    movement = change.movement
    level = next(
        r for r in detail.level_reads(session, data.variant_id) if r.location_id == location.id
    )
    return InventoryAdjustmentRead(
        variant_id=data.variant_id,
        warehouse_id=warehouse.id,
        movement=InventoryMovementRead.model_validate(movement) if movement else None,
        level=level,
    )


@router.get("/inventory-movements.json", response_model=list[InventoryMovementRead])
def list_inventory_movements(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    stmt = select(InventoryMovement)
    rows = paginate(session, stmt, query, MOVEMENT_FILTERS, response, [InventoryMovement.id])
    return respond(session, query, response, rows, InventoryMovementRead)


@router.get("/variants/{variant_id}/inventory.json", response_model=VariantInventoryRead)
def get_variant_inventory(
    variant_id: int, session: DbSession, _: AdminPrincipal
) -> VariantInventoryRead:
    return detail.variant_inventory(session, variant_id)
