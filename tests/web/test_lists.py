"""A merchant's lists as daily tools: the header search, date ranges kept in the URL, CSV
exports of exactly what the list shows (a vendor user's only its own rows), and bulk actions
that report each row."""

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from dropwire.auth.service import create_api_user
from dropwire.core.db import Database
from dropwire.delivery.models import Delivery, DeliveryState, EndpointOwner, WebhookEndpoint
from dropwire.sales.models import CancellationStatus, Purchase, Sale
from dropwire.web.search import customer_email, vendor_name_key
from tests.web.conftest import ADMIN, OTHER_VENDOR, VENDOR, Demo, shot, sign_in

NewPage = Callable[..., Page]


def _download(page: Page, link: str = "[data-testid=download-csv]") -> list[list[str]]:
    with page.expect_download() as info:
        page.click(link)
    path = info.value.path()
    with open(path, encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _search(page: Page, words: str) -> None:
    page.fill(".site-search input[name=for]", words)
    page.press(".site-search input[name=for]", "Enter")
    page.wait_for_url("**/search?for=*")


# --- search ---------------------------------------------------------------------------------


def test_the_header_search_finds_sales_skus_emails_and_vendors(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    with database.transaction() as session:
        luc = session.get(Sale, demo.sale_ids[1])
        assert luc is not None
        luc_reference = luc.reference
        purchase_reference = luc.purchases[0].external_reference
    page = new_page()
    sign_in(page, ADMIN)

    _search(page, "LUC.Tremblay@")  # the start of an email, any case
    sales = page.locator("#found-sales tbody tr")
    expect(sales).to_have_count(1)
    expect(sales).to_contain_text("Luc Tremblay")
    shot(page, "search")
    sales.get_by_role("link", name=luc_reference).click()
    expect(page.locator("#customer")).to_contain_text("luc.tremblay@example.com")

    _search(page, luc_reference)  # a sale's reference: the sale and its purchase orders
    expect(page.locator("#found-sales")).to_contain_text(luc_reference)
    expect(page.locator("#found-purchases")).to_contain_text(purchase_reference)

    _search(page, "bl-duvet")  # a SKU's start, any case: the variant and the vendor's item
    expect(page.locator("#found-variants tbody tr")).to_contain_text("BL-DUVET-KING")
    page.locator("#found-variants a", has_text="BL-DUVET-KING").click()
    expect(page).to_have_url(re.compile(r"/inventory/\d+$"))

    _search(page, "baltic")  # a vendor's name
    vendors = page.locator("#found-vendors tbody tr")
    expect(vendors).to_have_count(1)
    vendors.get_by_role("link", name="Baltic Linen Co.").click()
    expect(page.locator("h1")).to_contain_text("Baltic Linen Co.")

    _search(page, "nothing-starts-like-this%_")
    expect(page.get_by_test_id("no-results")).to_be_visible()


def test_a_vendor_user_has_no_search(new_page: NewPage, demo: Demo) -> None:
    page = new_page()
    sign_in(page, VENDOR)
    expect(page.locator(".site-search")).to_have_count(0)
    assert page.goto("/search?for=10001") is not None
    expect(page.locator("h1")).to_have_text("Not found")


def _plan(database: Database, sql: str) -> str:
    with database.transaction() as session:
        if database.dialect == "postgresql":
            session.execute(text("SET LOCAL enable_seqscan = off"))
            rows = session.execute(text(f"EXPLAIN {sql}")).scalars()
            return "\n".join(str(row) for row in rows)
        return "\n".join(
            str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
        )


def test_search_reads_emails_and_vendor_names_from_their_indexes(
    database: Database, demo: Demo
) -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    from dropwire.web.search import expression_starts_with

    dialect = database.dialect
    compiler = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    for expression, table, index in (
        (customer_email(dialect), "sales", "ix_sales_customer_email"),
        (vendor_name_key(), "dropship_providers", "ix_dropship_providers_name_key"),
    ):
        condition = expression_starts_with(dialect, expression, "luc")
        where = condition.compile(dialect=compiler, compile_kwargs={"literal_binds": True})
        # as PostgreSQL's `enable_seqscan = off`: whether the index can serve the search, not
        # whether a planner with statistics of the demo's few rows would rather scan them
        # (SQLite's ANALYZE, which the maintenance job runs, made it scan the demo's vendors)
        hint = f" INDEXED BY {index}" if dialect == "sqlite" else ""
        assert index in _plan(database, f"SELECT id FROM {table}{hint} WHERE {where}")
    if dialect == "postgresql":
        reference = "SELECT id FROM sales WHERE reference LIKE '1000%'"
        assert "ix_sales_reference_prefix" in _plan(database, reference)


# --- date ranges ----------------------------------------------------------------------------


def _rows(page: Page, table: str) -> list[str]:
    return page.locator(f"#{table} tbody tr td:nth-child(2)").all_inner_texts()


def test_sales_and_purchase_orders_filter_by_date_kept_in_the_url(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    days = [datetime(2026, 11, 2, 23, 30, tzinfo=UTC), datetime(2026, 11, 3, 8, 0, tzinfo=UTC)]
    days.append(datetime(2026, 11, 5, 0, 0, tzinfo=UTC))
    with database.transaction() as session:
        references = []
        for sale_id, moment in zip(demo.sale_ids, days, strict=True):
            session.execute(update(Sale).where(Sale.id == sale_id).values(created_at=moment))
            session.execute(
                update(Purchase).where(Purchase.sale_id == sale_id).values(created_at=moment)
            )
            references.append(session.get(Sale, sale_id).reference)  # type: ignore[union-attr]
    page = new_page()
    sign_in(page, ADMIN, path="/sales")
    page.fill("input[name=from]", "2026-11-03")
    page.fill("input[name=to]", "2026-11-05")  # both days included
    page.click("form.filters button[type=submit]")
    expect(page.locator("#sales tbody tr")).to_have_count(2)
    assert sorted(_rows(page, "sales")) == sorted(references[1:])
    page.locator("#sales th a", has_text="Reference").click()  # sorting keeps the range
    query = parse_qs(urlparse(page.url).query)
    assert (query["from"], query["to"], query["sort"]) == (
        ["2026-11-03"],
        ["2026-11-05"],
        ["reference"],
    )
    assert _rows(page, "sales") == sorted(references[1:])
    expect(page.locator("input[name=from]")).to_have_value("2026-11-03")

    page.goto("/purchases?to=2026-11-02")
    purchases = page.locator("#purchases tbody tr[data-purchase]")
    assert purchases.count() >= 1
    for sale in page.locator("#purchases tbody tr td:nth-child(3)").all_inner_texts():
        assert sale == references[0]

    response = page.goto("/sales?from=yesterday")
    assert response is not None and response.status == 422
    expect(page.locator("main")).to_contain_text("'from' must be a date")
    response = page.goto("/sales?from=2026-11-05&to=2026-11-03")
    assert response is not None and response.status == 422


def test_a_day_is_a_day_in_the_viewers_time_zone() -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    from dropwire.web.listings import day_bounds

    since, until = day_bounds(date(2026, 7, 1), date(2026, 7, 1), ZoneInfo("Europe/Berlin"))
    assert since is not None and until is not None
    assert since.astimezone(UTC) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    assert until.astimezone(UTC) == datetime(2026, 7, 1, 22, 0, tzinfo=UTC)


# --- CSV ------------------------------------------------------------------------------------


def test_every_list_downloads_its_rows_as_csv_with_its_filters_and_sort(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    with database.transaction() as session:
        sale = session.get(Sale, demo.sale_ids[0])
        assert sale is not None
        session.execute(  # a customer-chosen id that a spreadsheet would run as a formula
            update(Sale).where(Sale.id == sale.id).values(external_id="=HYPERLINK(1)")
        )
        open_sales = session.scalars(
            select(Sale.reference)
            .where(Sale.cancellation_status != CancellationStatus.full)
            .order_by(Sale.reference.desc())
        ).all()
        create_api_user(session, name="=cmd|' /C calc'!A0", dropship_provider_id=demo.baltic_id)
    page = new_page()
    sign_in(page, ADMIN, path="/sales?cancellation=none&sort=reference&dir=desc")
    rows = _download(page)
    assert rows[0][:3] == ["Reference", "Channel", "External id"]
    assert [row[0] for row in rows[1:]] == list(open_sales)
    assert "'=HYPERLINK(1)" in [row[2] for row in rows[1:]]

    for path in (
        "/purchases",
        "/inventory",
        "/vendors",
        "/feeds",
        "/api-logs",
        "/deliveries",
        "/jobs",
        "/users",
        "/tokens",
        "/mail",
    ):
        page.goto(path)
        shown = page.locator("main table tbody tr:not(:has(td.muted))").count()
        rows = _download(page)
        assert len(rows) - 1 == shown, path  # every row of the (single) page, and a header

    page.goto("/tokens")
    tokens = _download(page)  # a name a spreadsheet would run is quoted
    assert tokens[1][:2] == ["'=cmd|' /C calc'!A0", "Vendor: Baltic Linen Co."]
    page.goto("/users?sort=email&dir=desc")
    people = _download(page)
    assert people[0][:4] == ["Email", "Name", "Role", "Vendor"]
    assert [row[0] for row in people[1:]] == sorted((row[0] for row in people[1:]), reverse=True)
    assert [ADMIN, "", "Admin", ""] in [row[:4] for row in people[1:]]

    page.goto("/inventory?q=BL-")
    rows = _download(page)
    assert {row[0] for row in rows[1:]} == {"BL-DUVET-KING"} or all(
        row[0].startswith("BL-") for row in rows[1:]
    )
    assert rows[0][-3:] == ["Stocked", "Allocated", "Available"]


def test_a_vendor_user_exports_only_its_own_rows(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    with database.transaction() as session:
        create_api_user(session, name="baltic-erp", dropship_provider_id=demo.baltic_id)
        create_api_user(session, name="northwind-erp", dropship_provider_id=demo.northwind_id)
        own = set(
            session.scalars(
                select(Purchase.external_reference).where(
                    Purchase.dropship_provider_id == demo.baltic_id
                )
            )
        )
    page = new_page()
    sign_in(page, VENDOR, path="/vendor")
    rows = _download(page)
    assert {row[0] for row in rows[1:]} == own
    page.goto(f"/vendor?vendor={demo.northwind_id}")  # another vendor's id changes nothing
    rows = _download(page)
    assert {row[0] for row in rows[1:]} == own
    page.goto("/vendor/inventory")
    rows = _download(page)
    assert rows[1:] and all("Baltic" in row[2] or row[2] for row in rows[1:])
    page.goto("/vendor/tokens")
    assert [row[0] for row in _download(page)[1:]] == ["baltic-erp"]  # never another's
    response = page.goto("/purchases.csv")  # the merchant's lists are not a vendor's
    assert response is not None and response.status == 404

    other = new_page()
    sign_in(other, OTHER_VENDOR, path="/vendor")
    rows = _download(other)
    assert own.isdisjoint(row[0] for row in rows[1:])


def test_a_large_export_streams_in_batches(database: Database, demo: Demo) -> None:
    """More rows than a batch: each batch starts after the last row sent, none twice."""
    from starlette.datastructures import QueryParams

    from dropwire.web import exports
    from dropwire.web.listings import SALES, Scope

    with database.transaction() as session:
        channel_id = session.scalar(select(Sale.channel_id))
        session.execute(
            Sale.__table__.insert(),
            [
                {
                    "channel_id": channel_id,
                    "external_id": f"bulk-{n}",
                    "reference": f"B{n:05d}",
                    "customer": {},
                    "sale_defaults": {},
                    "shipping": [],
                    "options": {},
                    "dropship_problems": [],
                    "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                    "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
                }
                for n in range(2500)
            ],
        )
    from zoneinfo import ZoneInfo

    chunks = list(
        exports.stream_csv(
            database,
            SALES,
            QueryParams("sort=reference&dir=asc&q="),
            Scope(vendor_id=None, zone=ZoneInfo("UTC")),
        )
    )
    assert len(chunks) >= 3
    rows = list(csv.reader(io.StringIO("".join(chunks))))[1:]
    references = [row[0] for row in rows]
    assert len(references) == 2500 + len(demo.sale_ids)
    assert references == sorted(references) and len(set(references)) == len(references)


# --- bulk actions ---------------------------------------------------------------------------


def test_cancel_selected_sales_reports_each_one(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    with database.transaction() as session:
        open_sale = session.get(Sale, demo.sale_ids[0])
        cancelled = session.get(Sale, demo.sale_ids[2])
        assert open_sale is not None and cancelled is not None
        open_reference, cancelled_reference = open_sale.reference, cancelled.reference
    page = new_page()
    sign_in(page, ADMIN, path="/sales?sort=reference&dir=asc")
    page.check(f"tr[data-sale='{demo.sale_ids[0]}'] input[name=ids]")
    page.check(f"tr[data-sale='{demo.sale_ids[2]}'] input[name=ids]")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk button")
    flash = page.locator(".flash")
    expect(flash).to_contain_text("1 done, 1 refused")
    expect(flash).to_contain_text(f"Cancelled: {open_reference}")
    expect(flash.locator("li")).to_have_text(
        [f"Sale {cancelled_reference}: refused — nothing left to cancel"]
    )
    assert "sort=reference" in page.url  # back on the list as it was
    with database.transaction() as session:
        sale = session.get(Sale, demo.sale_ids[0])
        assert sale is not None and sale.cancellation_status == CancellationStatus.full

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk button")  # nothing ticked
    expect(page.locator(".flash-error")).to_contain_text("Select at least one row")


def test_a_bulk_action_needs_the_pages_csrf_token(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    page = new_page()
    sign_in(page, ADMIN, path="/sales")
    response = page.request.post("/sales/bulk/cancel", form={"ids": str(demo.sale_ids[0])})
    assert response.status == 403
    with database.transaction() as session:
        sale = session.get(Sale, demo.sale_ids[0])
        assert sale is not None and sale.cancellation_status == CancellationStatus.none


def test_resend_selected_purchase_orders_and_retry_selected_deliveries(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    with database.transaction() as session:
        baltic = session.get(Purchase, demo.baltic_purchase_id)
        in_house = session.scalars(
            select(Purchase).where(Purchase.dropship_provider_id.is_(None))
        ).first()
        assert baltic is not None and in_house is not None
        baltic_reference, in_house_reference, in_house_id = (
            baltic.external_reference,
            in_house.external_reference,
            in_house.id,
        )
        endpoint = WebhookEndpoint(
            owner_type=EndpointOwner.vendor,
            owner_id=demo.baltic_id,
            url="http://127.0.0.1:9/orders",
            secret="s" * 32,
        )
        session.add(endpoint)
        session.flush()
        dead, delivered = (
            Delivery(
                event="purchase.created",
                endpoint_id=endpoint.id,
                url=endpoint.url,
                subject_type="purchase",
                subject_id=baltic.id,
                body={},
                state=state,
                attempts=3,
            )
            for state in (DeliveryState.dead, DeliveryState.delivered)
        )
        session.add_all([dead, delivered])
        session.flush()
        dead_id, delivered_id = dead.id, delivered.id

    with database.transaction() as session:
        emails_before = _emails(session, demo.baltic_purchase_id)
    page = new_page()
    sign_in(page, ADMIN, path="/purchases")
    page.check(f"tr[data-purchase='{demo.baltic_purchase_id}'] input[name=ids]")
    page.check(f"tr[data-purchase='{in_house_id}'] input[name=ids]")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk button")
    flash = page.locator(".flash")
    expect(flash).to_contain_text(f"Sent again: {baltic_reference}")
    expect(flash.locator("li")).to_contain_text(
        [f"Purchase order {in_house_reference}: refused — an in-house order"]
    )
    with database.transaction() as session:  # Baltic takes its orders by email: one more
        assert _emails(session, demo.baltic_purchase_id) == emails_before + 1

    page.goto("/deliveries")
    expect(page.locator(f"tr[data-delivery='{delivered_id}'] input[name=ids]")).to_have_count(0)
    page.check("th.pick input[data-select-all]")  # every retryable row of the page
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk button")
    expect(page.locator(".flash-ok")).to_contain_text(f"Sent again now: #{dead_id}")
    with database.transaction() as session:
        retried = session.get(Delivery, dead_id)
        assert retried is not None and retried.state == DeliveryState.pending
        untouched = session.get(Delivery, delivered_id)
        assert untouched is not None and untouched.state == DeliveryState.delivered

    response = page.request.post(  # a delivered one named by hand is refused, not sent again
        "/deliveries/bulk/retry",
        form={"ids": str(delivered_id), "csrf_token": _csrf(page)},
        max_redirects=0,
    )
    assert response.status == 303
    page.goto("/deliveries")
    expect(page.locator(".flash-error li")).to_have_text(
        [f"Delivery #{delivered_id}: refused — it is delivered, nothing to retry"]
    )


def _emails(session: Session, purchase_id: int) -> int:
    from dropwire.mail.models import EmailMessage

    count = select(func.count(EmailMessage.id)).where(EmailMessage.purchase_id == purchase_id)
    return int(session.scalar(count) or 0)


def _csrf(page: Page) -> str:
    value = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert value
    return value


@pytest.mark.parametrize("path", ["/sales", "/purchases", "/deliveries", "/jobs", "/search?for=1"])
def test_list_tools_fit_a_phone(new_page: NewPage, demo: Demo, path: str) -> None:
    page = new_page(width=390, height=844)
    sign_in(page, ADMIN, path=path)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_vendor_names_are_matched_from_their_start(database: Database, demo: Demo) -> None:
    from dropwire.web.search import find

    with database.transaction() as session:
        names = [row.name for row in find(session, text="kettle").vendors]
        assert names == ["Kettle & Kiln"]
        assert find(session, text="northwind outdoor").vendors[0].name == "Northwind Outdoor"
        assert find(session, text="outdoor").vendors == []  # the start of the name, not any word


def test_a_feeds_items_and_runs_download_and_another_vendors_feed_is_not_found(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant

    with database.transaction() as session:
        baltic_feed = session.scalars(
            select(InventoryFeed).where(InventoryFeed.dropship_provider_id == demo.baltic_id)
        ).first()
        other_feed = session.scalars(
            select(InventoryFeed).where(InventoryFeed.dropship_provider_id == demo.northwind_id)
        ).first()
        assert baltic_feed is not None and other_feed is not None
        skus = sorted(
            session.scalars(
                select(InventoryFeedVariant.vendor_sku).where(
                    InventoryFeedVariant.inventory_feed_id == baltic_feed.id
                )
            )
        )
    page = new_page()
    sign_in(page, VENDOR, path=f"/vendor/feeds/{baltic_feed.id}?sort=sku&dir=asc")
    rows = _download(page)
    assert rows[0][0] == "Vendor SKU" and [row[0] for row in rows[1:]] == skus
    page.goto(f"/vendor/feeds/{baltic_feed.id}/runs")
    assert _download(page)[0][:2] == ["Run", "Status"]
    for path in (f"/vendor/feeds/{other_feed.id}/items.csv", f"/feeds/{baltic_feed.id}/items.csv"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path


def test_date_ranges_read_the_creation_date_indexes(database: Database, demo: Demo) -> None:
    for table, index in (
        ("sales", "ix_sales_created_at"),
        ("purchases", "ix_purchases_created_at"),
    ):
        sql = (
            f"SELECT id FROM {table} WHERE created_at >= '2026-11-03' AND created_at < '2026-11-06'"
        )
        assert index in _plan(database, sql), table
