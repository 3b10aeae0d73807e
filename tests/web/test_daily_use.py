"""What a merchant and a vendor meet in daily use: the figures agree with the lists they link to,
statuses read as words, lists start A→Z, a phone shows every page without sideways scrolling."""

from collections.abc import Callable
from decimal import Decimal

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
    expect(ship_to).to_contain_text("Demo")  # the receiver's first name
    expect(ship_to).to_contain_text("CA")  # and country


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
    for path in ["/vendor", f"/vendor/purchases/{demo.baltic_purchase_id}", "/vendor/feeds"]:
        vendor.goto(path)
        if (extra := _overflow(vendor)) > 0:
            too_wide[path] = extra
    assert too_wide == {}
    admin.goto(f"/inventory/{demo.variant_ids[0]}")
    shot(admin, "phone-variant-detail")
