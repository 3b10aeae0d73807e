"""What a merchant and a vendor meet in daily use: the figures agree with the lists they link to,
statuses read as words, lists start A→Z, a phone shows every page without sideways scrolling."""

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dropwire.core.db import Database
from dropwire.delivery.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    EndpointOwner,
    WebhookEndpoint,
)
from dropwire.sales.models import Purchase, SaleItem
from dropwire.vendors.models import DropshipProvider
from tests.web.conftest import ADMIN, VENDOR, Demo, shot, sign_in

NewPage = Callable[..., Page]
PHONE = {"width": 390, "height": 844}


def _waiting_on_list(page: Page, href: str) -> int:
    page.goto(href)
    return page.locator(
        "table tbody tr[data-purchase], table tbody tr:has(a[href^='/purchases/'])"
    ).count()


def test_overview_waiting_count_matches_the_lists_it_links_to(
    new_page: NewPage, demo: Demo
) -> None:
    page = new_page()
    sign_in(page, ADMIN)
    tile = int(page.locator("a.tile[href='/purchases?waiting=1'] strong").inner_text())
    links = [
        (a.get_attribute("href"), int(a.locator("xpath=../../td[2]").inner_text()))
        for a in page.locator("section:has(h2:text('Purchase orders waiting')) td a").all()
    ]
    assert sum(count for _, count in links) == tile
    assert any("in-house" in (href or "") for href, _ in links)  # the demo's own warehouse
    for href, count in links:
        assert _waiting_on_list(page, href or "") == count, href
    assert _waiting_on_list(page, "/purchases?waiting=1") == tile


