from collections.abc import Callable

import pytest

from dropwire.catalog.models import InventoryPolicy, Product, Variant
from dropwire.core.db import Database
from dropwire.inventory.locations import location_for_warehouse
from dropwire.inventory.models import Warehouse
from dropwire.inventory.warehouses import ensure_default_warehouse


def new_variant(
    database: Database, sku: str, policy: InventoryPolicy = InventoryPolicy.track
) -> int:
    with database.transaction() as session:
        product = Product(name=sku)
        session.add(product)
        session.flush()
        variant = Variant(
            product_id=product.id, sku=sku, sku_key=sku.lower(), name=sku, inventory_policy=policy
        )
        session.add(variant)
        session.flush()
        return variant.id


def warehouse_location(database: Database, name: str | None = None) -> int:
    with database.transaction() as session:
        if name is None:
            warehouse = ensure_default_warehouse(session)
        else:
            warehouse = Warehouse(name=name)
            session.add(warehouse)
            session.flush()
        return location_for_warehouse(session, warehouse_id=warehouse.id).id


@pytest.fixture
def variant_factory(database: Database) -> Callable[..., int]:
    return lambda sku, policy=InventoryPolicy.track: new_variant(database, sku, policy)


@pytest.fixture
def main_location(database: Database) -> int:
    return warehouse_location(database)
