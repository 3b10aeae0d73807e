from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.http.deps import AdminPrincipal, DbSession
from dropwire.http.listing import ListQuery, fields_of, list_query, paginate
from dropwire.inventory import warehouses
from dropwire.inventory.models import Warehouse
from dropwire.inventory.schemas import WarehouseCreate, WarehouseRead, WarehouseUpdate

router = APIRouter(tags=["Inventory"])

WAREHOUSE_FILTERS = fields_of(Warehouse, "id", "name", "external_id", "is_default", "country")


@router.get("/warehouses.json", response_model=list[WarehouseRead])
def list_warehouses(
    session: DbSession,
    _: AdminPrincipal,
    response: Response,
    query: Annotated[ListQuery, Depends(list_query)],
) -> list[Warehouse]:
    return paginate(session, select(Warehouse), query, WAREHOUSE_FILTERS, response, [Warehouse.id])


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