def test_sales_today_leave_out_cancelled_units(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    with database.transaction() as session:
        items = session.scalars(select(SaleItem)).all()
        expected_value = sum(
            (i.price or Decimal(0)) * (i.quantity - i.quantity_cancelled)
            for i in items
            if i.sale_id != demo.sale_ids[2]  # wholly cancelled by the customer
        )
    page = new_page()
    sign_in(page, ADMIN)
    expect(page.get_by_test_id("sales-today")).to_have_text("2")
    expect(page.get_by_test_id("value-today")).to_have_text(f"{expected_value:,.2f}")


def test_statuses_read_as_words_and_names_sort_a_to_z(new_page: NewPage, demo: Demo) -> None:
    page = new_page()
    sign_in(page, ADMIN, path="/purchases")
    badges = page.locator("table tbody .badge").all_inner_texts()
    assert badges and not any(b in ("notReceived", "partiallyReceived", "none") for b in badges)
    assert "Not shipped" in badges
    page.goto("/vendors")
    names = page.locator("table tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names, key=str.lower)


def test_a_vendor_opening_the_front_door_lands_in_its_portal_and_sees_the_ship_to(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    page = new_page()
    sign_in(page, VENDOR)
    page.goto("/")
    assert page.url.endswith("/vendor")
    page.goto(f"/vendor/purchases/{demo.baltic_purchase_id}")
    ship_to = page.get_by_test_id("ship-to")
    expect(ship_to).to_contain_text("Luc Tremblay")
    expect(ship_to).to_contain_text("4417 Rue Saint-Denis")
    expect(ship_to).to_contain_text("H2J 2L2 Montréal")


def test_deliveries_count_every_attempt_name_the_order_and_show_a_detail(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    with database.transaction() as session:
        purchase = session.get(Purchase, demo.baltic_purchase_id)
        assert purchase is not None
        endpoint = WebhookEndpoint(
            owner_type=EndpointOwner.vendor,
            owner_id=demo.baltic_id,
            url="http://127.0.0.1:9/orders",
            secret="s" * 32,
        )
        session.add(endpoint)
        session.flush()
        delivery = Delivery(
            event="purchase.created",
            endpoint_id=endpoint.id,
            url=endpoint.url,
            subject_type="purchase",
            subject_id=purchase.id,
            body={"purchase": {"externalReference": purchase.external_reference}},
            state=DeliveryState.dead,
            attempts=1,  # counted from zero again by the retry before the last attempt
        )
        session.add(delivery)
        session.flush()
        for status in (500, 503):
            session.add(
                DeliveryAttempt(delivery_id=delivery.id, http_status=status, latency_ms=12.0)
            )
        delivery_id, reference = delivery.id, purchase.external_reference
    page = new_page()
    sign_in(page, ADMIN, path="/deliveries")
    row = page.locator(f"tr[data-delivery='{delivery_id}']")
    expect(row.get_by_test_id("attempts")).to_have_text("2")
    expect(row.get_by_test_id("next-attempt")).to_have_text("—")
    expect(row.get_by_test_id("subject")).to_have_text(f"purchase order {reference}")
    row.get_by_role("link", name=f"#{delivery_id}").click()
    expect(page.locator("h1")).to_contain_text(f"Delivery #{delivery_id}")
    expect(page.locator("#attempts tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("body")).to_contain_text(reference)
    page.click("text=Retry")
    expect(page.locator(".flash-ok")).to_contain_text(f"Delivery #{delivery_id}")


def _admin_pages(database: Database, demo: Demo) -> list[str]:
    with database.transaction() as session:
        vendor_id = session.scalar(select(DropshipProvider.id))
    return [
        "/",
        "/inventory",
        f"/inventory/{demo.variant_ids[0]}",
        "/sales",
        f"/sales/{demo.sale_ids[1]}",
        "/purchases",
        f"/purchases/{demo.baltic_purchase_id}",
        "/vendors",
        "/feeds",
        "/feeds/1",
        "/feeds/1/runs",
        "/channels",
        "/api-logs",
        "/deliveries",
        "/jobs",
        # the create and edit forms
        "/vendors/new",
        "/feeds/new",
        "/feeds/1/edit",
        "/channels/new?parent=elasticPath",
        "/channels/new?parent=custom",
        "/channels/1/edit",
        "/inventory/new",
        f"/inventory/{demo.variant_ids[0]}/edit",
        "/products/new",
        f"/products/1/edit?variant={demo.variant_ids[0]}",
        "/mail",
        "/feeds/1/items/1/connect",
        "/users",
        "/tokens",
    ] + ([f"/vendors/{vendor_id}"] if vendor_id else [])


def _overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_no_page_scrolls_sideways_on_a_phone(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    admin = new_page(**PHONE)
    sign_in(admin, ADMIN)
    too_wide = {}
    for path in _admin_pages(database, demo):
        response = admin.goto(path)
        if response is not None and response.status == 404 and path.startswith("/vendors/"):
            continue  # the vendor page arrives with the vendor forms
        assert response is not None and response.status == 200, path
        if (extra := _overflow(admin)) > 0:
            too_wide[path] = extra
    vendor = new_page(**PHONE)
    sign_in(vendor, VENDOR)
    for path in [
        "/vendor",
        f"/vendor/purchases/{demo.baltic_purchase_id}",
        "/vendor/feeds",
        "/vendor/tokens",
    ]:
        vendor.goto(path)
        if (extra := _overflow(vendor)) > 0:
            too_wide[path] = extra
    assert too_wide == {}
    admin.goto(f"/inventory/{demo.variant_ids[0]}")
    shot(admin, "phone-variant-detail")


def test_the_sale_page_shows_the_customer_the_money_and_what_happened(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    with database.transaction() as session:
        sale_id = demo.sale_ids[1]  # Luc Tremblay: a stove shipped in part, a duvet cover
        nameless = session.scalars(
            select(SaleItem).where(SaleItem.sale_id == sale_id, SaleItem.sku == "BL-DUVET-KING")
        ).one()
        nameless.name = None  # stores often send no name: the variant's is shown
    page = new_page()
    sign_in(page, ADMIN, path=f"/sales/{sale_id}")
    expect(page.locator("#customer")).to_contain_text("Luc Tremblay")
    expect(page.locator("#customer")).to_contain_text("luc.tremblay@example.com")
    expect(page.locator("#ship-to")).to_contain_text("4417 Rue Saint-Denis")
    expect(page.locator("#bill-to")).to_contain_text("H2J 2L2 Montréal")
    line = page.locator(f"tr[data-line='{nameless.id}']")
    expect(line.get_by_test_id("line-name")).to_have_text("Linen Duvet Cover (BL-DUVET-KING)")
    expect(line).to_contain_text("139.00")
    # 2 * 89.50 + 1 * 139.00 ordered, 24.00 express shipping
    expect(page.get_by_test_id("ordered-total")).to_have_text("318.00")
    expect(page.get_by_test_id("total")).to_have_text("342.00")
    timeline = page.locator("#timeline li")
    expect(timeline.first).to_contain_text("Received")
    expect(page.locator("#timeline")).to_contain_text("routed to Baltic Linen Co.")
    expect(page.locator("#timeline")).to_contain_text("Shipped 10002-01-01")
    shot(page, "sale-detail")


def test_an_admin_ships_an_in_house_order_and_records_a_return_with_restock(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    with database.transaction() as session:
        purchase = session.scalars(
            select(Purchase).where(
                Purchase.sale_id == demo.sale_ids[0], Purchase.dropship_provider_id.is_(None)
            )
        ).first()
        assert purchase is not None  # the tent and the mugs ship from the merchant's warehouse
        purchase_id, reference = purchase.id, purchase.external_reference
        open_lines = {i.id: i.quantity_open for i in purchase.items}
    page = new_page()
    sign_in(page, ADMIN, path=f"/purchases/{purchase_id}")
    page.fill("#ship input[name=carrier]", "DHL")
    page.fill("#ship input[name=tracking_number]", "JD0146000012345")
    page.click("#ship button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text(f"Shipment {reference}-01 recorded")
    expect(page.locator("p .badge").first).to_have_text("Shipped")
    with database.transaction() as session:
        shipped = session.get(Purchase, purchase_id)
        assert shipped is not None
        assert {i.id: i.quantity_shipped for i in shipped.items} == open_lines
        mug = next(i for i in shipped.sale.items if i.sku == "KK-MUG-SAGE")
        mug_id = mug.id

    page.goto(f"/sales/{demo.sale_ids[0]}")
    page.fill(f"#return-{mug_id}", "1")
    page.fill("#record-return input[name=reason]", "chipped handle")
    page.check("#record-return input[name=restock]")
    page.click("#record-return button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text("Return ")
    expect(page.locator("#returns tbody tr").first).to_contain_text("KK-MUG-SAGE: 1 returned")
    expect(page.locator("#returns tbody tr").first).to_contain_text("1 unit(s)")  # restocked
    expect(page.locator(f"tr[data-line='{mug_id}']").get_by_test_id("returned")).to_have_text("1")
    expect(page.locator("#timeline")).to_contain_text("chipped handle")


def test_the_demo_brings_a_pull_feed_served_by_dropwire_itself(
    database: Database, live_server: str, configure: Callable[..., object]
) -> None:
    from dropwire.demo import load_demo
    from dropwire.feeds.models import InventoryFeed, InventoryFeedRun, RunStatus
    from dropwire.feeds.pull.tasks import run_queued_feeds

    configure(allow_private_targets="true")
    with database.transaction() as session:
        load_demo(session, base_url=live_server)
    assert run_queued_feeds(database) == 1
    with database.transaction() as session:
        feed = session.scalars(
            select(InventoryFeed).where(InventoryFeed.name == "Kettle & Kiln stock file")
        ).one()
        run = session.scalars(
            select(InventoryFeedRun).where(InventoryFeedRun.inventory_feed_id == feed.id)
        ).one()
        assert (run.status, run.rows_read, run.rows_failed) == (RunStatus.partial, 4, 1)
        assert "lots" in str(run.errors)


def test_add_a_vendor_with_errors_shown_by_their_fields_then_edit_it(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    page = new_page()
    sign_in(page, ADMIN, path="/vendors")
    page.click("text=Add a vendor")
    page.fill("#f-name", "Fjord Ceramics")
    page.fill("#f-orderEndpoint", "not a web address")
    page.fill("#f-countries", "NO, SE, XYZ")
    page.click("form.edit-form button[type=submit]")
    expect(page.get_by_test_id("error-orderEndpoint")).to_be_visible()
    expect(page.get_by_test_id("error-countries")).to_be_visible()
    expect(page.locator("#f-name")).to_have_value("Fjord Ceramics")  # what was typed stays
    page.fill("#f-orderEndpoint", "https://fjord.example/orders")
    page.fill("#f-countries", "no, se")
    page.fill("#f-priority", "5")
    page.select_option("#f-countryFilter", "include")
    page.click("form.edit-form button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text("Vendor Fjord Ceramics added")
    expect(page.locator("h1")).to_contain_text("Fjord Ceramics")
    expect(page.locator("#vendor-settings")).to_contain_text("Include: NO, SE")
    with database.transaction() as session:
        vendor = session.scalars(
            select(DropshipProvider).where(DropshipProvider.name == "Fjord Ceramics")
        ).one()
        assert (vendor.priority, vendor.countries) == (5, ["NO", "SE"])
        assert vendor.order_endpoint == "https://fjord.example/orders"

    page.click("text=Edit")
    expect(page.locator("#f-countries")).to_have_value("NO, SE")
    page.fill("#f-countries", "")
    page.fill("#f-orderEndpoint", "")
    page.click("form.edit-form button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text("saved")
    with database.transaction() as session:
        vendor = session.get(DropshipProvider, vendor.id)
        assert vendor is not None
        assert (vendor.countries, vendor.order_endpoint, vendor.priority) == ([], None, 5)


def test_a_vendor_page_shows_its_feeds_people_and_late_orders(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    from datetime import timedelta

    from dropwire.core.time import utcnow

    with database.transaction() as session:
        purchase = session.get(Purchase, demo.baltic_purchase_id)
        assert purchase is not None
        purchase.created_at = utcnow() - timedelta(days=3)
        reference = purchase.external_reference
    page = new_page()
    sign_in(page, ADMIN, path="/vendors")
    page.get_by_role("link", name="Baltic Linen Co.").click()
    expect(page.locator("#vendor-users")).to_contain_text(VENDOR)
    expect(page.locator("#vendor-feeds tbody tr")).to_have_count(1)
    late = page.locator("#vendor-waiting tr[data-late]")
    expect(late).to_have_count(1)
    expect(late).to_contain_text(reference)
    shot(page, "vendor-detail")


class _StockFile(BaseHTTPRequestHandler):
    body = b"SKU,Stock,Cost\nFJ-BOWL,12,8.50\nFJ-PLATE,not counted,6.00\nFJ-CUP,40,4.25\n"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


@pytest.fixture
def stock_file(configure: Callable[..., object]) -> Iterator[str]:
    configure(allow_private_targets="true")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StockFile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stock.csv"
    server.shutdown()
    server.server_close()


def test_add_a_pull_feed_test_fetch_its_mapping_then_save_and_run_it(
    new_page: NewPage, demo: Demo, database: Database, stock_file: str
) -> None:
    from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
    from dropwire.feeds.pull.tasks import run_queued_feeds

    page = new_page()
    sign_in(page, ADMIN, path=f"/vendors/{demo.baltic_id}")
    page.click("text=Add a feed")
    page.fill("#f-name", "Baltic stock file")
    page.select_option("#f-resourceType", "csv")
    page.fill("#f-resourceLocation", stock_file)
    page.select_option("#f-fetchFrequency", "daily")
    page.click("#test-fetch")
    # no mapping yet: the file's own column names are not the feed-variant names
    expect(page.get_by_test_id("preview-problem")).to_contain_text("no column for vendorSku")
    page.fill(
        "#f-mapping",
        '{"fields": {"vendorSku": "SKU", "inventoryQuantity": "Stock", "costPrice": "Cost"}}',
    )
    page.click("#test-fetch")
    rows = page.locator("#preview-rows tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("FJ-BOWL")
    expect(rows.nth(0)).to_contain_text("12")
    expect(rows.nth(1)).to_have_class("row-error")  # "not counted" is no quantity
    expect(rows.nth(2)).to_contain_text("4.25")
    with database.transaction() as session:  # a test fetch stores nothing
        assert (
            session.scalar(
                select(InventoryFeed.id).where(InventoryFeed.name == "Baltic stock file")
            )
            is None
        )
    page.click("form.edit-form button[type=submit]:not([name])")
    expect(page.locator(".flash-ok")).to_contain_text("Feed Baltic stock file added")
    page.click("#run-now button")
    assert run_queued_feeds(database) == 1
    page.reload()  # Run now leads to the run's page
    expect(page.get_by_test_id("run-status")).to_have_text("Partial")
    page.locator(".crumbs a", has_text="Baltic stock file").click()
    expect(page.locator("table tbody tr:has-text('FJ-BOWL')")).to_have_count(1)
    with database.transaction() as session:
        feed = session.scalars(
            select(InventoryFeed).where(InventoryFeed.name == "Baltic stock file")
        ).one()
        skus = set(
            session.scalars(
                select(InventoryFeedVariant.vendor_sku).where(
                    InventoryFeedVariant.inventory_feed_id == feed.id
                )
            )
        )
        assert skus == {"FJ-BOWL", "FJ-CUP"}
