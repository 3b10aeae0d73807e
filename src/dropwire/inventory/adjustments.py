"""Stock adjustments at a warehouse, as the API and the channels' set-level ask for them."""

from sqlalchemy.orm import Session

from dropwire.inventory import detail, warehouses
from dropwire.inventory.locations import location_for_warehouse
from dropwire.inventory.models import MovementCause
from dropwire.inventory.schemas import InventoryAdjustmentRead, InventoryMovementRead, SetLevel
from dropwire.inventory.service import adjust_stocked


def adjust_at_warehouse(
    session: Session,
    *,
    variant_id: int,
    warehouse_id: int | None,
    delta: int | None,
    set_to: int | None,
    reason: str | None,
    actor: str,
) -> InventoryAdjustmentRead:
    """Change STOCKED at a warehouse (available follows); never available directly."""
    warehouse = (
        warehouses.get_or_invalid(session, warehouse_id=warehouse_id)
        if warehouse_id is not None
        else warehouses.ensure_default_warehouse(session)
    )
    location = location_for_warehouse(session, warehouse_id=warehouse.id)
    change = adjust_stocked(
        session,
        variant_id=variant_id,
        location_id=location.id,
        delta=delta,
        set_to=set_to,
        cause=MovementCause.adjustment,
        reason=reason,
        actor=actor,
    )
    movement = change.movement
    level = next(
        r
        for r in detail.level_reads(session, variant_id=variant_id)
        if r.location_id == location.id
    )
    return InventoryAdjustmentRead(
        variant_id=variant_id,
        warehouse_id=warehouse.id,
        movement=InventoryMovementRead.model_validate(movement) if movement else None,
        level=level,
    )


def set_level(
    session: Session, *, variant_id: int, data: SetLevel, actor: str
) -> InventoryAdjustmentRead:
    """Onport's set-level, by variant or by a channel's listing: stocked becomes the quantity."""
    return adjust_at_warehouse(
        session,
        variant_id=variant_id,
        warehouse_id=data.warehouse_id,
        delta=None,
        set_to=data.quantity,
        reason=data.notes,
        actor=actor,
    )
