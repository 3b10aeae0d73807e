from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.catalog.service import get_variant
from dropwire.http.deps import AdminPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, listed
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.inventory import detail, warehouses
from dropwire.inventory.adjustments import adjust_at_warehouse, set_level
from dropwire.inventory.models import InventoryMovement, Warehouse
from dropwire.inventory.schemas import (
    InventoryAdjustmentCreate,
    InventoryAdjustmentRead,
    InventoryMovementRead,
    SetLevel,
    VariantInventoryRead,
    WarehouseCreate,
    WarehouseRead,
    WarehouseUpdate,
)

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Inventory"])

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
    return listed(
        session,
        stmt=select(Warehouse),
        query=query,
        fields=WAREHOUSE_FILTERS,
        response=response,
        default_order=[Warehouse.id],
        read=WarehouseRead,
    )


@router.post("/warehouses.json", response_model=WarehouseRead, status_code=201)
def create_warehouse(data: WarehouseCreate, session: DbSession, _: AdminPrincipal) -> Warehouse:
    return warehouses.create(session, data=data)


@router.get("/warehouses/{warehouse_id}.json", response_model=WarehouseRead)
def get_warehouse(warehouse_id: PathId, session: DbSession, _: AdminPrincipal) -> Warehouse:
    return warehouses.get(session, warehouse_id=warehouse_id)


@router.put("/warehouses/{warehouse_id}.json", response_model=WarehouseRead)
def update_warehouse(
    warehouse_id: PathId, data: WarehouseUpdate, session: DbSession, _: AdminPrincipal
) -> Warehouse:
    return warehouses.update_warehouse(
        session, warehouse=warehouses.get(session, warehouse_id=warehouse_id), data=data
    )


@router.post("/inventory-adjustments.json", response_model=InventoryAdjustmentRead, status_code=201)
def create_inventory_adjustment(
    data: InventoryAdjustmentCreate, session: DbSession, principal: AdminPrincipal
) -> InventoryAdjustmentRead:
    """Change STOCKED at a warehouse (available follows); never available directly."""
    return adjust_at_warehouse(
        session,
        variant_id=data.variant_id,
        warehouse_id=data.warehouse_id,
        delta=data.quantity,
        set_to=data.set_stocked,
        reason=data.reason,
        actor=principal.name,
    )


@router.put("/variants/{variant_id}/set-level.json", response_model=InventoryAdjustmentRead)
def set_variant_level(
    variant_id: PathId, data: SetLevel, session: DbSession, principal: AdminPrincipal
) -> InventoryAdjustmentRead:
    """Onport's way to set a variant's stocked units at a warehouse."""
    get_variant(session, variant_id=variant_id)
    return set_level(session, variant_id=variant_id, data=data, actor=principal.name)


@router.get("/inventory-movements.json", response_model=list[InventoryMovementRead])
def list_inventory_movements(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    stmt = select(InventoryMovement)
    return listed(
        session,
        stmt=stmt,
        query=query,
        fields=MOVEMENT_FILTERS,
        response=response,
        default_order=[InventoryMovement.id],
        read=InventoryMovementRead,
    )


@router.get("/variants/{variant_id}/inventory.json", response_model=VariantInventoryRead)
def get_variant_inventory(
    variant_id: PathId, session: DbSession, _: AdminPrincipal
) -> VariantInventoryRead:
    return detail.variant_inventory(session, variant_id=variant_id)
