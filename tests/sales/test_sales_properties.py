"""Racing sales never oversell; any sequence of posts, shipments and cancels stays consistent."""

from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dropwire.channels.models import Channel
from dropwire.core.errors import DomainError
from dropwire.inventory import service as inventory
from dropwire.sales import cancelling, manual, shipping
from dropwire.sales.models import PurchaseItem, Sale, SaleItem
from dropwire.sales.schemas import CancelRequest, ManualSale, ShipRequest
from tests.conftest import empty_all_tables, make_token


def _setup(client, stock: int) -> int:
    channel = client.post("/api/channels.json", json={"name": "S"}).json()
    vendor = client.post("/api/dropship-providers.json", json={"name": "V"}).json()
    feed = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]}
    ).json()
    client.post("/api/variants.json", json={"sku": "HOT", "name": "Hot"})
    client.put(
        f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
        json={"externalId": "hot", "vendorSku": "HOT", "inventoryQuantity": stock},
    )
    return channel["id"]


def sale_body(external_id: str, quantity: int) -> dict:
    return {
        "externalId": external_id,
        "lineItems": [{"externalId": "l1", "quantity": quantity, "variant": {"sku": "HOT"}}],
    }


def test_twenty_sales_racing_for_five_units(client, postgres_only):
    channel_id = _setup(client, 5)

    def buy(n: int) -> dict:
        return client.post(
            f"/api/channels/{channel_id}/manual-sale.json", json=sale_body(f"r{n}", 1)
        ).json()

    with ThreadPoolExecutor(max_workers=10) as pool:
        sales = list(pool.map(buy, range(20)))
    routed = [s for s in sales if s["purchases"]]
    flagged = [s for s in sales if s["dropshipProblems"]]
    assert len(routed) == 5
    assert len(flagged) == 15
    inventory_detail = client.get("/api/variants.json?where[sku]=HOT").json()[0]
    assert inventory_detail["inventoryAllocated"] == 5
    assert inventory_detail["inventoryAvailable"] == 0


operations = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.integers(0, 2), st.integers(1, 4)),
        st.tuples(st.just("ship"), st.integers(0, 2), st.integers(1, 3)),
        st.tuples(st.just("cancel"), st.integers(0, 2), st.integers(1, 3)),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=operations)
def test_quantities_and_ledger_stay_consistent(client, database, ops):
    empty_all_tables(database)
    client.headers["Authorization"] = f"Bearer {make_token(database)}"
    channel_id = _setup(client, 6)
    for kind, sale_index, quantity in ops:
        try:
            with database.transaction() as session:
                channel = session.get(Channel, channel_id)
                sale = session.scalar(select(Sale).where(Sale.external_id == f"s{sale_index}"))
                if kind == "post":
                    manual.upsert_manual_sale(
                        session,
                        channel=channel,
                        data=ManualSale.model_validate(sale_body(f"s{sale_index}", quantity)),
                    )
                elif sale is not None and kind == "ship" and sale.purchases:
                    purchase = sale.purchases[0]
                    item = purchase.items[0]
                    shipping.ship(
                        session,
                        purchase=purchase,
                        request=ShipRequest.model_validate(
                            {"purchaseItems": [{"id": item.id, "quantity": quantity}]}
                        ),
                    )
                elif sale is not None and kind == "cancel":
                    cancelling.cancel(
                        session,
                        sale=sale,
                        request=CancelRequest.model_validate(
                            {"saleItems": [{"id": sale.items[0].id, "quantity": quantity}]}
                        ),
                    )
        except DomainError:
            pass  # refused: must have changed nothing, checked below
    with database.transaction() as session:
        for item in session.scalars(select(SaleItem)):
            assert (
                item.quantity
                == item.quantity_shipped + item.quantity_cancelled + item.quantity_open
            )
            assert item.quantity_open >= 0
            po_items = list(
                session.scalars(select(PurchaseItem).where(PurchaseItem.sale_item_id == item.id))
            )
            assert sum(p.quantity_shipped for p in po_items) == item.quantity_shipped
            routed_open = sum(p.quantity_open for p in po_items)
            assert routed_open <= item.quantity_open
        assert inventory.ledger_mismatches(session) == []
