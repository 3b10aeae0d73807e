"""Locations: one per warehouse and one per inventory feed, created on first use."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.errors import NotFound
from dropwire.core.inserts import insert_ignoring_conflict
from dropwire.inventory.models import Location, LocationKind, Warehouse


def location_for_warehouse(session: Session, *, warehouse_id: int) -> Location:
    existing = session.scalar(select(Location).where(Location.warehouse_id == warehouse_id))
    if existing is not None:
        return existing
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound("Warehouse", warehouse_id)
    insert_ignoring_conflict(
        session,
        model=Location,
        values={
            "kind": LocationKind.warehouse,
            "warehouse_id": warehouse_id,
            "name": warehouse.name,
        },
        conflict_columns=["warehouse_id"],
    )
    return session.scalars(select(Location).where(Location.warehouse_id == warehouse_id)).one()


def location_for_feed(session: Session, *, inventory_feed_id: int, name: str = "") -> Location:
    existing = session.scalar(
        select(Location).where(Location.inventory_feed_id == inventory_feed_id)
    )
    if existing is not None:
        return existing
    insert_ignoring_conflict(
        session,
        model=Location,
        values={
            "kind": LocationKind.feed,
            "inventory_feed_id": inventory_feed_id,
            "name": name or f"Inventory feed {inventory_feed_id}",
        },
        conflict_columns=["inventory_feed_id"],
    )
    return session.scalars(
        select(Location).where(Location.inventory_feed_id == inventory_feed_id)
    ).one()


def get_location(session: Session, *, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound("Location", location_id)
    return location
